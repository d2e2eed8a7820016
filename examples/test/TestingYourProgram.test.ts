/**
 * Example: testing your own Effect program with the in-memory layer and `TestClock`
 * (`pnpm example:testing`).
 *
 * `roomsPerCreator` (examples/src/RoomsPerCreator.ts) is an ordinary program that needs
 * `ChimeRooms` and the stream services. In tests, provide `InMemory.layer` instead of
 * the HTTP layer: seeded rooms, scripted faults, a call log — and no network. Delays, backoff and
 * the rate limiter all run on Effect's `Clock`, so `TestClock` makes an hour of retries instant.
 */
import { ChimeRateLimiter, Resilience } from "@chime-rooms/stream"
import { Dataset, Fault, type FaultScript, InMemory } from "@chime-rooms/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, TestClock } from "effect"
import { roomsPerCreator } from "../src/RoomsPerCreator.js"

const dataset = Dataset.generate({ seed: 42, roomsPerAccount: 500 })
const account = dataset.accounts[0]!

const expected = () => {
  const counts = new Map<string, number>()
  for (const room of Dataset.allRooms(dataset, account)) {
    counts.set(room.CreatedBy!, (counts.get(room.CreatedBy!) ?? 0) + 1)
  }
  return counts
}

/** The program's dependencies, in memory: the fake service and a fixed-rate limiter. */
const testLayer = (faults: ReadonlyArray<FaultScript.FaultRule> = []) =>
  Layer.merge(
    InMemory.layer({ dataset, faults }),
    Resilience.layer({ rateLimiter: ChimeRateLimiter.layerFixed({ rate: 2, burst: 1 }) })
  )

describe("testing your own program", () => {
  it.effect("counts every room per creator, paced by the limiter on TestClock", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(roomsPerCreator(account, "60 seconds"))
      // 6 pages of up to 99 rooms at 2 requests/s (burst 1): the last permit comes at 2.5 s.
      yield* TestClock.adjust("2 seconds")
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("500 millis")
      expect(yield* Fiber.join(fiber)).toEqual(expected())
      expect((yield* InMemory.callLogEntries).length).toBe(6)
    }).pipe(Effect.provide(testLayer())))

  it.effect("rides out throttling: the call log shows the retries", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(roomsPerCreator(account, "60 seconds"))
      yield* TestClock.adjust("1 minute")
      expect(yield* Fiber.join(fiber)).toEqual(expected())
      const outcomes = (yield* InMemory.callLogEntries).map((entry) => entry.outcome._tag)
      expect(outcomes.filter((tag) => tag === "Failure")).toHaveLength(2)
      expect(outcomes.filter((tag) => tag === "Page")).toHaveLength(6)
    }).pipe(Effect.provide(testLayer([{ calls: [2, 3], fault: Fault.throttled("5 seconds") }]))))

  it.effect("times out when the service hangs, without waiting in real time", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(Effect.flip(roomsPerCreator(account, "30 seconds")))
      yield* TestClock.adjust("31 seconds")
      expect(yield* Fiber.join(fiber)).toBe("TimedOut")
    }).pipe(Effect.provide(testLayer([{ calls: [1], fault: Fault.delay("1 hour") }]))))
})
