/**
 * A listing through a Redis limiter: when Redis goes away mid-listing, the listing fails with the
 * typed `RateLimiterError` and resumes from its token with nothing lost or repeated; with the
 * fallback it carries on.
 */
import type { ChimeError } from "@chime-rooms/core"
import { RedisRateLimiter } from "@chime-rooms/redis"
import * as RedisServer from "@chime-rooms/servers/Redis"
import { ChimeRoomsStream, Resilience } from "@chime-rooms/stream"
import { Dataset, InMemory } from "@chime-rooms/testing"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Stream } from "effect"

const endpoint = "https://chime.us-east-1.amazonaws.com"
const dataset = Dataset.generate({ seed: 7, roomsPerAccount: 40 })
const accountId = dataset.accounts[0]!
const expected = Dataset.allRooms(dataset, accountId).map((room) => room.RoomId!)

if (RedisServer.available) {
  describe("a listing through RedisRateLimiter", () => {
    it.scopedLive(
      "Redis stopped mid-listing: RateLimiterError with a resume token; resuming lists the rest exactly",
      () =>
        Effect.gen(function*() {
          const server = yield* Effect.acquireRelease(
            Effect.promise(() => RedisServer.start()),
            (s) => Effect.promise(() => s.close())
          )
          const limiter = RedisRateLimiter.layer({
            url: server.url,
            key: "listing",
            endpoint,
            mode: { kind: "fixed", rate: 200, burst: 5 },
            timeout: Duration.millis(300)
          })
          const seen: Array<string> = []
          const failure = yield* ChimeRoomsStream.rooms({ AccountId: accountId }).pipe(
            Stream.runForEach((room) =>
              Effect.suspend(() => {
                seen.push(room.RoomId!)
                // After the second page, Redis goes away.
                return seen.length === 10 ? Effect.promise(() => server.stop()) : Effect.void
              })
            ),
            Effect.flip,
            Effect.provide(Resilience.layer({ rateLimiter: limiter }))
          )
          assert.strictEqual(failure._tag, "RateLimiterError")
          const error = failure as ChimeError.RateLimiterError
          assert.isDefined(error.resumeToken)
          assert.isAtLeast(seen.length, 10)
          const rest = yield* ChimeRoomsStream.rooms({ AccountId: accountId, NextToken: error.resumeToken }).pipe(
            Stream.map((room) => room.RoomId!),
            Stream.runCollect,
            Effect.provide(Resilience.layer())
          )
          assert.deepStrictEqual([...seen, ...rest], expected)
        }).pipe(Effect.provide(InMemory.layer({ dataset, pageSize: 5 }))),
      15_000
    )

    it.scopedLive(
      "with onUnavailable: \"fallback\", the listing carries on when Redis is stopped",
      () =>
        Effect.gen(function*() {
          const server = yield* Effect.acquireRelease(
            Effect.promise(() => RedisServer.start()),
            (s) => Effect.promise(() => s.close())
          )
          const limiter = RedisRateLimiter.layer({
            url: server.url,
            key: "listing-fallback",
            endpoint,
            timeout: Duration.millis(300),
            onUnavailable: "fallback"
          })
          const seen: Array<string> = []
          yield* ChimeRoomsStream.rooms({ AccountId: accountId }).pipe(
            Stream.runForEach((room) =>
              Effect.suspend(() => {
                seen.push(room.RoomId!)
                return seen.length === 10 ? Effect.promise(() => server.stop()) : Effect.void
              })
            ),
            Effect.provide(Resilience.layer({ rateLimiter: limiter })),
            Effect.provide(InMemory.layer({ dataset, pageSize: 5 }))
          )
          assert.deepStrictEqual(seen, expected)
        }),
      15_000
    )
  })
}
