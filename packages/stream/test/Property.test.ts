/**
 * Properties over random fault scripts on @chime-rooms/testing's in-memory `ChimeRooms`.
 */
import type { ChimeError, Room } from "@chime-rooms/core"
import { ChimeRoomsStream, Resilience, RetryPolicy } from "@chime-rooms/stream"
import { Dataset, Fault, type FaultScript, InMemory } from "@chime-rooms/testing"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Either, FastCheck, Fiber, Layer, Stream, TestClock } from "effect"
import { makeSimClock } from "./simClock.js"

/** The retryable faults the in-memory layer can inject. */
const transientFault = FastCheck.oneof(
  FastCheck.integer({ min: 0, max: 3000 }).map((ms) => Fault.throttled(ms === 0 ? undefined : ms)),
  FastCheck.integer({ min: 0, max: 3000 }).map((ms) => Fault.unavailable(ms === 0 ? undefined : ms)),
  FastCheck.constant(Fault.serviceError("ServiceFailureException")),
  FastCheck.constant(Fault.transport),
  FastCheck.constant(Fault.reset),
  FastCheck.constant(Fault.truncatedJson),
  FastCheck.constant(Fault.html502)
)

/** Runs of consecutive failing calls, each shorter than the attempts a page gets, separated by a success. */
const transientRuns = FastCheck.array(
  FastCheck.record({
    gap: FastCheck.integer({ min: 1, max: 4 }),
    run: FastCheck.integer({ min: 1, max: RetryPolicy.defaults.maxAttempts - 1 }),
    fault: transientFault
  }),
  { maxLength: 8 }
)

/** Turns runs into rules by call number; returns the rules and the next free call number. */
const rulesOf = (runs: ReadonlyArray<{ gap: number; run: number; fault: Fault.Fault }>, start = 1) => {
  const rules: Array<FaultScript.FaultRule> = []
  let call = start
  for (const { fault, gap, run } of runs) {
    call += gap - 1
    for (let i = 0; i < run; i++) rules.push({ calls: [call++], fault })
    call++ // a success separates runs
  }
  return { rules, next: call }
}

const account = (dataset: Dataset.Dataset) => dataset.accounts[0]!

/**
 * Drains `stream`, collecting rooms as they arrive. Backoff sleeps run on a virtual clock that
 * jumps (see simClock.ts): the properties are about what arrives, not when, and TestClock's
 * per-sleep scheduling would make a few hundred runs take minutes.
 */
const drain = <R>(stream: Stream.Stream<Room.Room, ChimeError.ChimeError, R>) =>
  Effect.gen(function*() {
    const seen: Array<string> = []
    const result = yield* Effect.either(Stream.runForEach(stream, (room) => Effect.sync(() => seen.push(room.RoomId!))))
    return { seen, result }
  }).pipe(Effect.withClock(makeSimClock().clock))

