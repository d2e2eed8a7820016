/**
 * The services every stream and resilient call shares, in one layer: a rate limiter (adaptive by
 * default), a retry budget and the stats behind `ChimeMetrics.snapshot`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ChimeMetrics from "./ChimeMetrics.js"
import * as ChimeRateLimiter from "./ChimeRateLimiter.js"
import * as RetryBudget from "./RetryBudget.js"

/**
 * Options of {@link layer}.
 *
 * @category models
 * @since 0.1.0
 */
export interface ResilienceOptions<E = never, R = never> {
  /**
   * The limiter; default `ChimeRateLimiter.layerAdaptive()`. Its errors and needs become the
   * layer's (a Redis limiter's layer fails when it cannot connect, and may need `Credentials`).
   */
  readonly rateLimiter?: Layer.Layer<ChimeRateLimiter.ChimeRateLimiter, E, R>
  /** Budget numbers, or `"unlimited"`; default the AWS standard-mode bucket. */
  readonly retryBudget?: RetryBudget.RetryBudgetOptions | "unlimited"
}

/**
 * Everything the streams need besides `ChimeRooms`. Build it once and share it: every stream
 * on it then shares one limiter and one budget.
 *
 * One layer, not a composition of the three services' own: Effect's layer graph costs some 170
 * effect operations per layer built and 400–550 more per `merge` or `provide`, all of it run cold
 * before the first request. Measured, building the default this way fell from 1,330 operations
 * to 178 (see `packages/stream/CHANGELOG.md`).
 *
 * @example
 * ```ts
 * import { CredentialsChain, HttpChimeRooms, UndiciHttpClient } from "@chime-rooms/http"
 * import { ChimeRoomsStream, Resilience } from "@chime-rooms/stream"
 * import { Effect, Layer, Stream } from "effect"
 *
 * const http = HttpChimeRooms.layer().pipe(
 *   Layer.provide(UndiciHttpClient.layer),
 *   Layer.provide(CredentialsChain.layer())
 * )
 * const program = ChimeRoomsStream.rooms({ AccountId: "acc-1" }).pipe(Stream.runCount)
 * program.pipe(Effect.provide(Resilience.layer()), Effect.provide(http))
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = <E = never, R = never>(
  options?: ResilienceOptions<E, R>
): Layer.Layer<ChimeRateLimiter.ChimeRateLimiter | RetryBudget.RetryBudget | ChimeMetrics.ChimeMetrics, E, R> => {
  const budget = options?.retryBudget === "unlimited"
    ? Effect.succeed(RetryBudget.unlimited)
    : RetryBudget.make(options?.retryBudget)
  const around = (limiter: ChimeRateLimiter.ChimeRateLimiterService) =>
    Effect.zipWith(
      budget,
      ChimeMetrics.make(limiter.currentRate),
      (retryBudget, metrics) =>
        Context.make(ChimeRateLimiter.ChimeRateLimiter, limiter).pipe(
          Context.add(RetryBudget.RetryBudget, retryBudget),
          Context.add(ChimeMetrics.ChimeMetrics, metrics)
        )
    )
  return options?.rateLimiter === undefined
    ? Layer.effectContext(Effect.flatMap(ChimeRateLimiter.makeAdaptive(), around))
    : Layer.effectContext(Effect.flatMap(ChimeRateLimiter.ChimeRateLimiter, around)).pipe(
      Layer.provide(options.rateLimiter)
    )
}
