import { ChimeError, ChimeRooms, type ListRoomsResponse } from "@chime-rooms/core"
import { ChimeMetrics, ChimeRateLimiter, ChimeRoomsStream, Resilience } from "@chime-rooms/stream"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Fiber, Layer, Random, Stream, TestClock } from "effect"
import { makeFake } from "./fake.js"
import { makeSimClock } from "./simClock.js"

/** Runs `effect` forked and returns the virtual milliseconds it took. */
const elapsed = <E, R>(effect: Effect.Effect<unknown, E, R>) =>
  Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    const fiber = yield* Effect.fork(Effect.zipRight(effect, Clock.currentTimeMillis))
    yield* TestClock.adjust("1 hour")
    return (yield* Fiber.join(fiber)) - start
  })

describe("ChimeRateLimiter.layerFixed", () => {
  for (const [n, rate, burst] of [[25, 10, 5], [100, 50, 5], [7, 2, 1], [5, 3, 5]] as const) {
    it.effect(`${n} requests at ${rate}/s with burst ${burst} take exactly (N − B)/R`, () =>
      Effect.gen(function*() {
        const limiter = yield* ChimeRateLimiter.makeFixed({ rate, burst })
        // Concurrent callers…
        const together = yield* elapsed(
          Effect.all(Array.from({ length: n }, () => limiter.acquire), { concurrency: "unbounded" })
        )
        assert.closeTo(together, (Math.max(0, n - burst) / rate) * 1000, 1e-6)
        // …and, after the bucket has refilled, one caller after another.
        yield* TestClock.adjust("1 hour")
        const oneByOne = yield* elapsed(
          Effect.forEach(Array.from({ length: n }), () => limiter.acquire, { discard: true })
        )
        assert.closeTo(oneByOne, (Math.max(0, n - burst) / rate) * 1000, 1e-6)
      }))
  }

  it.effect("paces a stream, and one limiter is shared by every stream on the layer", () =>
    Effect.gen(function*() {
      const fake = makeFake({ rooms: 300, pageSize: 10 })
      const layer = Layer.mergeAll(
        fake.layer,
        Resilience.layer({ rateLimiter: ChimeRateLimiter.layerFixed({ rate: 20, burst: 5 }) })
      )
      const run = ChimeRoomsStream.rooms({ AccountId: "a", MaxResults: 10 }).pipe(Stream.runDrain)
      // 2 × 30 pages: 60 requests through one 20/s bucket with burst 5 → (60 − 5)/20 s.
      const ms = yield* elapsed(Effect.all([run, run], { concurrency: "unbounded" })).pipe(Effect.provide(layer))
      assert.strictEqual(fake.calls.length, 60)
      assert.closeTo(ms, 2750, 1e-6)
      const gaps = fake.calls.slice(5).map((c, i) => c.at - fake.calls[i + 4]!.at)
      gaps.forEach((g) => assert.closeTo(g, 50, 1e-6))
    }))

  it.effect("a caller interrupted while waiting gives its permit back", () =>
    Effect.gen(function*() {
      const limiter = yield* ChimeRateLimiter.makeFixed({ rate: 10, burst: 1 })
      yield* limiter.acquire // t = 0
      const b = yield* Effect.fork(limiter.acquire) // reserved for t = 100
      yield* TestClock.adjust(50)
      yield* Fiber.interrupt(b)
      const d = yield* Effect.fork(Effect.zipRight(limiter.acquire, Clock.currentTimeMillis))
      yield* TestClock.adjust("1 second")
      // Without the refund D would queue behind B's abandoned slot, at t = 200.
      assert.strictEqual(yield* Fiber.join(d), 100)
    }))

  it.effect("currentRate reports the fixed rate", () =>
    Effect.gen(function*() {
      const rate = yield* ChimeRateLimiter.currentRate.pipe(Effect.provide(ChimeRateLimiter.layerFixed({ rate: 7 })))
      assert.strictEqual(rate, 7)
    }))
})

