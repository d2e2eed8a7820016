/**
 * End to end: the stream over the http package against the emulator, with the emulator limiting
 * the client to 50 requests/s (burst 5). Real sockets on 127.0.0.1, real time.
 */
import { Credentials, HttpChimeRooms, UndiciHttpClient } from "@chime-rooms/http"
import { ChimeMetrics, ChimeRoomsStream } from "@chime-rooms/stream"
import { Dataset, Emulator } from "@chime-rooms/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Stream } from "effect"

const PAGES = 500
const PAGE_SIZE = 2

describe("end to end against the emulator", () => {
  it.live(
    `${PAGES} pages through a server limit of 50 req/s (burst 5): every room once, under 5% throttled`,
    () =>
      Effect.scoped(Effect.gen(function*() {
        const dataset = Dataset.generate({ seed: 11, roomsPerAccount: PAGES * PAGE_SIZE })
        const emulator = yield* Emulator.make({ dataset, rateLimit: { rate: 50, burst: 5 }, recordLimit: 100_000 })
        const accountId = emulator.accounts[0]!
        // What a user writes: the http ChimeRooms plus the default resilience (adaptive limiter).
        const live = Layer.mergeAll(
          HttpChimeRooms.layer({ endpoint: emulator.endpoint }).pipe(
            Layer.provide(UndiciHttpClient.layer),
            Layer.provide(Credentials.layerStatic(emulator.credentials))
          ),
          ChimeRoomsStream.layer()
        )
        const started = performance.now()
        const { ids, stats } = yield* Effect.gen(function*() {
          const ids: Array<string> = []
          yield* ChimeRoomsStream.rooms({ AccountId: accountId, MaxResults: PAGE_SIZE }).pipe(
            Stream.runForEach((room) => Effect.sync(() => ids.push(room.RoomId!)))
          )
          return { ids, stats: yield* ChimeMetrics.snapshot }
        }).pipe(Effect.provide(live))
        const seconds = (performance.now() - started) / 1000

        const expected = Dataset.allRooms(dataset, accountId).map((r) => r.RoomId!)
        assert.strictEqual(ids.length, expected.length)
        assert.deepStrictEqual(ids, expected, "every room once, in service order")

        const received = emulator.received()
        const throttled = received.filter((r) => r.outcome?.status === 429).length
        const ratio = throttled / received.length
        yield* Effect.logInfo(
          `e2e: ${received.length} requests, ${throttled} throttled (${(ratio * 100).toFixed(2)}%), ` +
            `${seconds.toFixed(1)} s, ${(PAGES / seconds).toFixed(1)} pages/s, final rate ${
              stats.currentRate?.toFixed(1)
            }/s`
        )
        assert.strictEqual(received.length - throttled, PAGES)
        assert.strictEqual(stats.pages, PAGES)
        assert.strictEqual(stats.throttles, throttled)
        assert.isBelow(ratio, 0.05)
      })),
    60_000
  )
})
