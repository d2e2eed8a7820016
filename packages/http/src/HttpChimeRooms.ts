/**
 * `ChimeRooms` over the wire: validate, encode, sign, send through whichever `HttpClient` is
 * provided, decode the page or resolve the error.
 *
 * @since 0.1.0
 */
import { ChimeRooms, validateRequest } from "@chime-rooms/core"
import type { ChimeError, ChimeRoomsService, ListRoomsOutput, ListRoomsRequest } from "@chime-rooms/core"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import type { HttpClientError, HttpClientResponse } from "@effect/platform"
import { Clock, Config, Duration, Effect, Layer, Ref } from "effect"
import type { ConfigError } from "effect"
import { chimeConfigInput, makeChimeConfig } from "./ChimeConfig.js"
import type { ChimeConfig, ChimeConfigInput } from "./ChimeConfig.js"
import { Credentials } from "./Credentials.js"
import { encodeListRooms } from "./internal/encode.js"
import { leanTimeout } from "./internal/timeout.js"
import { timeoutError, toTransportError } from "./internal/transport.js"
import { decodeError, decodeSuccess } from "./RestJson1.js"
import { withSigV4 } from "./SigV4.js"

/**
 * Options of {@link layer}: endpoint, region, signing region, per-attempt timeout.
 *
 * @since 0.1.0
 */
export interface HttpChimeRoomsOptions extends ChimeConfigInput {}

const decodeResponse = (
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<ListRoomsOutput, ChimeError> => {
  const headers = response.headers
  const requestId = headers["x-amzn-requestid"]
  const status = response.status
  return Effect.flatMap(
    Effect.mapError(response.text, (error) => toTransportError(error, requestId)),
    (text): Effect.Effect<ListRoomsOutput, ChimeError> => {
      if (status >= 200 && status < 300) {
        const out = decodeSuccess(status, requestId, text)
        return "$metadata" in out ? Effect.succeed(out) : Effect.fail(out)
      }
      return Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.fail(decodeError(status, headers, text, now)))
    }
  )
}

/**
 * The default per-attempt timeout (10 seconds); `Duration.infinity` disables it.
 *
 * @since 0.1.0
 */
export { defaultTimeout } from "./ChimeConfig.js"

/**
 * Builds the service from a resolved configuration.
 *
 * @since 0.1.0
 */
export const makeWithConfig = (
  config: ChimeConfig
): Effect.Effect<ChimeRoomsService, never, HttpClient.HttpClient | Credentials> =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const credentials = yield* Credentials
    // Shared by every request of this layer: a learned clock offset keeps being applied.
    const clockOffset = yield* Ref.make(0)
    const signed = withSigV4(client, {
      credentials: credentials.get,
      region: config.signingRegion,
      service: config.signingName,
      clockOffset
    })
    const timeoutMillis = Duration.toMillis(config.timeout)
    const onTimeout = () => timeoutError(timeoutMillis)
    const withTimeout = (effect: Effect.Effect<ListRoomsOutput, ChimeError>) =>
      Duration.isFinite(config.timeout) ? leanTimeout(effect, config.timeout, onTimeout) : effect
    const toChimeError = (error: HttpClientError.HttpClientError | ChimeError): ChimeError =>
      error._tag === "RequestError" || error._tag === "ResponseError" ? toTransportError(error, undefined) : error

    const listRooms = (input: ListRoomsRequest): Effect.Effect<ListRoomsOutput, ChimeError> => {
      const valid = validateRequest(input)
      if (valid._tag === "Left") return Effect.fail(valid.left)
      const url = encodeListRooms(config.endpoint, valid.right)
      if (url._tag === "Left") return Effect.fail(url.left)
      return signed.execute(HttpClientRequest.get(url.right)).pipe(
        Effect.flatMap(decodeResponse),
        Effect.mapError(toChimeError),
        withTimeout
      )
    }
    return ChimeRooms.of({ listRooms })
  })

/**
 * Builds the service from explicit options (see `ChimeConfig` for the defaults).
 *
 * @since 0.1.0
 */
export const make = (
  options?: HttpChimeRoomsOptions
): Effect.Effect<ChimeRoomsService, never, HttpClient.HttpClient | Credentials> =>
  makeWithConfig(makeChimeConfig(options))

/**
 * The `ChimeRooms` layer from explicit options.
 *
 * @example
 * const live = HttpChimeRooms.layer({ timeout: "5 seconds" }).pipe(
 *   Layer.provide(UndiciHttpClient.layer),
 *   Layer.provide(Credentials.layerDefaultChain())
 * )
 * @since 0.1.0
 */
export const layer = (
  options?: HttpChimeRoomsOptions
): Layer.Layer<ChimeRooms, never, HttpClient.HttpClient | Credentials> => Layer.effect(ChimeRooms, make(options))

/**
 * The `ChimeRooms` layer from `Config`: by default `AWS_ENDPOINT_URL_CHIME` and `AWS_REGION`.
 *
 * @example
 * HttpChimeRooms.layerConfig(Config.all({ endpoint: Config.string("CHIME_URL"), timeout: Config.duration("CHIME_TIMEOUT") }))
 * @since 0.1.0
 */
export const layerConfig = (
  config: Config.Config<HttpChimeRoomsOptions> = chimeConfigInput
): Layer.Layer<ChimeRooms, ConfigError.ConfigError, HttpClient.HttpClient | Credentials> =>
  Layer.effect(ChimeRooms, Effect.flatMap(config, make))
