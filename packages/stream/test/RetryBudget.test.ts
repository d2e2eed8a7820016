import { ChimeError } from "@chime-rooms/core"
import {
  ChimeRateLimiter,
  ChimeRoomsStream,
  Resilience,
  ResilientChimeRooms,
  RetryBudget,
  RetryPolicy
} from "@chime-rooms/stream"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Stream, TestClock } from "effect"
import { makeFake } from "./fake.js"

const unavailable = new ChimeError.ServiceUnavailableException({ message: "down", status: 503 })
const timeout = new ChimeError.TransportError({ reason: "Timeout", message: "timed out" })

describe("RetryBudget", () => {
  it.effect("AWS standard-mode numbers: 500 tokens, retry 5, transport retry 10, success refunds", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(RetryBudget.defaults, {
        capacity: 500,
        retryCost: 5,
        timeoutRetryCost: 10,
        noRetryIncrement: 1
      })
      const budget = yield* RetryBudget.make()
      assert.strictEqual(yield* budget.acquire(unavailable), 5)
      assert.strictEqual(yield* budget.acquire(timeout), 10)
      assert.strictEqual(yield* budget.available, 485)
      yield* budget.release(10) // success after a transport retry refunds its cost
      assert.strictEqual(yield* budget.available, 495)
      yield* budget.release(undefined) // success at first try refunds 1
      yield* budget.release(undefined)
      assert.strictEqual(yield* budget.available, 497)
      for (let i = 0; i < 10; i++) yield* budget.release(undefined)
      assert.strictEqual(yield* budget.available, 500, "never above capacity")
    }))

  it.effect("an empty bucket pays for nothing", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.make({ capacity: 12 })
      assert.strictEqual(yield* budget.acquire(unavailable), 5)
      assert.strictEqual(yield* budget.acquire(unavailable), 5)
      assert.isUndefined(yield* budget.acquire(unavailable))
      assert.isUndefined(yield* budget.acquire(timeout))
      assert.strictEqual(yield* budget.available, 2)
    }))

  it.effect("exhaustion: once the bucket is empty the error surfaces without retry; successes refill it", () =>
    Effect.gen(function*() {
      let down = true
      const fake = makeFake({ rooms: 5, pageSize: 10, fault: () => (down ? unavailable : undefined) })
      const layer = Layer.mergeAll(fake.layer, ChimeRateLimiter.layerUnlimited, RetryBudget.layer({ capacity: 20 }))
      const policy = RetryPolicy.make({ maxAttempts: 100 })
      yield* Effect.gen(function*() {
        const call = (expectFailure: boolean) =>
          Effect.gen(function*() {
            const fiber = yield* Effect.fork(
              Effect.either(ResilientChimeRooms.listRooms({ AccountId: "a" }, { retry: policy }))
            )
            yield* TestClock.adjust("1 hour")
            const result = yield* Fiber.join(fiber)
            assert.strictEqual(result._tag, expectFailure ? "Left" : "Right")
          })
        // 20 tokens pay 4 retries: 5 requests, then the error surfaces though the policy allows 100 attempts.
        yield* call(true)
        assert.strictEqual(fake.calls.length, 5)
        assert.strictEqual(yield* RetryBudget.available, 0)
        // Still empty: the next call is not retried at all.
        yield* call(true)
        assert.strictEqual(fake.calls.length, 6)
        // Successes refund one token each; five of them pay for one retry again.
        down = false
        for (let i = 0; i < 5; i++) yield* call(false)
        assert.strictEqual(yield* RetryBudget.available, 5)
        down = true
        const before = fake.calls.length
        yield* call(true)
        assert.strictEqual(fake.calls.length - before, 2, "one retry paid by the refunds")
      }).pipe(Effect.provide(layer))
    }))

  it.effect("the budget is shared by every stream on the same layer", () =>
    Effect.gen(function*() {
      // Every page after the first fails: each stream spends from the same 30 tokens.
      const fake = makeFake({
        rooms: 50,
        pageSize: 10,
        fault: (_, token) => (token === undefined ? undefined : unavailable)
      })
      const layer = Layer.mergeAll(
        fake.layer,
        Resilience.layer({ rateLimiter: ChimeRateLimiter.layerUnlimited, retryBudget: { capacity: 30 } })
      )
      const results = yield* Effect.gen(function*() {
        const fiber = yield* Effect.fork(Effect.all(
          [1, 2, 3].map(() =>
            Effect.either(Stream.runDrain(ChimeRoomsStream.rooms({ AccountId: "a", MaxResults: 10 })))
          ),
          { concurrency: "unbounded" }
        ))
        yield* TestClock.adjust("1 hour")
        return yield* Fiber.join(fiber)
      }).pipe(Effect.provide(layer))
      assert.deepStrictEqual(results.map((r) => r._tag), ["Left", "Left", "Left"])
      // The first pages succeed but the bucket is already full, so 30 tokens pay 6 retries in all, not 3 × 4.
      const retries = fake.calls.filter((c) => c.token !== undefined).length - 3
      assert.strictEqual(retries, 6)
    }))
})