/** Sends `count` requests `gapMs` apart through `limiter`, reporting each as throttled or not. */
const drive = (
  limiter: ChimeRateLimiter.ChimeRateLimiterService,
  count: number,
  gapMs: number,
  throttled: (i: number) => boolean
) =>
  Effect.forEach(
    Array.from({ length: count }, (_, i) => i),
    (i) =>
      limiter.acquire.pipe(
        Effect.zipRight(throttled(i) ? limiter.onThrottle : limiter.onSuccess),
        Effect.zipRight(TestClock.adjust(gapMs))
      ),
    { discard: true }
  )

describe("ChimeRateLimiter.layerAdaptive", () => {
  for (const mode of ["model", "aws"] as const) {
    it.effect(`starts unlimited: no waiting, no rate (${mode})`, () =>
      Effect.gen(function*() {
        const limiter = yield* ChimeRateLimiter.makeAdaptive({ mode })
        assert.isUndefined(yield* limiter.currentRate)
        const ms = yield* elapsed(Effect.all(Array.from({ length: 1000 }, () => limiter.acquire)))
        assert.strictEqual(ms, 0)
        yield* drive(limiter, 100, 10, () => false)
        assert.isUndefined(yield* limiter.currentRate, "successes alone never enable it")
      }))
  }

  it.effect("aws: a throttle cuts the rate to 0.7 × the measured send rate; more throttles cut further", () =>
    Effect.gen(function*() {
      const limiter = yield* ChimeRateLimiter.makeAdaptive({ mode: "aws" })
      // 100 requests/s for 3 s: the measured rate settles at 100.
      yield* drive(limiter, 300, 10, () => false)
      yield* limiter.onThrottle
      const first = (yield* limiter.currentRate)!
      assert.closeTo(first, 70, 1)
      yield* limiter.onThrottle
      assert.closeTo((yield* limiter.currentRate)!, first * 0.7, 1)
    }))

  it.effect(
    "aws: recovers CUBIC-style: back to the throttled rate after K = ∛(Wmax·0.3/0.4) s, then above",
    () =>
      Effect.gen(function*() {
        const limiter = yield* ChimeRateLimiter.makeAdaptive({ mode: "aws" })
        // 100 requests/s for 3 s, then a throttle.
        yield* drive(limiter, 300, 10, () => false)
        yield* limiter.onThrottle
        const cut = (yield* limiter.currentRate)!
        const wmax = cut / 0.7
        const k = Math.cbrt((wmax * 0.3) / 0.4)
        // Then send at the rate the limiter allows (one request every 1/rate s), sampling the rate.
        const start = yield* Clock.currentTimeMillis
        const samples: Array<[number, number]> = []
        let t = 0
        while (t < k + 3) {
          const rate = (yield* limiter.currentRate)!
          yield* TestClock.adjust(1000 / rate)
          yield* limiter.onSuccess
          t = ((yield* Clock.currentTimeMillis) - start) / 1000
          samples.push([t, (yield* limiter.currentRate)!])
        }
        const at = (s: number) => samples.find(([x]) => x >= s)![1]
        assert.closeTo(cut, 70, 1)
        assert.isBelow(at(0.2), wmax * 0.8, "still low just after the throttle")
        assert.closeTo(at(k), wmax, wmax * 0.05, "back at the last throttled rate after K")
        assert.isAbove(at(k + 2.5), wmax * 1.05, "then probes above it")
        for (let i = 1; i < samples.length; i++) assert.isAtLeast(samples[i]![1] + 1e-9, samples[i - 1]![1])
      }),
    30_000
  )

  for (const mode of ["model", "aws"] as const) {
    it.effect(`initialRate: starts limited at that rate (${mode})`, () =>
      Effect.gen(function*() {
        const limiter = yield* ChimeRateLimiter.makeAdaptive({ mode, initialRate: 10 })
        assert.strictEqual(yield* limiter.currentRate, 10)
        const ms = yield* elapsed(
          Effect.all(Array.from({ length: 21 }, () => limiter.acquire), { concurrency: "unbounded" })
        )
        // Default burst 1: one at once, then 20 more at 10/s.
        assert.closeTo(ms, 2000, 1e-6)
        // The SDKs' capacity (a second's worth) lets 10 through at once.
        const sdkLike = yield* ChimeRateLimiter.makeAdaptive({ mode, initialRate: 10, maxBurst: 10 })
        const ms2 = yield* elapsed(
          Effect.all(Array.from({ length: 21 }, () => sdkLike.acquire), { concurrency: "unbounded" })
        )
        assert.closeTo(ms2, 1100, 1e-6)
      }))
  }

  it.effect("learns a server's limit: against 50 req/s (burst 5), under 5% of 1500 requests are throttled", () =>
    Effect.gen(function*() {
      // A server with a token bucket of 50/s, burst 5, answering in 5 ms.
      let tokens = 5
      let last = 0
      let throttled = 0
      let calls = 0
      const server: ChimeRooms.ChimeRoomsService = {
        listRooms: () =>
          Effect.gen(function*() {
            const now = yield* Clock.currentTimeMillis
            tokens = Math.min(5, tokens + ((now - last) * 50) / 1000)
            last = now
            calls++
            yield* Effect.sleep(5)
            if (tokens < 1) {
              throttled++
              return yield* Effect.fail(new ChimeError.ThrottledClientException({ message: "slow down", status: 429 }))
            }
            tokens -= 1
            const output: ListRoomsResponse.ListRoomsOutput = calls < 100_000
              ? { Rooms: [], NextToken: `t-${calls}`, $metadata: {} }
              : { Rooms: [], $metadata: {} }
            return output
          })
      }
      const layer = Layer.mergeAll(Layer.succeed(ChimeRooms.ChimeRooms, server), Resilience.layer())
      const sim = makeSimClock()
      const { ms, stats } = yield* Effect.gen(function*() {
        yield* ChimeRoomsStream.pages({ AccountId: "a" }, { maxPages: 1500 }).pipe(Stream.runDrain)
        return { ms: sim.now(), stats: yield* ChimeMetrics.snapshot }
      }).pipe(Effect.provide(layer), Effect.withClock(sim.clock), Effect.withRandom(Random.make(1)))
      const throughput = 1500 / (ms / 1000)
      assert.strictEqual(stats.pages, 1500)
      assert.isBelow(throttled / calls, 0.05, `${throttled} of ${calls} throttled`)
      assert.isAbove(throughput, 40, `throughput ${throughput.toFixed(1)} pages/s`)
      assert.isDefined(stats.currentRate)
    }))
})

