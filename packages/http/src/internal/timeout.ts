/**
 * A per-attempt timeout cheaper than `Effect.timeoutFail`, still on Effect's `Clock` (so
 * `TestClock` drives it). `timeoutFail` races two forked fibers, merges the winner's FiberRefs
 * back and waits for the loser to finish being interrupted: on every page. Here the attempt runs
 * in one forked fiber, the timer is the clock's own `sleep` run as a bare callback, and whichever
 * ends first settles the result; the other is cancelled without being awaited.
 */
import { Effect, Exit, FiberId } from "effect"
import type { Clock, Duration } from "effect"

export const leanTimeout = <A, E, E2>(
  self: Effect.Effect<A, E>,
  duration: Duration.Duration,
  onTimeout: () => E2
): Effect.Effect<A, E | E2> =>
  Effect.clockWith((clock: Clock.Clock) =>
    Effect.flatMap(Effect.fork(self), (child) =>
      Effect.async<A, E | E2>((resume) => {
        let done = false
        const cancelTimer = Effect.runCallback(clock.sleep(duration), {
          onExit: (exit) => {
            if (done || Exit.isInterrupted(exit)) return
            done = true
            child.unsafeInterruptAsFork(FiberId.none)
            resume(Effect.fail(onTimeout()))
          }
        })
        child.addObserver((exit) => {
          if (done) return
          done = true
          cancelTimer()
          resume(exit)
        })
        return Effect.sync(() => {
          if (done) return
          done = true
          cancelTimer()
          child.unsafeInterruptAsFork(FiberId.none)
        })
      })))
