/** The global Effect metrics, in one place so every module can record without import cycles. */
import * as Metric from "effect/Metric"

/** Requests sent (every attempt). */
export const requestsTotal = Metric.counter("chime_rooms_requests_total", {
  description: "ListRooms requests sent, every attempt counted",
  incremental: true
})

/** Retries scheduled. */
export const retriesTotal = Metric.counter("chime_rooms_retries_total", {
  description: "ListRooms requests retried after a retryable failure",
  incremental: true
})

/** Throttling responses received. */
export const throttlesTotal = Metric.counter("chime_rooms_throttles_total", {
  description: "ListRooms responses that asked the client to slow down",
  incremental: true
})

/** Pages delivered to a consumer. */
export const pagesTotal = Metric.counter("chime_rooms_pages_total", {
  description: "ListRooms pages received",
  incremental: true
})

/** Rooms delivered to a consumer. */
export const roomsTotal = Metric.counter("chime_rooms_rooms_total", {
  description: "Rooms received",
  incremental: true
})

/** The rate limiter's current rate in requests per second (0 while unlimited). */
export const rateLimitGauge = Metric.gauge("chime_rooms_rate_limit", {
  description: "Rate limiter permits per second; 0 means unlimited"
})
