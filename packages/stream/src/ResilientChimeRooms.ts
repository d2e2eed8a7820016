/**
 * Single-page calls with the same resilience as the streams: a `ChimeRooms` decorator whose
 * `listRooms` passes through the layer's rate limiter, the retry policy and the retry budget.
 *
 * @since 0.1.0
 */
import { type ChimeError, ChimeRooms, type ListRoomsRequest, type ListRoomsResponse } from "@chime-rooms/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { ChimeRateLimiter } from "./ChimeRateLimiter.js"
import { decorate, env, fetchPage, span, telemetry } from "./internal/resilient.js"
import type { RetryBudget } from "./RetryBudget.js"
import type { RetryPolicy } from "./RetryPolicy.js"

/**
 * Options of {@link layer} and {@link listRooms}.
 *
 * @category models
 * @since 0.1.0
 */
export interface ResilientOptions {
  /** The retry policy; default `RetryPolicy.defaultPolicy`. */
  readonly retry?: RetryPolicy
}

/**
 * One page through the limiter, retry policy and budget, with the number of attempts it took.
 *
 * @example
 * ```ts
 * import { ResilientChimeRooms } from "@chime-rooms/stream"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const { attempts, output } = yield* ResilientChimeRooms.listRooms({ AccountId: "acc-1" })
 *   return [output.Rooms.length, attempts]
 * })
 * ```
 *
 * @category accessors
 * @since 0.1.0
 */
export const listRooms = (
  request: ListRoomsRequest.ListRoomsRequest,
  options?: ResilientOptions
): Effect.Effect<
  { readonly output: ListRoomsResponse.ListRoomsOutput; readonly attempts: number },
  ChimeError.ChimeError,
  ChimeRooms.ChimeRooms | ChimeRateLimiter | RetryBudget
> =>
  Effect.flatMap(
    env(options?.retry),
    (e) => span(e, telemetry.callSpan, { [telemetry.account]: request.AccountId }, fetchPage(e, request))
  )

/**
 * Replaces the provided `ChimeRooms` with one whose every call waits for the limiter and is
 * retried by the policy within the budget. Streams built over it recognise it and use the
 * service underneath, so a page is never retried twice over.
 *
 * @example
 * ```ts
 * import { CredentialsChain, HttpChimeRooms, UndiciHttpClient } from "@chime-rooms/http"
 * import { Resilience, ResilientChimeRooms } from "@chime-rooms/stream"
 * import { Layer } from "effect"
 *
 * const Live = ResilientChimeRooms.layer().pipe(
 *   Layer.provide(HttpChimeRooms.layer()),
 *   Layer.provide(UndiciHttpClient.layer),
 *   Layer.provide(CredentialsChain.layer()),
 *   Layer.provideMerge(Resilience.layer())
 * )
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  options?: ResilientOptions
): Layer.Layer<ChimeRooms.ChimeRooms, never, ChimeRooms.ChimeRooms | ChimeRateLimiter | RetryBudget> =>
  Layer.effect(
    ChimeRooms.ChimeRooms,
    Effect.map(env(options?.retry), (e) =>
      decorate(e.service, (request) =>
        span(
          e,
          telemetry.callSpan,
          { [telemetry.account]: request.AccountId },
          Effect.map(fetchPage(e, request), (fetched) => fetched.output)
        )))
  )
