/**
 * The wall clock is set back or forward an hour in the middle of a listing (NTP, a VM resumed, an
 * operator): the rate limiter and the retries keep their pace, with no stall and no burst. Live
 * clock over the emulator on 127.0.0.1; `Date.now` is shifted for the whole process, as the system
 * clock would be (the emulator checks signatures against the same shifted clock).
 */
import { ChimeRooms } from "@chime-rooms/core"
import { Credentials, HttpChimeRooms } from "@chime-rooms/http"
import { ChimeRateLimiter, ChimeRoomsStream, Resilience } from "@chime-rooms/stream"
import { Dataset, Emulator } from "@chime-rooms/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Stream } from "effect"
import { clients } from "./hostile.js"

const PAGES = 70
const RATE = 20
const BURST = 30
/** The page whose arrival sets the clock: the first burst is long spent, 30 pages are left. */
const STEP_AT = 40

/** Runs `effect` with `Date.now` shifted by what `shift()` says at each call. */
const withShiftedWallClock = <A, E, R>(shift: () => number, effect: Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const real = Date.now
      Date.now = () => real() + shift()
      return real
    }),
    () => effect,
    (real) =>
      Effect.sync(() => {
        Date.now = real
      })
  )

describe("the wall clock set back or forward an hour mid-listing", () => {
  for (const step of [-1, 1]) {
    for (const [name, client] of clients.filter(([n]) => n === "UndiciHttpClient" || n === "FetchHttpClient")) {
      it.live(
        `${step < 0 ? "back" : "forward"} an hour, ${name}: the fixed limiter keeps ${RATE}/s, no stall, no burst`,
        () =>
          Effect.scoped(Effect.gen(function*() {
            const dataset = Dataset.generate({ seed: 3, roomsPerAccount: PAGES })
            const emulator = yield* Emulator.make({ dataset })
            const sent: Array<number> = []
            let shift = 0
            let steppedAt = Infinity
            // Records when each request leaves, on the monotonic clock; the stream's fast way is kept.
            const recording = Layer.effect(
              ChimeRooms.ChimeRooms,
              Effect.map(ChimeRooms.ChimeRooms, (service): ChimeRooms.ChimeRoomsService => ({
                listRooms: (request) =>
                  Effect.suspend(() => {
                    sent.push(performance.now())
                    return service.listRooms(request)
                  }),
                ...(service.unsafeListRooms === undefined ? {} : {
                  unsafeListRooms: (request, clock, done, onNextToken) => {
                    const abort = service.unsafeListRooms!(request, clock, done, onNextToken)
                    if (abort !== undefined) sent.push(performance.now())
                    return abort
                  }
                })
              }))
            ).pipe(
              Layer.provide(HttpChimeRooms.layer({ endpoint: emulator.endpoint })),
              Layer.provide(client),
              Layer.provide(Credentials.layerStatic(emulator.credentials))
            )
            const layer = Layer.mergeAll(
              recording,
              Resilience.layer({ rateLimiter: ChimeRateLimiter.layerFixed({ rate: RATE, burst: BURST }) })
            )
            const started = performance.now()
            const count = yield* withShiftedWallClock(
              () => shift,
              ChimeRoomsStream.pages({ AccountId: emulator.accounts[0]!, MaxResults: 1 }, { prefetch: 2 }).pipe(
                Stream.tap((page) =>
                  Effect.sync(() => {
                    if (page.pageNumber !== STEP_AT) return
                    shift = step * 3_600_000
                    steppedAt = performance.now()
                  })
                ),
                Stream.runCount,
                Effect.provide(layer),
                Effect.timeout("10 seconds")
              )
            )
            const seconds = (performance.now() - started) / 1000
            assert.strictEqual(count, PAGES)
            // (70 − 30) requests at 20/s: two seconds, plus the listing's own time.
            assert.isBelow(seconds, 6, "no stall")
            // The bucket was drained long before the step. A limiter on the wall clock refills its
            // whole burst when the clock jumps forward and sends the 30 pages left at once; paced at
            // 20/s, 300 ms hold six (a loaded machine that stalls the client for a while lets a few
            // more through, as a token bucket should, but never the whole burst).
            const soon = sent.filter((t) => t >= steppedAt && t < steppedAt + 300).length
            assert.isAtMost(soon, 15, `no burst: ${soon} requests within 300 ms of the step`)
          })),
        20_000
      )
    }
  }
})
