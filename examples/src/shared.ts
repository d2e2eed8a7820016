/**
 * What the examples share: a signed client for a running emulator.
 */
import type { ChimeRooms } from "@chime-rooms/core"
import { Credentials, HttpChimeRooms, UndiciHttpClient } from "@chime-rooms/http"
import type { Emulator } from "@chime-rooms/testing"
import type { HttpClient } from "@effect/platform"
import { Layer } from "effect"

/** `ChimeRooms` over HTTP for `emulator`, on the given `HttpClient` (our lean undici client by default). */
export const chimeFor = (
  emulator: Emulator.EmulatorService,
  client: Layer.Layer<HttpClient.HttpClient> = UndiciHttpClient.layer
): Layer.Layer<ChimeRooms.ChimeRooms> =>
  HttpChimeRooms.layer({ endpoint: emulator.endpoint, region: emulator.region }).pipe(
    // An emulator's endpoint and region always resolve: a refusal here would be a defect.
    Layer.orDie,
    Layer.provide(Credentials.layerStatic(emulator.credentials)),
    Layer.provide(client)
  )
