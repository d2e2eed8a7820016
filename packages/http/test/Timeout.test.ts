import { ChimeRooms } from "@chime-rooms/core"
import { Credentials, HttpChimeRooms } from "@chime-rooms/http"
import { HttpClient, HttpClientResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import type { Duration } from "effect"
import { Effect, Exit, Fiber, Layer, TestClock } from "effect"

const layerWith = (client: HttpClient.HttpClient, timeout: Duration.DurationInput) =>
  HttpChimeRooms.layer({ endpoint: "https://chime.example", timeout }).pipe(
    Layer.provide(Layer.succeed(HttpClient.HttpClient, client)),
    Layer.provide(Credentials.layerStatic({ accessKeyId: "AKID", secretAccessKey: "secret" }))
  )

describe("per-attempt timeout (TestClock)", () => {
  it.effect("fails with TransportError(Timeout) when no response arrives in time, and interrupts the attempt", () =>
    Effect.gen(function*() {
      let interrupted = false
      const hanging = HttpClient.make(() =>
        Effect.onInterrupt(Effect.never, () =>
          Effect.sync(() => {
            interrupted = true
          }))
      )
      const fiber = yield* Effect.fork(
        ChimeRooms.listRooms({ AccountId: "acc" }).pipe(Effect.provide(layerWith(hanging, "3 seconds")))
      )
      yield* TestClock.adjust("2999 millis")
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 millis")
      const exit = yield* Fiber.await(fiber)
      expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined).toMatchObject({
        _tag: "TransportError",
        reason: "Timeout"
      })
      yield* Effect.yieldNow()
      expect(interrupted).toBe(true)
    }))

  it.effect("a response in time is not affected by the timer firing later", () =>
    Effect.gen(function*() {
      const client = HttpClient.make((request) =>
        Effect.as(
          Effect.sleep("1 second"),
          HttpClientResponse.fromWeb(request, new Response("{\"Rooms\":[]}", { status: 200 }))
        )
      )
      const fiber = yield* Effect.fork(
        ChimeRooms.listRooms({ AccountId: "acc" }).pipe(Effect.provide(layerWith(client, "3 seconds")))
      )
      yield* TestClock.adjust("1 second")
      const page = yield* Fiber.join(fiber)
      expect(page.Rooms).toEqual([])
      // The cancelled timer reaching its deadline later changes nothing.
      yield* TestClock.adjust("10 seconds")
      expect(page.$metadata.httpStatusCode).toBe(200)
    }))
})
