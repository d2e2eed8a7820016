import { ChimeError } from "@chime-rooms/core"
import { ChimeRateLimiter, ResilientChimeRooms, RetryBudget, RetryPolicy } from "@chime-rooms/stream"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, FastCheck, Fiber, Layer, Random, Schedule, TestClock } from "effect"
import { makeFake } from "./fake.js"

const unavailable = new ChimeError.ServiceUnavailableException({ message: "down", status: 503 })
const throttled = (retryAfter?: Duration.DurationInput) =>
  new ChimeError.ThrottledClientException({
    message: "slow down",
    status: 429,
    ...(retryAfter === undefined ? {} : { retryAfter: Duration.decode(retryAfter) })
  })

/** Steps a schedule over `errors` at `now = 0`, returning each delay in ms (or "done"). */
const delaysOf = (
  schedule: Schedule.Schedule<unknown, ChimeError.ChimeError>,
  errors: ReadonlyArray<ChimeError.ChimeError>
) =>
  Effect.gen(function*() {
    let state = schedule.initial
    const out: Array<number | "done"> = []
    for (const error of errors) {
      const [next, , decision] = yield* schedule.step(0, error, state)
      state = next
      out.push(decision._tag === "Done" ? "done" : decision.intervals.intervals.pipe((c) => [...c])[0]!.startMillis)
    }
    return out
  })

const env = (fake: ReturnType<typeof makeFake>, budget = RetryBudget.layerUnlimited) =>
  Layer.mergeAll(fake.layer, ChimeRateLimiter.layerUnlimited, budget)

/** Runs `effect` in a fiber, advancing the TestClock until it ends; returns the result and the virtual time taken. */
const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(Effect.either(effect))
    yield* TestClock.adjust("1 hour")
    return yield* Fiber.join(fiber)
  })

describe("RetryPolicy.backoff", () => {
  it.effect("the ceiling doubles from the base and stops at the cap", () =>
    Effect.gen(function*() {
      // r just below 1 shows the ceiling itself.
      const delays = yield* delaysOf(
        RetryPolicy.backoff({ maxAttempts: 12 }),
        Array.from({ length: 12 }, () => unavailable)
      ).pipe(Effect.withRandom(Random.fixed([0.999999])))
      const ceilings = [100, 200, 400, 800, 1600, 3200, 6400, 12800, 20000, 20000, 20000]
      delays.slice(0, 11).forEach((d, i) => assert.closeTo(d as number, ceilings[i]! * 0.999999, 1e-6))
      assert.strictEqual(delays[11], "done", "maxAttempts 12 = 11 retries")
    }))

  it.effect("throttling errors use the 500 ms base", () =>
    Effect.gen(function*() {
      const delays = yield* delaysOf(RetryPolicy.backoff(), [
        throttled(),
        throttled(),
        unavailable,
        throttled(),
        throttled()
      ])
        .pipe(Effect.withRandom(Random.fixed([0.5])))
      assert.deepStrictEqual(delays, [250, 500, 200, 2000, "done"])
    }))

  it.effect("default: 5 attempts (4 retries)", () =>
    Effect.gen(function*() {
      const delays = yield* delaysOf(RetryPolicy.defaultPolicy.schedule, Array.from({ length: 5 }, () => unavailable))
      assert.deepStrictEqual(delays.map((d) => d === "done"), [false, false, false, false, true])
    }))

  it.effect("full jitter: every delay lies in [0, min(cap, base·2ⁿ)] and spreads over it", () =>
    Effect.sync(() =>
      FastCheck.assert(
        FastCheck.property(
          FastCheck.integer(),
          FastCheck.integer({ min: 1, max: 500 }),
          FastCheck.integer({ min: 1, max: 30_000 }),
          FastCheck.array(FastCheck.boolean(), { minLength: 1, maxLength: 10 }),
          (seed, base, cap, throttles) => {
            const errors = throttles.map((t) => (t ? throttled() : unavailable))
            const delays = Effect.runSync(
              delaysOf(
                RetryPolicy.backoff({ baseDelay: base, throttlingBaseDelay: base * 5, maxDelay: cap, maxAttempts: 11 }),
                errors
              ).pipe(Effect.withRandom(Random.make(seed)))
            )
            delays.forEach((d, n) => {
              const ceiling = Math.min(cap, (throttles[n] ? base * 5 : base) * 2 ** n)
              assert.isTrue(typeof d === "number" && d >= 0 && d <= ceiling, `retry ${n}: ${d} not in [0, ${ceiling}]`)
            })
          }
        )
      )
    ).pipe(Effect.zipRight(Effect.gen(function*() {
      // Spread: over many draws the delays of one step cover the interval (min near 0, max near the ceiling).
      const draws: Array<number> = []
      for (let seed = 0; seed < 400; seed++) {
        const [d] = yield* delaysOf(RetryPolicy.backoff(), [unavailable]).pipe(Effect.withRandom(Random.make(seed)))
        draws.push(d as number)
      }
      assert.isBelow(Math.min(...draws), 5)
      assert.isAbove(Math.max(...draws), 95)
      assert.closeTo(draws.reduce((a, b) => a + b, 0) / draws.length, 50, 6)
    }))))
})