describe("properties on the in-memory layer", () => {
  it.effect.prop(
    "when faults eventually clear, every room arrives exactly once, in service order",
    {
      rooms: FastCheck.integer({ min: 0, max: 150 }),
      pageSize: FastCheck.integer({ min: 1, max: 20 }),
      runs: transientRuns,
      prefetch: FastCheck.constantFrom(0, 0, 2)
    },
    ({ pageSize, prefetch, rooms, runs }) =>
      Effect.gen(function*() {
        const dataset = Dataset.generate({ seed: rooms, roomsPerAccount: rooms })
        const { rules } = rulesOf(runs)
        const layer = Layer.mergeAll(InMemory.layer({ dataset, faults: rules }), Resilience.layer())
        const expected = Dataset.allRooms(dataset, account(dataset)).map((r) => r.RoomId!)
        const { result, seen } = yield* drain(
          ChimeRoomsStream.rooms({ AccountId: account(dataset), MaxResults: pageSize }, { prefetch })
        ).pipe(Effect.provide(layer))
        assert.isTrue(Either.isRight(result), Either.isLeft(result) ? result.left._tag : "")
        assert.deepStrictEqual(seen, expected)
      }),
    { timeout: 60_000, fastCheck: { numRuns: 100 } }
  )

  it.effect.prop(
    "when retries run out, the error carries the token to resume from, and resuming yields exactly the rest",
    {
      rooms: FastCheck.integer({ min: 1, max: 120 }),
      pageSize: FastCheck.integer({ min: 1, max: 20 }),
      runs: transientRuns,
      fatalAfter: FastCheck.nat(),
      fatal: transientFault
    },
    ({ fatal, fatalAfter, pageSize, rooms, runs }) =>
      Effect.gen(function*() {
        const dataset = Dataset.generate({ seed: rooms, roomsPerAccount: rooms })
        const pages = Math.ceil(rooms / pageSize)
        const transient = rulesOf(runs)
        // Successful calls before `next` each delivered a page; keep the runs only if pages remain.
        const delivered = transient.next - 1 - transient.rules.length
        const { next, rules } = delivered < pages ? transient : { next: 1, rules: [] }
        const remaining = pages - (delivered < pages ? delivered : 0)
        // Then one page (any of the remaining ones) fails on every one of its attempts.
        const first = next + (fatalAfter % remaining)
        const fatalCalls = Array.from({ length: RetryPolicy.defaults.maxAttempts }, (_, i) => first + i)
        const layer = Layer.mergeAll(
          InMemory.layer({ dataset, faults: [...rules, { calls: fatalCalls, fault: fatal }] }),
          Resilience.layer()
        )
        const request = { AccountId: account(dataset), MaxResults: pageSize }
        const expected = Dataset.allRooms(dataset, account(dataset)).map((r) => r.RoomId!)
        yield* Effect.gen(function*() {
          const firstRun = yield* drain(ChimeRoomsStream.rooms(request))
          assert.isTrue(Either.isLeft(firstRun.result), "the fatal page is within the listing")
          if (Either.isRight(firstRun.result)) return
          const error = firstRun.result.left
          assert.notStrictEqual(error._tag, "PaginationLoopError")
          // The rooms so far are a prefix, a whole number of pages long.
          assert.deepStrictEqual(firstRun.seen, expected.slice(0, firstRun.seen.length))
          assert.strictEqual(firstRun.seen.length % pageSize, 0)
          assert.strictEqual(error.resumeToken === undefined, firstRun.seen.length === 0)
          const resumed = yield* drain(
            ChimeRoomsStream.rooms(
              error.resumeToken === undefined ? request : { ...request, NextToken: error.resumeToken }
            )
          )
          assert.isTrue(Either.isRight(resumed.result))
          const all = [...firstRun.seen, ...resumed.seen]
          assert.deepStrictEqual(all, expected)
          assert.strictEqual(new Set(all).size, all.length)
        }).pipe(Effect.provide(layer))
      }),
    { timeout: 60_000, fastCheck: { numRuns: 100 } }
  )

  it.effect("a scripted pagination loop fails with PaginationLoopError", () =>
    Effect.gen(function*() {
      const dataset = Dataset.generate({ roomsPerAccount: 50 })
      const layer = Layer.mergeAll(
        InMemory.layer({ dataset, faults: [{ calls: [3], fault: Fault.repeatToken }] }),
        Resilience.layer()
      )
      const { result, seen } = yield* drain(ChimeRoomsStream.rooms({ AccountId: account(dataset), MaxResults: 10 }))
        .pipe(
          Effect.provide(layer)
        )
      assert.isTrue(Either.isLeft(result) && result.left._tag === "PaginationLoopError")
      assert.strictEqual(seen.length, 30)
    }))

  it.effect("the in-memory call log shows each failed page retried in place", () =>
    Effect.gen(function*() {
      const dataset = Dataset.generate({ roomsPerAccount: 40 })
      const layer = InMemory.layer({
        dataset,
        faults: [{ calls: [2, 3], fault: Fault.throttled("1 second") }]
      })
      const pages = yield* Effect.gen(function*() {
        const fiber = yield* Effect.fork(
          Stream.runCollect(ChimeRoomsStream.pages({ AccountId: account(dataset), MaxResults: 10 }))
        )
        yield* TestClock.adjust("1 hour")
        return yield* Fiber.join(fiber)
      }).pipe(Effect.provide(Layer.mergeAll(layer, Resilience.layer())))
      assert.deepStrictEqual(Chunk.toReadonlyArray(pages).map((p) => p.attempts), [1, 3, 1, 1])
      assert.deepStrictEqual(Chunk.toReadonlyArray(pages).map((p) => p.requestId), [
        "req-000001",
        "req-000004",
        "req-000005",
        "req-000006"
      ])
    }))
})
