/**
 * The pump's logic on `TestClock`: its wake-up rule against consumers that suspend in every way,
 * over a service that tells a page's token early and hands the page over on a later turn of the
 * event loop (as `HttpChimeRooms` does over `UndiciHttpClient`); and what happens when a callback
 * that runs outside any fiber throws.
 */
import { type ChimeError, ChimeRooms, type ListRoomsResponse, type Room } from "@chime-rooms/core"
import { ChimeRateLimiter, ChimeRoomsStream, Resilience, RetryBudget } from "@chime-rooms/stream"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Chunk, Effect, Exit, FastCheck, Fiber, Layer, Stream, TestClock, TestContext } from "effect"
import { makeFake } from "./fake.js"

const request = { AccountId: "acc-1", MaxResults: 10 } as const

/** One real turn of the event loop (the fake hands pages over from `setImmediate`). */
const turn = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/**
 * Runs `fiber` to its end by moving the test clock 1 ms at a time with a real turn of the event
 * loop between steps; a fiber still running after `steps` has hung.
 */
const drive = <A, E>(fiber: Fiber.RuntimeFiber<A, E>, steps = 20_000) =>
  Effect.gen(function*() {
    for (let i = 0; i < steps; i++) {
      const exit = fiber.unsafePoll()
      if (exit !== null) return exit
      yield* TestClock.adjust("1 millis")
      yield* turn
    }
    return yield* Effect.dieMessage(`the stream hung: not over after ${steps} ms of test time`)
  })

/** What a consumer does with a page before it pulls the next one. */
type Step = "sync" | "yield" | "turn" | { readonly sleep: number }

const act = (step: Step): Effect.Effect<void> =>
  step === "sync"
    ? Effect.void
    : step === "yield"
    ? Effect.yieldNow()
    : step === "turn"
    ? turn
    : Effect.sleep(step.sleep)

const stepArb: FastCheck.Arbitrary<Step> = FastCheck.oneof(
  FastCheck.constant("sync" as const),
  FastCheck.constant("yield" as const),
  FastCheck.constant("turn" as const),
  FastCheck.integer({ min: 0, max: 3 }).map((sleep) => ({ sleep }))
)

const resilience = Resilience.layer({ rateLimiter: ChimeRateLimiter.layerUnlimited })

