/**
 * The services every stream and resilient call shares, in one layer: a rate limiter (adaptive by
 * default), a retry budget and the stats behind `ChimeMetrics.snapshot`.
 *
 * @since 0.1.0
 */
import { Layer } from "effect"
import * as ChimeMetrics from "./ChimeMetrics.js"
import * as ChimeRateLimiter from "./ChimeRateLimiter.js"
import * as RetryBudget from "./RetryBudget.js"

/**
 * Options of {@link layer}.
 *
 * @since 0.1.0
 */
export interface ResilienceOptions {
  /** The limiter; default `ChimeRateLimiter.layerAdaptive()`. */
  readonly rateLimiter?: Layer.Layer<ChimeRateLimiter.ChimeRateLimiter>
  /** Budget numbers, or `"unlimited"`; default the AWS standard-mode bucket. */
  readonly retryBudget?: RetryBudget.RetryBudgetOptions | "unlimited"
}

/**
 * Everything the streams need besides `ChimeRooms`. Build it once and share it: every stream
 * on it then shares one limiter and one budget.
 *
 * @example
 * program.pipe(Effect.provide(Resilience.layer()), Effect.provide(HttpChimeRooms.layer))
 * @since 0.1.0
 */
export const layer = (
  options?: ResilienceOptions
): Layer.Layer<ChimeRateLimiter.ChimeRateLimiter | RetryBudget.RetryBudget | ChimeMetrics.ChimeMetrics> => {
  const limiter = options?.rateLimiter ?? ChimeRateLimiter.layerAdaptive()
  const budget = options?.retryBudget === "unlimited"
    ? RetryBudget.layerUnlimited
    : RetryBudget.layer(options?.retryBudget)
  return Layer.mergeAll(ChimeMetrics.layer, budget).pipe(Layer.provideMerge(limiter))
}
