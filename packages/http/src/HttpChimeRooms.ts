/**
 * `ChimeRooms` over the wire: validate, encode, sign, send through whichever `HttpClient` is
 * provided, decode the page or resolve the error.
 *
 * @since 0.1.0
 */
import { type ChimeError, ChimeRooms, ListRoomsRequest, type ListRoomsResponse } from "@chime-rooms/core"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as ChimeConfig from "./ChimeConfig.js"
import * as Credentials from "./Credentials.js"
import { BodyTooLargeError, boundedText, tooLarge } from "./internal/body.js"
import * as ClockOffset from "./internal/clockOffset.js"
import { encodeListRooms, encodeListRoomsParts } from "./internal/encode.js"
import { fastPathOf } from "./internal/fastPathHook.js"
import type { FastPathEnv } from "./internal/fastPathHook.js"
import { leanTimeout, MAX_TIMER_MILLIS } from "./internal/timeout.js"
import { AttemptTimeoutError, timeoutError, toTransportError } from "./internal/transport.js"
import { decodeError, decodeSuccess, requestIdFrom } from "./RestJson1.js"
import { withSigV4 } from "./SigV4.js"

/**
 * Options of {@link layer}: endpoint, region, FIPS, dual-stack, per-attempt timeout, body cap.
 *
 * @category models
 * @since 0.1.0
 */
export interface HttpChimeRoomsOptions extends ChimeConfig.ChimeConfigInput {}

/** A failure of the exchange as a `ChimeError`: a per-attempt timeout, or what the transport says. */
const transportError = (
  error: HttpClientError.HttpClientError,
  requestId: string | undefined,
  timeoutMillis: number
): ChimeError.ChimeError =>
  error.cause instanceof AttemptTimeoutError ? timeoutError(timeoutMillis) : toTransportError(error, requestId)

const decodeResponse = (
  response: HttpClientResponse.HttpClientResponse,
  timeoutMillis: number,
  maxBytes: number
): Effect.Effect<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError> => {
  const headers = response.headers
  const requestId = requestIdFrom((name) => headers[name])
  const status = response.status
  return Effect.flatMap(
    Effect.mapError(
      boundedText(response, maxBytes),
      (error) =>
        error instanceof BodyTooLargeError || error.cause instanceof BodyTooLargeError
          ? tooLarge(status, requestId, maxBytes)
          : transportError(error, requestId, timeoutMillis)
    ),
    (text): Effect.Effect<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError> => {
      if (status >= 200 && status < 300) {
        const out = decodeSuccess(status, requestId, text)
        return "$metadata" in out ? Effect.succeed(out) : Effect.fail(out)
      }
      return Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.fail(decodeError(status, headers, text, now)))
    }
  )
}

export {
  /**
   * The default per-attempt timeout (10 seconds); `Duration.infinity` disables it.
   *
   * @category constants
   * @since 0.1.0
   */
  defaultTimeout
} from "./ChimeConfig.js"

/**
 * Checks a request as `listRooms` does before sending anything: core's `ListRoomsRequest.validate`, then
 * what one URL cannot carry (`AccountId` `.` or `..`, a lone surrogate in `AccountId`, `MemberId`
 * or `NextToken`). The `Left` is the `InvalidRequestError` `listRooms` would fail with; the `Right`
 * is the validated request. Lets a caller (the CLI) refuse a request up front, without a layer.
 *
 * @example
 * ```ts
 * import { HttpChimeRooms } from "@chime-rooms/http"
 *
 * HttpChimeRooms.validateSendable({ AccountId: ".." })
 * // Left(InvalidRequestError: AccountId must not be '.' or '..' (a dot segment …))
 * ```
 *
 * @category validation
 * @since 0.1.0
 */
export const validateSendable = (
  input: unknown
): Either.Either<ListRoomsRequest.ListRoomsRequest, ChimeError.InvalidRequestError> =>
  Either.flatMap(ListRoomsRequest.validate(input), (valid) => Either.map(encodeListRoomsParts(valid), () => valid))

/**
 * The general path, built once per layer: `withSigV4` over the client, signing with the layer's
 * `clockOffset`, the per-attempt timeout, the decoding of a response and of a transport failure.
 * The fast path, when there is one, falls back to it and decodes its uncommon outcomes with it.
 */
const makeGeneralPath = (
  config: ChimeConfig.ChimeConfig,
  client: HttpClient.HttpClient,
  credentials: Credentials.CredentialsService,
  clockOffset: ClockOffset.ClockOffset
): FastPathEnv => {
  const signed = withSigV4(client, {
    credentials: credentials.get,
    region: config.signingRegion,
    service: config.signingName,
    clockOffset,
    maxBodyBytes: config.maxResponseBytes
  })
  const timeoutMillis = Duration.toMillis(config.timeout)
  const timed = Duration.isFinite(config.timeout)
  const onTimeout = () => timeoutError(timeoutMillis)
  const withTimeout = (effect: Effect.Effect<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError>) =>
    timed ? leanTimeout(effect, config.timeout, onTimeout) : effect
  const toChimeError = (error: HttpClientError.HttpClientError | ChimeError.ChimeError): ChimeError.ChimeError =>
    error._tag === "RequestError" || error._tag === "ResponseError"
      ? transportError(error, undefined, timeoutMillis)
      : error
  const maxBytes = config.maxResponseBytes
  const decode = (response: HttpClientResponse.HttpClientResponse) => decodeResponse(response, timeoutMillis, maxBytes)
  const general = (url: string): Effect.Effect<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError> =>
    signed.execute(HttpClientRequest.get(url)).pipe(
      Effect.flatMap(decode),
      Effect.mapError(toChimeError),
      withTimeout
    )
  return {
    config,
    credentials,
    clockOffset,
    general,
    decode,
    toChimeError,
    // As `leanTimeout` on the live clock: beyond what a timer can wait, no timer.
    timeoutMillis: timed && timeoutMillis <= MAX_TIMER_MILLIS ? timeoutMillis : Infinity
  }
}

