/**
 * When and how long to wait before trying a failed page again.
 *
 * A policy is a `Schedule` fed with each failure (it decides the backoff and when to stop) and a
 * predicate (it decides which failures are worth retrying at all). Whatever the schedule says,
 * a retry never starts sooner than the server's `Retry-After` (capped at `retryAfterCap`), and it
 * is only made if the shared `RetryBudget` can pay for it.
 *
 * Defaults, against AWS SDK standard mode:
 *
 * | | AWS standard (smithy-js) | here |
 * |---|---|---|
 * | backoff | full jitter: `random(0, 1) · min(20 s, base · 2ⁿ)` | the same |
 * | base | 100 ms; 500 ms after a throttling error | the same |
 * | cap | 20 s | 20 s |
 * | max attempts | 3 (first try + 2 retries) | 5 (first try + 4 retries) |
 * | Retry-After | ignored by most SDKs | respected: `max(backoff, min(retryAfter, 20 s))` |
 *
 * Why 5 attempts: a listing is hundreds of sequential pages, and one page that exhausts its
 * attempts ends the whole stream (resumable, but the caller has to act). Two more attempts cost
 * a page at most ~0.8 s + 1.6 s (transient) or 4 s + 8 s (throttled) more in the worst case, and
 * the shared retry budget — not the per-page attempt count — is what keeps a fleet of streams from
 * hammering a service that is down.
 *
 * @since 0.1.0
 */
import { ChimeError } from "@chime-rooms/core"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleInterval from "effect/ScheduleInterval"

/**
 * A retry policy: `schedule` receives each retryable failure and returns the backoff (or stops);
 * `while` says which failures to retry.
 *
 * @example
 * ```ts
 * import { ChimeError } from "@chime-rooms/core"
 * import type { RetryPolicy } from "@chime-rooms/stream"
 * import { Schedule } from "effect"
 *
 * const policy: RetryPolicy.RetryPolicy = {
 *   schedule: Schedule.exponential("200 millis").pipe(Schedule.jittered, Schedule.intersect(Schedule.recurs(6))),
 *   while: (e) => ChimeError.isThrottlingError(e)
 * }
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface RetryPolicy {
  readonly schedule: Schedule.Schedule<unknown, ChimeError.ChimeError>
  readonly while: (error: ChimeError.ChimeError) => boolean
  /** The longest server `Retry-After` honoured; longer requests are waited this long. Default 20 s. */
  readonly retryAfterCap?: Duration.DurationInput
}

/**
 * The default numbers (see the module comment for the comparison with AWS).
 *
 * @category constants
 * @since 0.1.0
 */
export const defaults = {
  baseDelay: Duration.millis(100),
  throttlingBaseDelay: Duration.millis(500),
  maxDelay: Duration.seconds(20),
  maxAttempts: 5,
  retryAfterCap: Duration.seconds(20)
} as const

/**
 * Options of {@link backoff} and {@link make}.
 *
 * @category models
 * @since 0.1.0
 */
export interface BackoffOptions {
  /** Base delay for non-throttling failures. Default 100 ms. */
  readonly baseDelay?: Duration.DurationInput
  /** Base delay after a throttling error. Default 500 ms. */
  readonly throttlingBaseDelay?: Duration.DurationInput
  /** No backoff exceeds this. Default 20 s. */
  readonly maxDelay?: Duration.DurationInput
  /** Attempts in all, the first try included (>= 1). Default 5. */
  readonly maxAttempts?: number
}

/**
 * The ceiling of the n-th retry's delay (n from 0): `min(cap, base · 2ⁿ)` in milliseconds.
 *
 * @category utils
 * @since 0.1.0
 */
export const backoffCeilingMillis = (retry: number, baseMillis: number, capMillis: number): number =>
  Math.min(capMillis, baseMillis * Math.pow(2, retry))

/**
 * Exponential backoff with full jitter: the n-th retry (n from 0) waits
 * `random(0, 1) · min(maxDelay, base · 2ⁿ)`, with the throttling base after a throttling error;
 * stops after `maxAttempts − 1` retries. Randomness comes from Effect's `Random`, so a seeded or
 * test `Random` makes it deterministic. Outputs the delay chosen.
 *
 * @category constructors
 * @since 0.1.0
 */
export const backoff = (options?: BackoffOptions): Schedule.Schedule<Duration.Duration, ChimeError.ChimeError> => {
  const base = Duration.toMillis(options?.baseDelay ?? defaults.baseDelay)
  const throttlingBase = Duration.toMillis(options?.throttlingBaseDelay ?? defaults.throttlingBaseDelay)
  const cap = Duration.toMillis(options?.maxDelay ?? defaults.maxDelay)
  const retries = Math.max(0, (options?.maxAttempts ?? defaults.maxAttempts) - 1)
  return Schedule.makeWithState(0, (now, error: ChimeError.ChimeError, n) => {
    if (n >= retries) return Effect.succeed([n, Duration.zero, ScheduleDecision.done] as const)
    const ceiling = backoffCeilingMillis(n, ChimeError.isThrottlingError(error) ? throttlingBase : base, cap)
    return Effect.map(Random.next, (r) => {
      const delay = r * ceiling
      return [
        n + 1,
        Duration.millis(delay),
        ScheduleDecision.continueWith(ScheduleInterval.after(now + delay))
      ] as const
    })
  })
}

/**
 * A policy from backoff options and a predicate (default `ChimeError.isRetryableError`: throttling, 500,
 * 502, 503, 504, transport failures, a body cut short, timeouts).
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  options?: BackoffOptions & {
    readonly while?: (error: ChimeError.ChimeError) => boolean
    readonly retryAfterCap?: Duration.DurationInput
  }
): RetryPolicy => ({
  schedule: backoff(options),
  while: options?.while ?? ChimeError.isRetryableError,
  retryAfterCap: options?.retryAfterCap ?? defaults.retryAfterCap
})

/**
 * Any schedule as a policy; retries what `ChimeError.isRetryableError` accepts unless told otherwise.
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "@chime-rooms/stream"
 * import { Schedule } from "effect"
 *
 * RetryPolicy.fromSchedule(Schedule.spaced("1 second").pipe(Schedule.intersect(Schedule.recurs(10))))
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromSchedule = (
  schedule: Schedule.Schedule<unknown, ChimeError.ChimeError>,
  whilePredicate: (error: ChimeError.ChimeError) => boolean = ChimeError.isRetryableError
): RetryPolicy => ({ schedule, while: whilePredicate })

/**
 * The default policy: {@link make} with {@link defaults}.
 *
 * @category constructors
 * @since 0.1.0
 */
export const defaultPolicy: RetryPolicy = make()

/**
 * Never retry.
 *
 * @category constructors
 * @since 0.1.0
 */
export const none: RetryPolicy = { schedule: Schedule.stop, while: () => false }
