/**
 * A per-attempt timeout cheaper than `Effect.timeoutFail` on the live clock, and exactly
 * `Effect.timeoutFail` on any other `Clock` (so `TestClock` drives it in tests).
 *
 * `timeoutFail` races two forked fibers, merges the winner's FiberRefs back and waits for the
 * loser to finish being interrupted, on every page; measured, that cost more CPU than parsing the
 * page. The live clock's `sleep` is a `setTimeout`, so here the attempt runs in one forked fiber and
 * a plain timer settles the race; the loser is cancelled without being awaited.
 */
import type * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberId from "effect/FiberId"

/** The default services' clock: one instance, replaced only by `TestClock` or a custom `Clock`. */
export const liveClock: Clock.Clock = Effect.runSync(Effect.clock)

/** The longest delay `setTimeout` honours. */
export const MAX_TIMER_MILLIS = 2 ** 31 - 1

export const leanTimeout = <A, E, E2>(
  self: Effect.Effect<A, E>,
  duration: Duration.Duration,
  onTimeout: () => E2
): Effect.Effect<A, E | E2> =>
  Effect.clockWith((clock) => {
    if (clock !== liveClock) return Effect.timeoutFail(self, { duration, onTimeout })
    const millis = Duration.toMillis(duration)
    if (millis > MAX_TIMER_MILLIS) return self
    return Effect.flatMap(Effect.fork(self), (child) =>
      Effect.async<A, E | E2>((resume) => {
        let done = false
        const timer = setTimeout(() => {
          if (done) return
          done = true
          child.unsafeInterruptAsFork(FiberId.none)
          resume(Effect.fail(onTimeout()))
        }, millis)
        child.addObserver((exit) => {
          if (done) return
          done = true
          clearTimeout(timer)
          resume(exit)
        })
        return Effect.sync(() => {
          if (done) return
          done = true
          clearTimeout(timer)
          child.unsafeInterruptAsFork(FiberId.none)
        })
      }))
  })
