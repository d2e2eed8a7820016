/**
 * A limiter that cannot grant a permit (its shared store is away): the listing fails with its
 * `RateLimiterError`, resumable from the page that got no permit; nothing is sent for that page,
 * nothing is fed back and nothing is retried.
 */
import { ChimeError } from "@chime-rooms/core"
import { ChimeRateLimiter, ChimeRoomsStream, Resilience, ResilientChimeRooms } from "@chime-rooms/stream"
import { Dataset, InMemory } from "@chime-rooms/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Stream } from "effect"

const dataset = Dataset.generate({ seed: 3, roomsPerAccount: 30 })
const accountId = dataset.accounts[0]!

/** Grants `permits` permits, then fails; counts the feedback. */
const failingAfter = (permits: number) => {
  const counts = { acquired: 0, feedback: 0 }
  const limiter: ChimeRateLimiter.ChimeRateLimiterService = {
    acquire: Effect.suspend(() =>
      counts.acquired++ < permits
        ? Effect.void
        : Effect.fail(new ChimeError.RateLimiterError({ reason: "Unavailable", message: "store away" }))
    ),
    onThrottle: Effect.sync(() => counts.feedback++),
    onSuccess: Effect.sync(() => counts.feedback++),
    currentRate: Effect.succeed(undefined)
  }
  return { counts, layer: Layer.succeed(ChimeRateLimiter.ChimeRateLimiter, limiter) }
}

describe("a limiter that fails to grant a permit", () => {
  it.effect("fails the listing with RateLimiterError, resumable, without feedback or retry", () =>
    Effect.gen(function*() {
      const { counts, layer } = failingAfter(2)
      const seen: Array<string> = []
      const error = yield* ChimeRoomsStream.rooms({ AccountId: accountId }).pipe(
        Stream.runForEach((room) => Effect.sync(() => seen.push(room.RoomId!))),
        Effect.flip,
        Effect.provide(Resilience.layer({ rateLimiter: layer }))
      )
      assert.strictEqual(error._tag, "RateLimiterError")
      assert.isFalse(ChimeError.isRetryableError(error))
      assert.strictEqual(seen.length, 20)
      assert.strictEqual(counts.acquired, 3, "no retry")
      assert.strictEqual(counts.feedback, 2, "feedback for the two pages sent, none for the one not sent")
      const calls = yield* InMemory.callLogEntries
      assert.strictEqual(calls.length, 2)
      const rest = yield* ChimeRoomsStream.rooms({ AccountId: accountId, NextToken: error.resumeToken }).pipe(
        Stream.map((room) => room.RoomId!),
        Stream.runCollect,
        Effect.provide(Resilience.layer())
      )
      assert.deepStrictEqual(
        [...seen, ...rest],
        Dataset.allRooms(dataset, accountId).map((room) => room.RoomId!)
      )
    }).pipe(Effect.provide(InMemory.layer({ dataset, pageSize: 10 }))))

  it.effect("fails a resilient single call with it", () =>
    Effect.gen(function*() {
      const { layer } = failingAfter(0)
      const error = yield* ResilientChimeRooms.listRooms({ AccountId: accountId }).pipe(
        Effect.flip,
        Effect.provide(Resilience.layer({ rateLimiter: layer }))
      )
      assert.strictEqual(error._tag, "RateLimiterError")
    }).pipe(Effect.provide(InMemory.layer({ dataset, pageSize: 10 }))))
})
