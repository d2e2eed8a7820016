/**
 * A user's program, as `pnpm test:pack` compiles and runs it in a fresh project outside the workspace:
 * the README's quick start on the emulator of `@chime-rooms/testing` instead of the real service, then
 * the same listing over `@effect/platform`'s `FetchHttpClient` (the app's own copy: with a second copy
 * of `@effect/platform` or `effect` in the tree, its `HttpClient` would not be the one ours needs).
 */
import { Credentials, HttpChimeRooms, UndiciHttpClient } from "@chime-rooms/http"
import { ChimeRoomsStream, Resilience } from "@chime-rooms/stream"
import { Dataset, Emulator } from "@chime-rooms/testing"
import { FetchHttpClient, type HttpClient } from "@effect/platform"
import { Console, Effect, Layer, Stream } from "effect"

const rooms = 25

const program = Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  const chimeOver = (client: Layer.Layer<HttpClient.HttpClient>) =>
    HttpChimeRooms.layer({ endpoint: emulator.endpoint, region: emulator.region }).pipe(
      Layer.provide(Credentials.layerStatic(emulator.credentials)),
      Layer.provide(client)
    )
  const AccountId = emulator.accounts[0]!

  const count = yield* ChimeRoomsStream.rooms({ AccountId }).pipe(
    Stream.tap((room) => Console.log(room.RoomId, room.Name)),
    Stream.runCount,
    Effect.provide(Resilience.layer()),
    Effect.provide(chimeOver(UndiciHttpClient.layer))
  )
  yield* Console.log(`${count} rooms`)

  const overFetch = yield* ChimeRoomsStream.rooms({ AccountId }).pipe(
    Stream.runCount,
    Effect.provide(Resilience.layer()),
    Effect.provide(chimeOver(FetchHttpClient.layer))
  )
  yield* Console.log(`${overFetch} rooms over fetch`)
  if (count !== rooms || overFetch !== rooms) return yield* Effect.dieMessage(`expected ${rooms} rooms`)
}).pipe(Effect.provide(Emulator.layer({ dataset: Dataset.generate({ seed: 17, roomsPerAccount: rooms }) })))

Effect.runPromise(program).catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`)
  process.exitCode = 1
})