describe("the pump's wake-up: a waiting consumer is woken by the next arrival, failure or end", () => {
  // The case found by a user: a consumer alternating real work and a 1 ms timer hung for good.
  for (const prefetch of [0, 1, 2, 3, 4, 5]) {
    it.effect(`prefetch ${prefetch}: a consumer that alternates a turn of the event loop and a 1 ms timer gets every room`, () =>
      Effect.gen(function*() {
        const fake = makeFake({ rooms: 200, pageSize: 10, latency: "2 millis" })
        let n = 0
        const fiber = yield* ChimeRoomsStream.rooms(request, { prefetch }).pipe(
          Stream.mapChunksEffect((chunk) => Effect.as(n++ % 2 === 0 ? turn : Effect.sleep("1 millis"), chunk)),
          Stream.runCollect,
          Effect.provide(Layer.mergeAll(fake.earlyLayer, resilience)),
          Effect.fork
        )
        const exit = yield* drive(fiber)
        assert.deepStrictEqual(Exit.map(exit, Chunk.toReadonlyArray), Exit.succeed(fake.all))
      }))
  }

  it.effect("a wake-up that comes after the consumer took the page is not spent: the next arrival still wakes it", () =>
    Effect.gen(function*() {
      // A service whose calls the test answers by hand, from outside any fiber, as a transport does.
      const pending: Array<(exit: Exit.Exit<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError>) => void> = []
      const answer = (n: number, last = false) =>
        Effect.sync(() =>
          pending[n - 1]!(Exit.succeed({
            Rooms: [{ RoomId: `room-${n}` }],
            ...(last ? {} : { NextToken: `tok-${n}` }),
            $metadata: { httpStatusCode: 200 }
          }))
        )
      const service: ChimeRooms.ChimeRoomsService = {
        listRooms: () => Effect.die("the fast way only"),
        unsafeListRooms: (_request, _clock, done) => {
          pending.push(done)
          return () => {}
        }
      }
      const layer = Layer.mergeAll(Layer.succeed(ChimeRooms.ChimeRooms, service), resilience)
      yield* Effect.scoped(Effect.gen(function*() {
        const pull = yield* Stream.toPull(ChimeRoomsStream.rooms(request, { prefetch: 2 }))
        const first = yield* Effect.fork(pull)
        yield* turn
        yield* answer(1) // page 1 in, page 2 sent; the waiting consumer is told on the next turn
        assert.deepStrictEqual(Chunk.toReadonlyArray(yield* Fiber.join(first)).map((r) => r.RoomId), ["room-1"])
        yield* answer(2) // page 2 in, page 3 sent, a wake-up deferred to the next turn...
        // ...but the consumer takes page 2 at once, and waits for page 3 before that turn comes.
        assert.deepStrictEqual(Chunk.toReadonlyArray(yield* pull).map((r) => r.RoomId), ["room-2"])
        const third = yield* Effect.fork(pull)
        yield* turn // the deferred wake-up: nothing has arrived, the consumer must keep waiting
        yield* turn
        yield* answer(3, true)
        yield* turn
        const exit = third.unsafePoll()
        assert.isNotNull(exit, "page 3's arrival woke the consumer")
        assert.deepStrictEqual(
          Exit.map(exit!, (c) => Chunk.toReadonlyArray(c).map((r) => r.RoomId)),
          Exit.succeed(["room-3"])
        )
      })).pipe(Effect.provide(layer))
    }))

  it.effect(
    "any consumer, any prefetch, any latency: every room once, in order, and the stream ends (property)",
    () =>
      Effect.promise(() =>
        FastCheck.assert(
          FastCheck.asyncProperty(
            FastCheck.integer({ min: 0, max: 5 }),
            FastCheck.integer({ min: 0, max: 3 }),
            FastCheck.array(stepArb, { minLength: 1, maxLength: 12 }),
            FastCheck.constantFrom("effects", "callbacks", "early"),
            (prefetch, latency, steps, kind) =>
              Effect.runPromise(
                Effect.gen(function*() {
                  const fake = makeFake({ rooms: 70, pageSize: 7, latency: `${latency} millis` })
                  const layer = kind === "effects"
                    ? fake.layer
                    : kind === "callbacks"
                    ? fake.callbackLayer
                    : fake.earlyLayer
                  let page = 0
                  const fiber = yield* ChimeRoomsStream.rooms(request, { prefetch, maxPages: 1000 }).pipe(
                    Stream.mapChunksEffect((chunk) => Effect.as(act(steps[page++ % steps.length]!), chunk)),
                    Stream.runCollect,
                    Effect.provide(Layer.mergeAll(layer, resilience)),
                    Effect.fork
                  )
                  const exit = yield* drive(fiber)
                  assert.deepStrictEqual(Exit.map(exit, Chunk.toReadonlyArray), Exit.succeed(fake.all))
                }).pipe(Effect.provide(TestContext.TestContext))
              )
          ),
          { seed: 15, numRuns: 30 }
        )
      ),
    60_000
  )
})

/** A room list's ids, for comparisons that print no names. */
const ids = (rooms: ReadonlyArray<Room.Room>) => rooms.map((r) => r.RoomId)

