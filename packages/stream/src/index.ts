/**
 * @chime-rooms/stream — from pages to a `Stream` of rooms: backpressure, retries in place,
 * Retry-After, a shared retry budget and rate limiter, metrics and spans.
 *
 * @since 0.1.0
 */
/**
 * Stats snapshot and Effect metrics: `snapshot`, `requestsTotal`, …
 *
 * @since 0.1.0
 */
export * as ChimeMetrics from "./ChimeMetrics.js"
/**
 * The shared rate limiter: `layerFixed`, `layerAdaptive`, `layerUnlimited`.
 *
 * @since 0.1.0
 */
export * as ChimeRateLimiter from "./ChimeRateLimiter.js"
/**
 * The streams: `pages`, `rooms`, `layer`.
 *
 * @since 0.1.0
 */
export * as ChimeRoomsStream from "./ChimeRoomsStream.js"
/**
 * The shared services in one layer: `layer`.
 *
 * @since 0.1.0
 */
export * as Resilience from "./Resilience.js"
/**
 * Resilient single calls: `layer`, `listRooms`.
 *
 * @since 0.1.0
 */
export * as ResilientChimeRooms from "./ResilientChimeRooms.js"
/**
 * The shared retry budget: `layer`, `layerUnlimited`, `available`.
 *
 * @since 0.1.0
 */
export * as RetryBudget from "./RetryBudget.js"
/**
 * Retry policies: `defaultPolicy`, `make`, `backoff`, `fromSchedule`, `none`.
 *
 * @since 0.1.0
 */
export * as RetryPolicy from "./RetryPolicy.js"
/**
 * The adaptive limiter's model on its own, driven by the caller's clock: `make`, `encode`, `decode`.
 *
 * @since 0.2.0
 */
export * as ServerModel from "./ServerModel.js"
