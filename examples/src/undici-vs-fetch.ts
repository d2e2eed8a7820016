/**
 * Choosing the HTTP client (`pnpm example:undici`).
 *
 * `HttpChimeRooms` needs an `HttpClient` and does not care which: the same program runs on our
 * lean keep-alive undici client (`UndiciHttpClient.layer`), on `@effect/platform-node`'s
 * undici client (`NodeHttpClient.layerUndici`) and on the global `fetch` (`FetchHttpClient.layer`).
 */
import { UndiciHttpClient } from "@chime-rooms/http"
import { ChimeRoomsStream, Resilience } from "@chime-rooms/stream"
import { Dataset, Emulator } from "@chime-rooms/testing"
import { FetchHttpClient, type HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Clock, Console, Effect, type Layer, Stream } from "effect"
import { chimeFor } from "./shared.js"

const clients: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>]> = [
  ["UndiciHttpClient.layer (ours)", UndiciHttpClient.layer],
  ["NodeHttpClient.layerUndici", NodeHttpClient.layerUndici],
  ["FetchHttpClient.layer", FetchHttpClient.layer]
]

const program = Effect.gen(function*() {
  const emulator = yield* Emulator.make({ dataset: Dataset.generate({ seed: 8, roomsPerAccount: 20_000 }) })
  const request = { AccountId: emulator.accounts[0]!, MaxResults: 99 }
  const list = (client: Layer.Layer<HttpClient.HttpClient>, maxPages?: number) =>
    Stream.runCount(ChimeRoomsStream.rooms(request, maxPages === undefined ? {} : { maxPages })).pipe(
      Effect.provide(Resilience.layer()),
      Effect.provide(chimeFor(emulator, client))
    )
  // Warm every path up first, so that the first client timed does not pay for the JIT.
  yield* Effect.forEach(clients, ([, client]) => list(client, 50))
  for (const [name, client] of clients) {
    const started = yield* Clock.currentTimeMillis
    const count = yield* list(client)
    const ms = (yield* Clock.currentTimeMillis) - started
    yield* Console.log(`${name.padEnd(32)} ${count} rooms in ${ms} ms`)
    if (count !== 20_000) return yield* Effect.dieMessage(`${name} listed ${count} rooms`)
  }
}).pipe(Effect.scoped)

Effect.runPromise(program).catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`)
  process.exitCode = 1
})
