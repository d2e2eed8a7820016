/**
 * The wall clock is set back or forward an hour in the middle of a listing (NTP, a VM resumed, an
 * operator): the rate limiter and the retries keep their pace, with no stall and no burst. Live
 * clock over the emulator on 127.0.0.1; `Date.now` is shifted for the whole process, as the system
 * clock would be (the emulator checks signatures against the same shifted clock).
 */
import type { ChimeRoomsService } from "@chime-rooms/core"
import { ChimeRooms } from "@chime-rooms/core"
import { Credentials, HttpChimeRooms, UndiciHttpClient } from "@chime-rooms/http"
import { ChimeRateLimiter, ChimeRoomsStream, Resilience } from "@chime-rooms/stream"
import { Dataset, Emulator } from "@chime-rooms/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Stream } from "effect"
import { clients } from "./hostile.js"

const PAGES = 60
const RATE = 50
const BURST = 10

/** Runs `effect` with `Date.now` shifted by what `shift()` says at each call. */
const withShiftedWallClock = <A, E, R>(shift: () => number, effect: Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const real = Date.now
      Date.now = () => real() + shift()
      return real
    }),
    () => effect,
    (real) => Effect.sync(() => { Date.now = real })
  )

describe("the wall clock set back or forward an hour mid-listing", () => {
  for (const step of [-1, 1]) {
    for (const [name, client] of clients.filter(([n]) => n === "UndiciHttpClient" || n === "FetchHttpClient")) {
      it.live(`${step < 0 ? "back" : "forward"} an hour, ${name}: the fixed limiter keeps ${RATE}/s, no stall, no burst`, () =>
        Effect.scoped(Effect.gen(function*() {
          const dataset = Dataset.generate({ seed: 3, roomsPerAccount: PAGES })
          const emulator = yield* Emulator.make({ dataset })
          const sent: Array<number> = []
          let shift = 0
          let steppedAt = Infinity
          // Records when each request leaves, on the monotonic clock; the stream's fast way is kept.
          const recording = Layer.effect(
            ChimeRooms,
            Effect.map(ChimeRooms, (service): ChimeRoomsService => ({
              listRooms: (request) => Effect.suspend(() => {
                sent.push(performance.now())
                return service.listRooms(request)
              }),
              ...(service.startListRooms === undefined ? {} : {
                startListRooms: (request, clock, done, onNextToken) => {
                  const abort = service.startListRooms!(request, clock, done, onNextToken)
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
                  if (page.pageNumber !== 25) return
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
          // (60 − 10) requests at 50/s: a second, plus the listing's own time.
          assert.isBelow(seconds, 3, "no stall")
          // The bucket was drained long before the step: from then on, no 200 ms window holds more
          // than the rate allows (10) and a request (a wall-clock limiter refilled its whole burst).
          const after = sent.filter((t) => t >= steppedAt)
          assert.isAtLeast(after.length, 20)
          for (const from of after) {
            const inWindow = after.filter((t) => t >= from && t < from + 200).length
            assert.isAtMost(inWindow, 11, `no burst: ${inWindow} requests within 200 ms after the step`)
          }
        })), 20_000)
    }
  }
})