/** A small deterministic generator (numbers in [0, 1)), so a simulated backoff is the same every run. */
const lcg = (seed: number) => {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 4294967296
  }
}

/**
 * A sequential caller against a simulated token-bucket server (rate from `serverRate(t)`, burst
 * `burst`), on a virtual clock: each request passes the limiter, the server takes a token when it
 * arrives, the answer comes `latencyMs` (plus up to `jitterMs`) later. A 429 makes the caller wait
 * as the stream does: the whole-second Retry-After when the server sends one (`retryAfter`, the
 * default), else the default policy's full-jitter backoff, uniform in [0, 500·2ⁿ ms) for the n-th
 * throttled retry of a page. Runs for `seconds`, or until `pages` successes. Returns the timeline.
 */
const simulate = (options: {
  readonly limiter: Effect.Effect<ChimeRateLimiter.ChimeRateLimiterService>
  readonly serverRate: (seconds: number) => number
  readonly burst: number
  readonly seconds: number
  readonly pages?: number
  readonly latencyMs?: number
  readonly jitterMs?: number
  readonly retryAfter?: boolean
  readonly seed?: number
}) => {
  const sim = makeSimClock()
  const random = lcg(options.seed ?? 1)
  return Effect.gen(function*() {
    const limiter = yield* options.limiter
    const latency = options.latencyMs ?? 2
    let tokens = options.burst
    let last = 0
    let retries = 0
    const throttles: Array<number> = []
    const rates: Array<[number, number | undefined]> = []
    let successes = 0
    let calls = 0
    while (sim.now() < options.seconds * 1000 && successes < (options.pages ?? Infinity)) {
      yield* limiter.acquire
      calls++
      const now = sim.now()
      const rate = options.serverRate(now / 1000)
      tokens = Math.min(options.burst, tokens + ((now - last) * rate) / 1000)
      last = now
      const granted = tokens >= 1
      if (granted) tokens -= 1
      yield* sim.advance(latency + random() * (options.jitterMs ?? 0))
      if (granted) {
        successes++
        retries = 0
        yield* limiter.onSuccess
      } else {
        throttles.push(sim.now() / 1000)
        yield* limiter.onThrottle
        const backoff = random() * Math.min(20_000, 500 * 2 ** retries++)
        const retryAfter = options.retryAfter === false ? 0 : Math.max(1, Math.ceil((1 - tokens) / rate)) * 1000
        yield* sim.advance(Math.max(backoff, retryAfter))
      }
      rates.push([sim.now() / 1000, yield* limiter.currentRate])
    }
    const rateAt = (s: number) => rates.find(([t]) => t >= s)?.[1]
    return { throttles, successes, calls, rates, rateAt, seconds: sim.now() / 1000 }
  }).pipe(Effect.withClock(sim.clock))
}

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!