describe("retries through ResilientChimeRooms.listRooms", () => {
  const request = { AccountId: "acc-1" }

  it.effect("waits the jittered backoff between attempts, on the TestClock", () =>
    Effect.gen(function*() {
      const fake = makeFake({ rooms: 5, pageSize: 10, fault: (call) => (call <= 3 ? unavailable : undefined) })
      const result = yield* timed(ResilientChimeRooms.listRooms(request)).pipe(
        Effect.provide(env(fake)),
        Effect.withRandom(Random.fixed([0.25]))
      )
      assert.strictEqual(result._tag, "Right")
      if (result._tag === "Right") assert.strictEqual(result.right.attempts, 4)
      assert.deepStrictEqual(fake.calls.map((c) => c.at), [0, 25, 75, 175])
    }))

  it.effect("never retries sooner than Retry-After (delay = max(backoff, retryAfter))", () =>
    Effect.gen(function*() {
      const fake = makeFake({
        rooms: 5,
        pageSize: 10,
        fault: (call) => (call === 1 ? throttled("3 seconds") : call === 2 ? throttled("10 millis") : undefined)
      })
      yield* timed(ResilientChimeRooms.listRooms(request)).pipe(
        Effect.provide(env(fake)),
        Effect.withRandom(Random.fixed([0.9]))
      )
      // Retry 1: max(0.9 × 500, 3000) = 3000. Retry 2: max(0.9 × 1000, 10) = 900.
      assert.deepStrictEqual(fake.calls.map((c) => c.at), [0, 3000, 3900])
    }))

  it.effect("Retry-After is honoured up to the cap (20 s by default)", () =>
    Effect.gen(function*() {
      const fake = makeFake({
        rooms: 5,
        pageSize: 10,
        fault: (call) => (call === 1 ? throttled("5 minutes") : undefined)
      })
      yield* timed(ResilientChimeRooms.listRooms(request)).pipe(
        Effect.provide(env(fake)),
        Effect.withRandom(Random.fixed([0]))
      )
      assert.deepStrictEqual(fake.calls.map((c) => c.at), [0, 20_000])
    }))

  it.effect("Retry-After is respected whatever the jitter draws (property)", () =>
    Effect.gen(function*() {
      const samples = FastCheck.sample(
        FastCheck.tuple(FastCheck.integer(), FastCheck.integer({ min: 0, max: 19_000 })),
        { numRuns: 40, seed: 7 }
      )
      for (const [seed, retryAfter] of samples) {
        const fake = makeFake({
          rooms: 5,
          pageSize: 10,
          fault: (call) => (call === 1 ? throttled(retryAfter) : undefined)
        })
        yield* timed(ResilientChimeRooms.listRooms(request)).pipe(
          Effect.provide(env(fake)),
          Effect.withRandom(Random.make(seed))
        )
        const waited = fake.calls[1]!.at - fake.calls[0]!.at
        assert.isAtLeast(waited, retryAfter)
        assert.isAtMost(waited, Math.max(retryAfter, 500))
      }
    }))

  it.effect("non-retryable errors surface at once", () =>
    Effect.gen(function*() {
      const fake = makeFake({
        rooms: 5,
        pageSize: 10,
        fault: () => new ChimeError.NotFoundException({ message: "no", status: 404 })
      })
      const result = yield* timed(ResilientChimeRooms.listRooms(request)).pipe(Effect.provide(env(fake)))
      assert.strictEqual(result._tag, "Left")
      assert.strictEqual(fake.calls.length, 1)
    }))

  it.effect("the default predicate retries 500, 502, 503, 504, throttling and transport failures", () =>
    Effect.gen(function*() {
      const errors: ReadonlyArray<ChimeError.ChimeError> = [
        new ChimeError.ServiceFailureException({ message: "x", status: 500 }),
        unavailable,
        throttled(),
        new ChimeError.TransportError({ reason: "ConnectionReset", message: "reset" }),
        new ChimeError.TransportError({ reason: "Timeout", message: "timeout" })
      ]
      const fake = makeFake({ rooms: 5, pageSize: 10, fault: (call) => errors[call - 1] })
      const result = yield* timed(
        ResilientChimeRooms.listRooms(request, { retry: RetryPolicy.make({ maxAttempts: 6 }) })
      )
        .pipe(Effect.provide(env(fake)))
      assert.strictEqual(result._tag, "Right")
      assert.strictEqual(fake.calls.length, 6)
    }))

  it.effect("gives up after maxAttempts with the last error", () =>
    Effect.gen(function*() {
      const fake = makeFake({
        rooms: 5,
        pageSize: 10,
        fault: (call) =>
          new ChimeError.ServiceUnavailableException({ message: "down", status: 503, requestId: `r-${call}` })
      })
      const result = yield* timed(
        ResilientChimeRooms.listRooms(request, { retry: RetryPolicy.make({ maxAttempts: 3 }) })
      )
        .pipe(Effect.provide(env(fake)))
      assert.strictEqual(fake.calls.length, 3)
      assert.isTrue(
        result._tag === "Left" && result.left._tag === "ServiceUnavailableException" && result.left.requestId === "r-3"
      )
    }))

  it.effect("users replace the schedule and the predicate", () =>
    Effect.gen(function*() {
      const fake = makeFake({
        rooms: 5,
        pageSize: 10,
        fault: (
          call
        ) => (call <= 3
          ? new ChimeError.NotFoundException({ message: "eventually consistent", status: 404 })
          : undefined)
      })
      const policy = RetryPolicy.fromSchedule(
        Schedule.spaced("1 second").pipe(Schedule.intersect(Schedule.recurs(5))),
        (e) => e._tag === "NotFoundException"
      )
      const result = yield* timed(ResilientChimeRooms.listRooms(request, { retry: policy })).pipe(
        Effect.provide(env(fake))
      )
      assert.strictEqual(result._tag, "Right")
      assert.deepStrictEqual(fake.calls.map((c) => c.at), [0, 1000, 2000, 3000])
    }))

  it.effect("RetryPolicy.none never retries", () =>
    Effect.gen(function*() {
      const fake = makeFake({ rooms: 5, pageSize: 10, fault: () => unavailable })
      yield* timed(ResilientChimeRooms.listRooms(request, { retry: RetryPolicy.none })).pipe(Effect.provide(env(fake)))
      assert.strictEqual(fake.calls.length, 1)
    }))
})
