/**
 * The emulator's server-side rate limit: a token bucket refilled continuously at `rate` tokens per
 * second, holding at most `burst`. Time is passed in, so the arithmetic is tested without a clock.
 * Not stream's `PacingBucket`: testing does not depend on stream, and a server grants or refuses (never below 0).
 */

/** `rate` requests per second on average, `burst` at once. */
export interface RateLimitOptions {
  readonly rate: number
  readonly burst: number
  /**
   * Whether a 429 of the limit carries `Retry-After` (whole seconds, at least 1). Default `false`:
   * Chime's model gives `ThrottledClientException` no such header, so a client must pace itself;
   * `true` plays a front end that sends one (the stream then never retries sooner).
   */
  readonly retryAfter?: boolean | undefined
}

/** The outcome of one `take`: a permit, or how long until the next token. */
export type Take =
  | { readonly _tag: "Granted" }
  | { readonly _tag: "Limited"; readonly retryAfterMillis: number }

/** A token bucket. */
export interface TokenBucket {
  readonly options: RateLimitOptions
  /** Takes one token at time `nowMillis` (any monotonic clock, in milliseconds). */
  readonly take: (nowMillis: number) => Take
}

/** Is this a usable limit? Both numbers positive and finite. */
export const isValidRateLimit = (options: RateLimitOptions): boolean =>
  Number.isFinite(options.rate) && options.rate > 0 && Number.isFinite(options.burst) && options.burst >= 1

/** A bucket that starts full. */
export const makeTokenBucket = (options: RateLimitOptions): TokenBucket => {
  const { rate, burst } = options
  let tokens = burst
  let last: number | undefined
  const take = (nowMillis: number): Take => {
    if (last !== undefined && nowMillis > last) tokens = Math.min(burst, tokens + ((nowMillis - last) * rate) / 1000)
    if (last === undefined || nowMillis > last) last = nowMillis
    if (tokens >= 1) {
      tokens -= 1
      return { _tag: "Granted" }
    }
    return { _tag: "Limited", retryAfterMillis: Math.ceil(((1 - tokens) * 1000) / rate) }
  }
  return { options, take }
}
