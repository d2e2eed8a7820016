/**
 * Time for pacing and waiting, which must not jump when the wall clock is set.
 */
import type * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"

/** The default services' clock: one instance, replaced only by `TestClock` or a custom `Clock`. */
export const liveClock: Clock.Clock = Effect.runSync(Effect.clock)

/**
 * Milliseconds on a timeline that only moves forward: `performance.now()` on the live clock (the
 * wall clock, `Date.now()`, steps when the system time is set), the clock's own time on any other
 * (`TestClock` moves only when told to).
 */
export const monotonicMillis = (clock: Clock.Clock): number =>
  clock === liveClock ? performance.now() : clock.unsafeCurrentTimeMillis()
