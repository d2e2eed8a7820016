/**
 * @chime-rooms/stream — from pages to a `Stream` of rooms: backpressure, retries in place,
 * Retry-After, a shared retry budget and rate limiter, metrics and spans.
 *
 * @since 0.1.0
 */
export * as ChimeMetrics from "./ChimeMetrics.js"
export * as ChimeRateLimiter from "./ChimeRateLimiter.js"
export * as ChimeRoomsStream from "./ChimeRoomsStream.js"
export * as Resilience from "./Resilience.js"
export * as ResilientChimeRooms from "./ResilientChimeRooms.js"
export * as RetryBudget from "./RetryBudget.js"
export * as RetryPolicy from "./RetryPolicy.js"
