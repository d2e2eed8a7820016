/**
 * A virtual clock for long, single-fiber simulations: `sleep` moves time forward at once. With one
 * fiber doing all the sleeping this is exactly the timeline TestClock would produce, without
 * TestClock's per-step scheduling cost (thousands of steps run in milliseconds).
 */
import { Clock, Duration, Effect } from "effect"

export const makeSimClock = (startMillis = 0) => {
  let now = startMillis
  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => now,
    currentTimeMillis: Effect.sync(() => now),
    unsafeCurrentTimeNanos: () => BigInt(Math.round(now * 1_000_000)),
    currentTimeNanos: Effect.sync(() => BigInt(Math.round(now * 1_000_000))),
    sleep: (duration) =>
      Effect.sync(() => {
        now += Duration.toMillis(duration)
      })
  }
  return { clock, now: () => now, advance: (ms: number) => Effect.sync(() => void (now += ms)) }
}
