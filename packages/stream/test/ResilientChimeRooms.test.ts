import { ChimeError, ChimeRooms } from "@chime-rooms/core"
import {
  ChimeMetrics,
  ChimeRateLimiter,
  ChimeRoomsStream,
  Resilience,
  ResilientChimeRooms,
  RetryBudget,
  RetryPolicy
} from "@chime-rooms/stream"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Fiber, Layer, Metric, Option, Stream, TestClock, Tracer } from "effect"
import { makeFake } from "./fake.js"

const unavailable = (id: string) =>
  new ChimeError.ServiceUnavailableException({ message: "down", status: 503, requestId: id })

/** A tracer that records every span the native tracer makes. */
const recordingTracer = Effect.map(Effect.tracer, (native) => {
  const spans: Array<Tracer.Span> = []
  const tracer = Tracer.make({
    span: (...args) => {
      const span = native.span(...args)
      spans.push(span)
      return span
    },
    context: (f, fiber) => native.context(f, fiber)
  })
  return { spans, tracer }
})

const runTimed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    yield* TestClock.adjust("1 hour")
    return yield* Fiber.join(fiber)
  })

describe("ResilientChimeRooms.layer", () => {
  it.effect("single calls go through the limiter, the retry policy and the budget", () =>
    Effect.gen(function*() {
      const fake = makeFake({ rooms: 30, pageSize: 10, fault: (call) => (call === 1 ? unavailable("r-1") : undefined) })
      const resilience = Resilience.layer({
        rateLimiter: ChimeRateLimiter.layerFixed({ rate: 1, burst: 1 }),
        retryBudget: { capacity: 100 }
      })
      const live = ResilientChimeRooms.layer().pipe(Layer.provide(fake.layer), Layer.provideMerge(resilience))
      const { available, page, second } = yield* runTimed(Effect.gen(function*() {
        const page = yield* ChimeRooms.listRooms({ AccountId: "a" })
        const second = yield* ChimeRooms.listRooms({ AccountId: "a", NextToken: page.NextToken! })
        return { page, second, available: yield* RetryBudget.available }
      })).pipe(Effect.provide(live))
      assert.strictEqual(page.Rooms.length, 10)
      assert.strictEqual(second.Rooms[0]!.RoomId, "room-00010")
      assert.strictEqual(fake.calls.length, 3, "the 503 was retried in place")
      // 1/s with burst 1: the three requests are paced a second apart, whatever the backoff drew.
      assert.deepStrictEqual(fake.calls.map((c) => c.at), [0, 1000, 2000])
      assert.strictEqual(
        available,
        100,
        "the retry's 5 tokens were refunded by the success that followed (capped at capacity)"
      )
    }))

  it.effect("a stream over a resilient layer does not retry twice over", () =>
    Effect.gen(function*() {
      const fake = makeFake({ rooms: 30, pageSize: 10, fault: (call) => unavailable(`r-${call}`) })
      const live = ResilientChimeRooms.layer().pipe(Layer.provide(fake.layer), Layer.provideMerge(Resilience.layer()))
      const error = yield* runTimed(Effect.flip(Stream.runDrain(ChimeRoomsStream.rooms({ AccountId: "a" })))).pipe(
        Effect.provide(live)
      )
      assert.strictEqual(error._tag, "ServiceUnavailableException")
      // Five attempts, not five times five.
      assert.strictEqual(fake.calls.length, RetryPolicy.defaults.maxAttempts)
    }))

  it.effect("listRooms reports the attempts a call took", () =>
    Effect.gen(function*() {
      const fake = makeFake({ rooms: 30, pageSize: 10, fault: (call) => (call <= 2 ? unavailable("x") : undefined) })
      const result = yield* runTimed(ResilientChimeRooms.listRooms({ AccountId: "a" })).pipe(
        Effect.provide(Layer.mergeAll(fake.layer, Resilience.layer()))
      )
      assert.strictEqual(result.attempts, 3)
      assert.strictEqual(result.output.$metadata.requestId, "req-3")
    }))
})