describe("ChimeRateLimiter.layerAdaptive (model of the server's token bucket)", () => {
  it.effect("learns the rate from the throttles, then holds at a proven lower bound of it", () =>
    Effect.gen(function*() {
      for (const [rate, burst] of [[50, 5], [20, 10], [200, 20], [100, 5], [10, 2], [50, 50]] as const) {
        const { rateAt, successes, throttles } = yield* simulate({
          limiter: ChimeRateLimiter.makeAdaptive(),
          serverRate: () => rate,
          burst,
          seconds: 20
        })
        const label = `${rate}/s, burst ${burst}: throttled at ${throttles.map((t) => t.toFixed(2)).join(", ")}`
        // One throttle is what starting unlimited costs, one ends the ramp, the rest end probes
        // (rare: each whole-second Retry-After wait costs about a second of the server's rate; a
        // burst as large as the rate makes a throttle cheap, so it probes more).
        assert.isAtMost(throttles.length, burst >= rate ? 5 : 4, label)
        const held = rateAt(throttles[throttles.length - 1]! + 0.5)!
        assert.isAtMost(held, rate, label)
        assert.isAbove(held, rate * 0.9, label)
        assert.isAbove(successes, (burst + rate * (20 - throttles.length)) * 0.9, label)
      }
    }))

  it.effect("without Retry-After (backoff only): 500 pages at 50/s, burst 5, within 1.08× the limit and under 2% throttled", () =>
    Effect.gen(function*() {
      const runs: Array<number> = []
      for (let seed = 1; seed <= 9; seed++) {
        const run = yield* simulate({
          limiter: ChimeRateLimiter.makeAdaptive(),
          serverRate: () => 50,
          burst: 5,
          seconds: 60,
          pages: 500,
          retryAfter: false,
          jitterMs: 2,
          seed
        })
        assert.isBelow(run.throttles.length / run.calls, 0.02, `seed ${seed}: ${run.throttles.length} of ${run.calls}`)
        runs.push(run.seconds)
      }
      // The limit itself: (500 − 5) / 50 = 9.9 s.
      assert.isAtMost(median(runs), 10.8, runs.map((s) => s.toFixed(2)).join(", "))
    }))

  it.effect("other servers, without Retry-After: slow (5/s, burst 1), fast (500/s, burst 50), burst = rate (50/50)", () =>
    Effect.gen(function*() {
      for (
        const [rate, burst, pages, within, share] of [[5, 1, 100, 1.25, 0.08], [500, 50, 5000, 1.15, 0.01], [
          50,
          50,
          500,
          1.05,
          0.02
        ]] as const
      ) {
        const runs: Array<number> = []
        for (let seed = 1; seed <= 5; seed++) {
          const run = yield* simulate({
            limiter: ChimeRateLimiter.makeAdaptive(),
            serverRate: () => rate,
            burst,
            seconds: 120,
            pages,
            retryAfter: false,
            latencyMs: rate > 100 ? 0.5 : 2,
            jitterMs: rate > 100 ? 0.5 : 2,
            seed
          })
          const label = `${rate}/s, burst ${burst}, seed ${seed}: ${run.throttles.length} of ${run.calls} throttled, ${
            run.seconds.toFixed(2)
          } s`
          assert.isAtMost(run.throttles.length / run.calls, share, label)
          runs.push(run.seconds)
        }
        const limit = (pages - burst) / rate
        assert.isAtMost(
          median(runs),
          limit * within,
          `${rate}/s, burst ${burst}: ${runs.map((s) => s.toFixed(2)).join(", ")} s`
        )
      }
    }))

  it.effect("a lowered server limit: re-learnt from the throttles after the drop, then held under it", () =>
    Effect.gen(function*() {
      for (const retryAfter of [true, false]) {
        const { rateAt, throttles } = yield* simulate({
          limiter: ChimeRateLimiter.makeAdaptive(),
          serverRate: (t) => (t < 10 ? 50 : 30),
          burst: 5,
          seconds: 30,
          retryAfter
        })
        const label = `Retry-After ${retryAfter}: throttled at ${throttles.map((t) => t.toFixed(2)).join(", ")}`
        assert.isAbove(rateAt(9.5)!, 45, label)
        const after = throttles.filter((t) => t >= 10)
        assert.isAtMost(after.length, 8, label)
        assert.isBelow(after[after.length - 1]!, 28, `${label}: settled`)
        const held = rateAt(after[after.length - 1]! + 0.5)!
        assert.isAtMost(held, 30, label)
        assert.isAbove(held, 30 * 0.85, label)
      }
    }))

  it.effect("a raised server limit: after the hold, a slow probe finds it", () =>
    Effect.gen(function*() {
      for (const retryAfter of [true, false]) {
        const { rateAt, throttles } = yield* simulate({
          limiter: ChimeRateLimiter.makeAdaptive({ holdSeconds: 5 }),
          serverRate: (t) => (t < 6 ? 50 : 80),
          burst: 5,
          seconds: 40,
          retryAfter
        })
        const label = `Retry-After ${retryAfter}: throttled at ${throttles.map((t) => t.toFixed(2)).join(", ")}`
        const late = throttles.filter((t) => t >= 6)
        assert.isAtLeast(late.length, 1, `${label}: the probe crossed the new limit`)
        assert.isAbove(rateAt(39)!, 72, label)
      }
    }), 30_000)

  it.effect("initialRate above the server's rate: the first throttles bring it under", () =>
    Effect.gen(function*() {
      const { rateAt, throttles } = yield* simulate({
        limiter: ChimeRateLimiter.makeAdaptive({ initialRate: 100 }),
        serverRate: () => 50,
        burst: 5,
        seconds: 15
      })
      assert.isAtMost(throttles.length, 4)
      const held = rateAt(throttles[throttles.length - 1]! + 0.5)!
      assert.isAtMost(held, 50)
      assert.isAbove(held, 50 * 0.85)
    }))

  it.effect("the hold stays under the server's rate: with whole-second Retry-After, about one probe per holdSeconds", () =>
    Effect.gen(function*() {
      const { throttles } = yield* simulate({
        limiter: ChimeRateLimiter.makeAdaptive(),
        serverRate: () => 50,
        burst: 5,
        seconds: 60
      })
      // Two to learn, one probe to narrow; then at most one per 20 s hold (each probe starts at a
      // rate within the narrowed interval and drains the server's bucket slowly).
      assert.isAtMost(throttles.length, 6, throttles.map((t) => t.toFixed(2)).join(", "))
    }))

  it.effect("mode aws: the same server costs a throttle every few seconds", () =>
    Effect.gen(function*() {
      const aws = yield* simulate({
        limiter: ChimeRateLimiter.makeAdaptive({ mode: "aws" }),
        serverRate: () => 50,
        burst: 5,
        seconds: 30
      })
      const model = yield* simulate({
        limiter: ChimeRateLimiter.makeAdaptive(),
        serverRate: () => 50,
        burst: 5,
        seconds: 30
      })
      assert.isAbove(aws.throttles.length, model.throttles.length)
      assert.isAbove(model.successes, aws.successes)
    }))
})