/** `listRooms` the general way alone: validate, encode against the endpoint, send. */
const generalListRooms = (endpoint: string, general: FastPathEnv["general"]) =>
(
  input: ListRoomsRequest.ListRoomsRequest
): Effect.Effect<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError> => {
  const valid = ListRoomsRequest.validate(input)
  if (valid._tag === "Left") return Effect.fail(valid.left)
  const url = encodeListRooms(endpoint, valid.right)
  if (url._tag === "Left") return Effect.fail(url.left)
  return general(url.right)
}

/**
 * Builds the service from a resolved configuration (`ChimeConfig.make`, or
 * `ChimeConfig.loadInput` then `ChimeConfig.make`, for the settings the AWS SDK reads).
 *
 * Two paths with one behaviour. The general one works with any `HttpClient` and `Credentials`:
 * the `SigV4.withSigV4` middleware signs each attempt, and the per-attempt timeout is
 * `Effect.timeoutFail`'s (on a `TestClock`) or a single timer around a forked attempt. The fast
 * one is taken when the client is `UndiciHttpClient`'s own (not wrapped), the credentials are at
 * hand (`Credentials.unsafeCurrent`), and the clock is the live one: the request is signed by the
 * specialised signer (checked against the general one in the tests), sent on the client's dispatcher
 * with the attempt's deadline as the exchange's own timer, and a refused clock is learnt and
 * retried within the same deadline, as the middleware does. Measured, the general path's fork
 * and middleware cost as much CPU per page as parsing it. The fast path also offers
 * `unsafeListRooms`: the same exchange started and answered without a fiber, which the stream
 * uses to send the next page from the callback that delivered this one.
 *
 * @example
 * ```ts
 * import { ChimeConfig, HttpChimeRooms } from "@chime-rooms/http"
 * import { Effect } from "effect"
 *
 * const rooms = Effect.flatMap(ChimeConfig.make({ region: "eu-west-1" }), HttpChimeRooms.make)
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  config: ChimeConfig.ChimeConfig
): Effect.Effect<ChimeRooms.ChimeRoomsService, never, HttpClient.HttpClient | Credentials.Credentials> =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const credentials = yield* Credentials.Credentials
    // One per layer, on both paths: a learned clock offset keeps being applied.
    const clockOffset = yield* ClockOffset.make
    const env = makeGeneralPath(config, client, credentials, clockOffset)
    // Over `UndiciHttpClient`'s own client, its fast path; the general path alone otherwise.
    const fast = fastPathOf(client)?.(env)
    return ChimeRooms.ChimeRooms.of(fast ?? { listRooms: generalListRooms(config.endpoint, env.general) })
  })

/** The service from explicit options; settings that lead to no endpoint fail with `EndpointConfigError`. */
const makeFromOptions = (
  options?: HttpChimeRoomsOptions
): Effect.Effect<
  ChimeRooms.ChimeRoomsService,
  ChimeConfig.EndpointConfigError,
  HttpClient.HttpClient | Credentials.Credentials
> => Effect.flatMap(ChimeConfig.make(options), make)

/**
 * The `ChimeRooms` layer from explicit options. Settings that lead to no endpoint (FIPS or
 * dual-stack with a custom endpoint, a region that is not a host name label, an endpoint that is
 * not an http(s) URL) fail the layer with `EndpointConfigError`.
 *
 * @example
 * ```ts
 * import { CredentialsChain, HttpChimeRooms, UndiciHttpClient } from "@chime-rooms/http"
 * import { Layer } from "effect"
 *
 * const live = HttpChimeRooms.layer({ region: "eu-west-1", timeout: "5 seconds" }).pipe(
 *   Layer.provide(UndiciHttpClient.layer),
 *   Layer.provide(CredentialsChain.layer())
 * )
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  options?: HttpChimeRoomsOptions
): Layer.Layer<
  ChimeRooms.ChimeRooms,
  ChimeConfig.EndpointConfigError,
  HttpClient.HttpClient | Credentials.Credentials
> => Layer.effect(ChimeRooms.ChimeRooms, makeFromOptions(options))

/**
 * The `ChimeRooms` layer from configuration. By default the settings are read as the AWS SDK reads
 * them, from the environment and the shared config files' profile (`ChimeConfig.loadInput`:
 * `AWS_REGION`, `AWS_USE_FIPS_ENDPOINT`, `AWS_USE_DUALSTACK_ENDPOINT`, `AWS_ENDPOINT_URL_CHIME`,
 * `AWS_ENDPOINT_URL`, `AWS_PROFILE`…); given a `Config`, from that alone. Fails with `ConfigError`
 * for a setting that cannot be read, and with `EndpointConfigError` as {@link layer} does.
 *
 * @example
 * ```ts
 * import { HttpChimeRooms } from "@chime-rooms/http"
 * import { Config } from "effect"
 *
 * HttpChimeRooms.layerConfig(
 *   Config.all({ endpoint: Config.string("CHIME_URL"), timeout: Config.duration("CHIME_TIMEOUT") })
 * )
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layerConfig = (
  config?: Config.Config<HttpChimeRoomsOptions>
): Layer.Layer<
  ChimeRooms.ChimeRooms,
  ConfigError.ConfigError | ChimeConfig.EndpointConfigError,
  HttpClient.HttpClient | Credentials.Credentials
> => Layer.effect(ChimeRooms.ChimeRooms, Effect.flatMap(config ?? ChimeConfig.loadInput, makeFromOptions))