describe("a throw in a callback outside any fiber reaches the stream", () => {
  /**
   * Lists 100 rooms (10 pages) over the fake with early tokens, `prefetch` 3, with `broken`'s
   * services; returns the rooms that arrived before the stream ended and how it ended.
   */
  const listWith = (
    layer: Layer.Layer<ChimeRooms.ChimeRooms | ChimeRateLimiter.ChimeRateLimiter | RetryBudget.RetryBudget>
  ) =>
    Effect.gen(function*() {
      const got: Array<Room.Room> = []
      const fiber = yield* ChimeRoomsStream.rooms(request, { prefetch: 3 }).pipe(
        Stream.runForEach((room) => Effect.sync(() => got.push(room))),
        Effect.provide(layer),
        Effect.fork
      )
      const exit = yield* drive(fiber)
      return { got, exit }
    })

  const boom = new Error("boom")
  const isBoom = (exit: Exit.Exit<void, unknown>) =>
    Exit.isFailure(exit) && Cause.isDie(exit.cause) && Cause.squash(exit.cause) === boom

  const limiterThatThrows = (where: "unsafeReserve" | "unsafeFeedback", at: number) =>
    Layer.effect(
      ChimeRateLimiter.ChimeRateLimiter,
      Effect.map(ChimeRateLimiter.makeFixed({ rate: 1000, burst: 1000 }), (limiter) => {
        let calls = 0
        const throwing = <A extends Array<unknown>, B>(f: (...args: A) => B) => (...args: A): B => {
          if (++calls === at) throw boom
          return f(...args)
        }
        return where === "unsafeReserve"
          ? { ...limiter, unsafeReserve: throwing(limiter.unsafeReserve!) }
          : { ...limiter, unsafeFeedback: throwing(limiter.unsafeFeedback!) }
      })
    )

  for (const where of ["unsafeReserve", "unsafeFeedback"] as const) {
    it.effect(`the limiter's ${where} throws on its 4th call: the pages before stand, then the defect`, () =>
      Effect.gen(function*() {
        const fake = makeFake({ rooms: 100, pageSize: 10, latency: "1 millis" })
        const { exit, got } = yield* listWith(
          Layer.mergeAll(fake.earlyLayer, Resilience.layer({ rateLimiter: limiterThatThrows(where, 4) }))
        )
        assert.isTrue(isBoom(exit), `the stream dies with the thrown error: ${exit}`)
        assert.deepStrictEqual(ids(got), ids(fake.all.slice(0, got.length)), "no room dropped or repeated before it")
        assert.isAtLeast(got.length, 20)
      }))
  }

  it.effect("the budget's release throws in the completion handler: the defect reaches the stream", () =>
    Effect.gen(function*() {
      const fake = makeFake({ rooms: 100, pageSize: 10, latency: "1 millis" })
      const real = yield* RetryBudget.make()
      let calls = 0
      const budget: RetryBudget.RetryBudgetService = {
        ...real,
        unsafeRelease: (cost) => {
          if (++calls === 3) throw boom
          real.unsafeRelease!(cost)
        }
      }
      const { exit, got } = yield* listWith(Layer.mergeAll(
        fake.earlyLayer,
        Layer.succeed(ChimeRateLimiter.ChimeRateLimiter, ChimeRateLimiter.unlimited),
        Layer.succeed(RetryBudget.RetryBudget, budget)
      ))
      assert.isTrue(isBoom(exit), `the stream dies with the thrown error: ${exit}`)
      assert.deepStrictEqual(ids(got), ids(fake.all.slice(0, got.length)))
    }))

  for (const at of [1, 2, 5]) {
    it.effect(`starting call ${at} throws (signing the next request): the pages before stand, then the defect`, () =>
      Effect.gen(function*() {
        const fake = makeFake({ rooms: 100, pageSize: 10, latency: "1 millis" })
        let calls = 0
        const start = Layer.effect(
          ChimeRooms.ChimeRooms,
          Effect.map(ChimeRooms.ChimeRooms, (service): ChimeRooms.ChimeRoomsService => ({
            ...service,
            unsafeListRooms: (input, clock, done, onNextToken) => {
              if (++calls === at) throw boom
              return service.unsafeListRooms!(input, clock, done, onNextToken)
            }
          }))
        ).pipe(Layer.provide(fake.earlyLayer))
        const { exit, got } = yield* listWith(Layer.mergeAll(start, resilience))
        assert.isTrue(isBoom(exit), `the stream dies with the thrown error: ${exit}`)
        assert.deepStrictEqual(ids(got), ids(fake.all.slice(0, (at - 1) * 10)), "every page before the one that threw")
      }))
  }
})
