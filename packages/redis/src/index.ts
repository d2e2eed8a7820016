/**
 * @chime-rooms/redis — `ChimeRateLimiter` layers whose state lives in Redis, shared by every worker
 * of an account.
 *
 * @since 0.2.0
 */
/**
 * The shared limiters: `layer`, `make`, `namespace`.
 *
 * @since 0.2.0
 */
export * as RedisRateLimiter from "./RedisRateLimiter.js"
