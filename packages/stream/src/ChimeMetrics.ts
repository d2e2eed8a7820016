/**
 * What the streams and resilient calls count: Effect `Metric`s (global, for exporters) and a
 * cheap per-layer snapshot (`ChimeMetrics.snapshot`) a CLI can poll for live progress.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { ChimeRateLimiter } from "./ChimeRateLimiter.js"

/**
 * The Effect metrics every stream and resilient call records into.
 *
 * @since 0.1.0
 */
export {
  /**
   * Pages delivered to a consumer.
   *
   * @category metrics
   * @since 0.1.0
   */
  pagesTotal,
  /**
   * The limiter's current rate in requests per second (0 while unlimited).
   *
   * @category metrics
   * @since 0.1.0
   */
  rateLimitGauge,
  /**
   * Requests sent (every attempt).
   *
   * @category metrics
   * @since 0.1.0
   */
  requestsTotal,
  /**
   * Retries scheduled.
   *
   * @category metrics
   * @since 0.1.0
   */
  retriesTotal,
  /**
   * Rooms delivered to a consumer.
   *
   * @category metrics
   * @since 0.1.0
   */
  roomsTotal,
  /**
   * Throttling responses received.
   *
   * @category metrics
   * @since 0.1.0
   */
  throttlesTotal
} from "./internal/metrics.js"

/**
 * A point-in-time view of one layer's activity.
 *
 * @category models
 * @since 0.1.0
 */
export interface StreamStats {
  /** Pages received successfully. */
  readonly pages: number
  /** Rooms received. */
  readonly rooms: number
  /** Requests sent (each attempt counts). */
  readonly requests: number
  /** Retries scheduled. */
  readonly retries: number
  /** Throttling responses received. */
  readonly throttles: number
  /** Calls that failed for good (after any retries). */
  readonly failures: number
  /** The limiter's rate in requests per second; `undefined` while unlimited. */
  readonly currentRate: number | undefined
}

/**
 * The per-layer counters behind {@link StreamStats}. Recording is synchronous and allocation-free:
 * it runs on every request.
 *
 * @category models
 * @since 0.1.0
 */
export interface ChimeMetricsService {
  readonly snapshot: Effect.Effect<StreamStats>
  /** One request sent. */
  readonly recordRequest: () => void
  /** One retry scheduled. */
  readonly recordRetry: () => void
  /** One throttling response. */
  readonly recordThrottle: () => void
  /** One call failed for good. */
  readonly recordFailure: () => void
  /** One page of `rooms` rooms received. */
  readonly recordPage: (rooms: number) => void
}

/**
 * The stats service. Optional: streams and resilient calls record into it when it is provided
 * (`Resilience.layer` does) and skip it otherwise.
 *
 * @example
 * ```ts
 * import { ChimeMetrics } from "@chime-rooms/stream"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const stats = yield* ChimeMetrics.snapshot // { pages, rooms, retries, throttles, currentRate, ... }
 *   return stats.pages
 * })
 * ```
 *
 * @category tags
 * @since 0.1.0
 */
export class ChimeMetrics
  extends Context.Tag("@chime-rooms/stream/ChimeMetrics")<ChimeMetrics, ChimeMetricsService>()
{}

/**
 * The current snapshot of the provided stats service: cheap enough to poll for a progress line.
 *
 * @category accessors
 * @since 0.1.0
 */
export const snapshot: Effect.Effect<StreamStats, never, ChimeMetrics> = Effect.flatMap(
  ChimeMetrics,
  (metrics) => metrics.snapshot
)

/**
 * Builds a stats service whose `currentRate` reads `rate`; each run of the effect makes fresh counters.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (rate: Effect.Effect<number | undefined>): Effect.Effect<ChimeMetricsService> =>
  Effect.sync(() => unsafeMake(rate))

const unsafeMake = (rate: Effect.Effect<number | undefined>): ChimeMetricsService => {
  let pages = 0
  let rooms = 0
  let requests = 0
  let retries = 0
  let throttles = 0
  let failures = 0
  return {
    snapshot: Effect.map(
      rate,
      (currentRate) => ({ pages, rooms, requests, retries, throttles, failures, currentRate })
    ),
    recordRequest: () => {
      requests++
    },
    recordRetry: () => {
      retries++
    },
    recordThrottle: () => {
      throttles++
    },
    recordFailure: () => {
      failures++
    },
    recordPage: (n) => {
      pages++
      rooms += n
    }
  }
}

/**
 * A fresh stats service reading the rate of the provided limiter.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer: Layer.Layer<ChimeMetrics, never, ChimeRateLimiter> = Layer.effect(
  ChimeMetrics,
  Effect.flatMap(ChimeRateLimiter, (limiter) => make(limiter.currentRate))
)
