/**
 * How `HttpChimeRooms` finds the fast path of `UndiciHttpClient`'s own client without importing
 * it: the client carries the path's factory under a symbol (clients derived from it, by
 * `mapRequest` or any middleware, do not). A program that never builds that client, one on
 * `FetchHttpClient` say, bundles none of the fast path, its signer or the undici machinery.
 */
import type { ChimeError, ChimeRooms, ListRoomsResponse } from "@chime-rooms/core"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type * as Effect from "effect/Effect"
import type * as ChimeConfig from "../ChimeConfig.js"
import type * as Credentials from "../Credentials.js"
import type { ClockOffset } from "./clockOffset.js"

/** The key of the factory on the client. */
export const FastPathTypeId: unique symbol = Symbol.for("@chime-rooms/http/UndiciHttpClient/fastPath")

/** What the fast path shares with `HttpChimeRooms`' general path. */
export interface FastPathEnv {
  readonly config: ChimeConfig.ChimeConfig
  readonly credentials: Credentials.CredentialsService
  /** The learned clock offset, the one both paths sign with. */
  readonly clockOffset: ClockOffset
  /** One request the general way, from its URL: signed by `withSigV4`, timed, decoded. */
  readonly general: (url: string) => Effect.Effect<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError>
  /** A response decoded the general way. */
  readonly decode: (
    response: HttpClientResponse.HttpClientResponse
  ) => Effect.Effect<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError>
  readonly toChimeError: (error: HttpClientError.HttpClientError | ChimeError.ChimeError) => ChimeError.ChimeError
  /** The per-attempt timeout as the exchange's own timer; `Infinity` for none. */
  readonly timeoutMillis: number
}

/** The service's calls over the fast path (each falls back to `general` when it must). */
export type FastListRooms = Required<Pick<ChimeRooms.ChimeRoomsService, "listRooms" | "unsafeListRooms">>

/** Builds the fast path for an environment, or `undefined` when it cannot be taken. */
export type FastPathFactory = (env: FastPathEnv) => FastListRooms | undefined

/** The fast path factory of an unwrapped `UndiciHttpClient` client; `undefined` for any other client. */
export const fastPathOf = (client: object): FastPathFactory | undefined =>
  FastPathTypeId in client ? (client as { [FastPathTypeId]: FastPathFactory })[FastPathTypeId] : undefined