describe("ChimeRateLimiter.makeAdaptive, many callers on one limiter", () => {
  it.effect("a throttle re-times the callers already waiting: they go out at the new rate, not the old", () =>
    Effect.gen(function*() {
      const limiter = yield* ChimeRateLimiter.makeAdaptive({ initialRate: 50 })
      const sent: Array<number> = []
      // Ten callers queue at 50/s: at 0, 20, 40, … 180 ms.
      const fibers = yield* Effect.forEach(
        Array.from({ length: 10 }),
        () =>
          Effect.fork(
            Effect.zipRight(
              limiter.acquire,
              Effect.flatMap(Clock.currentTimeMillis, (t) => Effect.sync(() => sent.push(t)))
            )
          ),
        { concurrency: 1 }
      )
      yield* TestClock.adjust(10)
      yield* limiter.onThrottle
      const rate = (yield* limiter.currentRate)!
      assert.isBelow(rate, 50)
      // One of them gives up while waiting: its withdrawn booking gives nothing back.
      yield* Fiber.interrupt(fibers[5]!)
      yield* TestClock.adjust("10 seconds")
      yield* Effect.forEach(fibers, Fiber.await, { discard: true })
      assert.strictEqual(sent.length, 9)
      assert.strictEqual(sent[0], 0)
      // Without the re-timing they would leave every 20 ms, into a server that just said no.
      for (let k = 2; k < sent.length; k++) assert.closeTo(sent[k]! - sent[k - 1]!, 1000 / rate, 1e-6)
      assert.isAtLeast(sent[1]!, 10 + 1000 / rate - 1e-6)
    }))

  // Twenty callers (streams) share the layer's one limiter against a token-bucket server of 50/s,
  // burst 5, each listing 25 pages: 500 pages, 10 s at the server's rate. Answers come 2 ms after
  // the request; a throttled caller backs off as the retry policy does (full jitter from 500 ms).
  for (const seed of [1, 2]) {
    it.effect(`20 concurrent callers hold near the server's rate (seed ${seed})`, () =>
      Effect.gen(function*() {
        const limiter = yield* ChimeRateLimiter.makeAdaptive()
        const random = lcg(seed)
        const rate = 50
        const burst = 5
        let tokens = burst
        let last = 0
        let requests = 0
        let throttled = 0
        const caller = Effect.gen(function*() {
          let done = 0
          let retry = 0
          while (done < 25) {
            yield* limiter.acquire
            const now = yield* Clock.currentTimeMillis
            tokens = Math.min(burst, tokens + ((now - last) / 1000) * rate)
            last = now
            const granted = tokens >= 1
            if (granted) tokens -= 1
            requests++
            yield* Effect.sleep(2)
            if (granted) {
              yield* limiter.onSuccess
              done++
              retry = 0
            } else {
              throttled++
              yield* limiter.onThrottle
              yield* Effect.sleep(Math.floor(random() * Math.min(20_000, 500 * 2 ** retry)))
              retry++
            }
          }
        })
        const fiber = yield* Effect.fork(
          Effect.all(Array.from({ length: 20 }, () => caller), { concurrency: "unbounded", discard: true }).pipe(
            Effect.zipRight(Clock.currentTimeMillis)
          )
        )
        yield* TestClock.adjust("2 minutes")
        const ms = yield* Fiber.join(fiber)
        // The fixed limiter told 50/s takes 10 s. The twenty first requests go out at once, before
        // any answer: 15 of them are throttled, 3 % of the 500 pages. Before the queue was re-timed
        // on a throttle, 20 callers took up to 1.3 times as long (and 4 times before the throttles
        // in flight stopped cutting the rate again).
        assert.isAtMost(ms / 10_000, 1.15, `${ms} ms, ${throttled} of ${requests} throttled`)
        assert.isBelow(throttled / requests, 0.05, `${throttled} of ${requests} throttled`)
      }), 60_000)
  }
})
