/**
 * End to end: workers with layers of their own (as separate processes would have) list from one
 * emulator limited to 50 requests/s (burst 5), sharing one adaptive limiter in Redis. Real sockets
 * on 127.0.0.1, real time.
 */
import { Credentials, HttpChimeRooms, UndiciHttpClient } from "@chime-rooms/http"
import { RedisRateLimiter } from "@chime-rooms/redis"
import * as RedisServer from "@chime-rooms/servers/Redis"
import { ChimeRoomsStream, Resilience } from "@chime-rooms/stream"
import { Dataset, Emulator } from "@chime-rooms/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Stream } from "effect"

const WORKERS = 2
const PAGES = 100
const PAGE_SIZE = 2

if (RedisServer.available) {
  describe("workers sharing a Redis limiter against the emulator", () => {
    it.live(
      `${WORKERS} workers, ${PAGES} pages each, through a server limit of 50 req/s (burst 5): every room once, few throttles`,
      () =>
        Effect.scoped(Effect.gen(function*() {
          const server = yield* Effect.acquireRelease(
            Effect.promise(() => RedisServer.start()),
            (s) => Effect.promise(() => s.close())
          )
          const dataset = Dataset.generate({ seed: 5, accounts: WORKERS, roomsPerAccount: PAGES * PAGE_SIZE })
          const emulator = yield* Emulator.make({ dataset, rateLimit: { rate: 50, burst: 5 }, recordLimit: 100_000 })
          const started = performance.now()
          const listed = yield* Effect.all(
            emulator.accounts.map((accountId) => {
              // One worker: its own client, limiter layer and Redis connection.
              const worker = Layer.mergeAll(
                HttpChimeRooms.layer({ endpoint: emulator.endpoint }).pipe(
                  Layer.provide(UndiciHttpClient.layer),
                  Layer.provide(Credentials.layerStatic(emulator.credentials))
                ),
                Resilience.layer({
                  rateLimiter: RedisRateLimiter.layer({ url: server.url, endpoint: emulator.endpoint }).pipe(
                    Layer.provide(Credentials.layerStatic(emulator.credentials))
                  )
                })
              )
              return ChimeRoomsStream.rooms({ AccountId: accountId, MaxResults: PAGE_SIZE }).pipe(
                Stream.map((room) => room.RoomId!),
                Stream.runCollect,
                Effect.map((ids) => ({ accountId, ids: [...ids] })),
                Effect.provide(worker)
              )
            }),
            { concurrency: "unbounded" }
          )
          const seconds = (performance.now() - started) / 1000
          for (const { accountId, ids } of listed) {
            assert.deepStrictEqual(ids, Dataset.allRooms(dataset, accountId).map((room) => room.RoomId!))
          }
          const received = emulator.received()
          const throttled = received.filter((r) => r.outcome?.status === 429).length
          const pages = WORKERS * PAGES
          yield* Effect.logInfo(
            `${pages} pages by ${WORKERS} workers sharing a Redis adaptive limiter: ${seconds.toFixed(1)} s ` +
              `(the limit allows ${((pages - 5) / 50).toFixed(1)} s), ${throttled} of ${received.length} throttled`
          )
          assert.strictEqual(received.length - throttled, pages)
          assert.isBelow(throttled / received.length, 0.05)
        })),
      60_000
    )
  })
}
