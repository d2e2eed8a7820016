/**
 * The "list every room" program of the bundle-size table, over whichever `HttpClient` its entry
 * gives. Configuration from the environment: `AWS_ENDPOINT_URL_CHIME`, `AWS_REGION`, the
 * credential variables, and `CHIME_ACCOUNT_ID`.
 *
 * @since 0.1.0
 */
import { Credentials, HttpChimeRooms } from "@chime-rooms/http"
import { ChimeRoomsStream } from "@chime-rooms/stream"
import type { HttpClient } from "@effect/platform"
import { Config, Effect, Layer, Stream } from "effect"

/** Counts every room of `CHIME_ACCOUNT_ID` and prints the count. */
export const main = (httpClient: Layer.Layer<HttpClient.HttpClient>): Promise<void> =>
  Effect.gen(function*() {
    const accountId = yield* Config.string("CHIME_ACCOUNT_ID")
    const count = yield* Stream.runCount(ChimeRoomsStream.rooms({ AccountId: accountId, MaxResults: 99 }))
    process.stdout.write(`${count} rooms\n`)
  }).pipe(
    Effect.provide(ChimeRoomsStream.layer()),
    Effect.provide(HttpChimeRooms.layerConfig().pipe(Layer.provide(httpClient), Layer.provide(Credentials.layerEnv))),
    Effect.runPromise
  )
