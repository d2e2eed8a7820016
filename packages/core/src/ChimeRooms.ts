/**
 * The `ChimeRooms` service: one `ListRooms` page, nothing more. The `http` package implements it
 * over the wire, the `testing` package in memory; the `stream` package builds streams on any of them.
 *
 * @since 0.1.0
 */
import type * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type { ChimeError } from "./ChimeError.js"
import type { ListRoomsRequest } from "./ListRoomsRequest.js"
import type { ListRoomsOutput } from "./ListRoomsResponse.js"

/**
 * The shape of a `ChimeRooms` implementation.
 *
 * @category models
 * @since 0.1.0
 */
export interface ChimeRoomsService {
  /**
   * Fetches one page. Implementations validate the request (an invalid one fails with
   * `InvalidRequestError` before anything is sent) and never throw.
   */
  readonly listRooms: (request: ListRoomsRequest) => Effect.Effect<ListRoomsOutput, ChimeError>
  /**
   * Optional: the same call started outside any fiber (named, as every synchronous twin of a
   * service method here, with Effect's `unsafe` prefix), for a caller that wants the next page on
   * the wire straight from the callback that delivered this one (the stream does, to keep the
   * Effect runtime off the path between a response and the next request). `done` is called once,
   * possibly before this returns; the result aborts the call, after which `done` is not called.
   * `undefined` means "not now" (say, `clock` is not the one this implementation runs on): the
   * caller uses `listRooms` instead. `onNextToken`, when given, may hear the page's `NextToken`
   * before `done`, as soon as the body is in (before it is parsed or its rooms are validated). It
   * is a guess: the page can still fail, or decode to another token; `done` has the last word.
   */
  readonly unsafeListRooms?: (
    request: ListRoomsRequest,
    clock: Clock.Clock,
    done: (exit: Exit.Exit<ListRoomsOutput, ChimeError>) => void,
    onNextToken?: (token: string) => void
  ) => (() => void) | undefined
}

/**
 * The service tag.
 *
 * @example
 * ```ts
 * import { ChimeRooms } from "@chime-rooms/core"
 * import { Effect } from "effect"
 *
 * // Needs a ChimeRooms layer: HttpChimeRooms.layer(...) or InMemory.layer(...)
 * const program = Effect.gen(function*() {
 *   const page = yield* ChimeRooms.listRooms({ AccountId: "acc-1", MaxResults: 50 })
 *   return page.Rooms.length
 * })
 * ```
 *
 * @category tags
 * @since 0.1.0
 */
export class ChimeRooms extends Context.Tag("@chime-rooms/core/ChimeRooms")<ChimeRooms, ChimeRoomsService>() {}

/**
 * Fetches one page through whichever `ChimeRooms` is provided.
 *
 * @category accessors
 * @since 0.1.0
 */
export const listRooms = (request: ListRoomsRequest): Effect.Effect<ListRoomsOutput, ChimeError, ChimeRooms> =>
  Effect.flatMap(ChimeRooms, (service) => service.listRooms(request))