describe("observability", () => {
  // Also over a service that starts calls without a fiber: spans need one, so pages then take it.
  for (const mode of ["effects", "callbacks"] as const) {
    it.effect(`each page and each attempt is a span: attempt, status, request id, error, retry delay (${mode})`, () =>
      Effect.gen(function*() {
        const { spans, tracer } = yield* recordingTracer
        const fake = makeFake({
          rooms: 20,
          pageSize: 10,
          fault: (call) => (call === 2 ? unavailable("req-2") : undefined)
        })
        yield* runTimed(Stream.runDrain(ChimeRoomsStream.rooms({ AccountId: "acc-9" }))).pipe(
          Effect.provide(Layer.mergeAll(mode === "effects" ? fake.layer : fake.callbackLayer, Resilience.layer())),
          Effect.withTracer(tracer)
        )
        const summary = spans.map((s) => ({
          name: s.name,
          page: s.attributes.get("chime.page"),
          attempt: s.attributes.get("chime.attempt"),
          status: s.attributes.get("http.response.status_code"),
          requestId: s.attributes.get("aws.request_id"),
          error: s.attributes.get("error.type"),
          account: s.attributes.get("chime.account"),
          parent: Option.getOrUndefined(Option.map(s.parent, (p) => (p._tag === "Span" ? p.name : "external")))
        }))
        const page = {
          attempt: undefined,
          status: undefined,
          requestId: undefined,
          error: undefined,
          account: "acc-9",
          parent: undefined
        }
        const attempt = { page: undefined, error: undefined, account: "acc-9", parent: "ChimeRoomsStream.page" }
        assert.deepStrictEqual(summary, [
          { ...page, name: "ChimeRoomsStream.page", page: 1 },
          { ...attempt, name: "ChimeRooms.listRooms.attempt", attempt: 1, status: 200, requestId: "req-1" },
          { ...page, name: "ChimeRoomsStream.page", page: 2 },
          {
            ...attempt,
            name: "ChimeRooms.listRooms.attempt",
            attempt: 1,
            status: 503,
            requestId: "req-2",
            error: "ServiceUnavailableException"
          },
          { ...attempt, name: "ChimeRooms.listRooms.attempt", attempt: 2, status: 200, requestId: "req-3" }
        ])
        // The failed attempt holds the delay the policy chose, which is the time until the next attempt.
        const delay = spans[3]!.attributes.get("chime.retry_delay_ms")
        assert.isNumber(delay)
        assert.closeTo(delay as number, fake.calls[2]!.at - fake.calls[1]!.at, 1)
        const withDelay = spans.filter((s) => s.attributes.has("chime.retry_delay_ms"))
        assert.deepStrictEqual(withDelay, [spans[3]!], "only a failed attempt that is retried")
        const failed = spans[3]!.status
        assert.isTrue(failed._tag === "Ended" && Exit.isFailure(failed.exit), "the failed attempt's span ends failed")
        assert.isTrue(spans.every((s) => s.status._tag === "Ended"))
      }))
  }
  it.effect("span attributes never hold room names", () =>
    Effect.gen(function*() {
      const { spans, tracer } = yield* recordingTracer
      const fake = makeFake({ rooms: 5, pageSize: 10 })
      yield* Stream.runDrain(ChimeRoomsStream.rooms({ AccountId: "a" })).pipe(
        Effect.provide(Layer.mergeAll(fake.layer, Resilience.layer())),
        Effect.withTracer(tracer)
      )
      const text = JSON.stringify(spans.map((s) => [...s.attributes.entries()]))
      assert.notInclude(text, "secret-")
    }))

  it.effect("Effect metrics count requests, retries, throttles, pages and rooms; the gauge follows the rate", () =>
    Effect.gen(function*() {
      const counters = [
        ChimeMetrics.requestsTotal,
        ChimeMetrics.retriesTotal,
        ChimeMetrics.throttlesTotal,
        ChimeMetrics.pagesTotal,
        ChimeMetrics.roomsTotal
      ] as const
      const read = Effect.forEach(counters, (c) => Effect.map(Metric.value(c), (s) => s.count))
      const before = yield* read
      const fake = makeFake({
        rooms: 25,
        pageSize: 10,
        fault: (
          call
        ) => (call === 2 ? new ChimeError.ThrottledClientException({ message: "slow", status: 429 }) : undefined)
      })
      const rooms = yield* runTimed(Stream.runCollect(ChimeRoomsStream.rooms({ AccountId: "a" }))).pipe(
        Effect.provide(Layer.mergeAll(fake.layer, Resilience.layer()))
      )
      const after = yield* read
      assert.strictEqual(Chunk.size(rooms), 25)
      assert.deepStrictEqual(after.map((n, i) => n - before[i]!), [4, 1, 1, 3, 25])
      const gauge = yield* Metric.value(ChimeMetrics.rateLimitGauge)
      assert.isAbove(gauge.value, 0, "the adaptive limiter set a rate after the throttle")
    }))
})
