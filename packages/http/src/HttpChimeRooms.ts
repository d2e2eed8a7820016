/**
 * `ChimeRooms` over the wire: validate, encode, sign, send through whichever `HttpClient` is
 * provided, decode the page or resolve the error.
 *
 * @since 0.1.0
 */
import { ChimeRooms, validateRequest } from "@chime-rooms/core"
import type { ChimeError, ChimeRoomsService, ListRoomsOutput, ListRoomsRequest } from "@chime-rooms/core"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Clock, Config, Duration, Effect, Layer, Ref } from "effect"
import type { ConfigError } from "effect"
import { chimeConfigInput, makeChimeConfig } from "./ChimeConfig.js"
import type { ChimeConfig, ChimeConfigInput } from "./ChimeConfig.js"
import { Credentials } from "./Credentials.js"
import type { AwsCredentials, CredentialsService } from "./Credentials.js"
import { encodeListRooms, encodeListRoomsParts } from "./internal/encode.js"
import { isPlainBasePath, makeFastGetSigner } from "./internal/fastSign.js"
import { leanTimeout, liveClock, MAX_TIMER_MILLIS } from "./internal/timeout.js"
import { timeoutError, toTransportError } from "./internal/transport.js"
import { AttemptTimeoutError, decodeUtf8, dispatcherOf, fetchWhole, rawHeader, splitPlainUrl, UndiciResponse } from "./internal/undici.js"
import { decodeError, decodeSuccess } from "./RestJson1.js"
import { skewFromResponse, withSigV4 } from "./SigV4.js"
import type { Dispatcher } from "undici"

/**
 * Options of {@link layer}: endpoint, region, signing region, per-attempt timeout.
 *
 * @since 0.1.0
 */
export interface HttpChimeRoomsOptions extends ChimeConfigInput {}

/** A failure of the exchange as a `ChimeError`: a per-attempt timeout, or what the transport says. */
const transportError = (
  error: HttpClientError.HttpClientError,
  requestId: string | undefined,
  timeoutMillis: number
): ChimeError => error.cause instanceof AttemptTimeoutError ? timeoutError(timeoutMillis) : toTransportError(error, requestId)

const decodeResponse = (
  response: HttpClientResponse.HttpClientResponse,
  timeoutMillis: number
): Effect.Effect<ListRoomsOutput, ChimeError> => {
  const headers = response.headers
  const requestId = headers["x-amzn-requestid"]
  const status = response.status
  return Effect.flatMap(
    Effect.mapError(response.text, (error) => transportError(error, requestId, timeoutMillis)),
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
 * What the fast path needs: our own undici client (unwrapped), credentials readable without an
 * effect, and an endpoint whose path the fast signer can prefix.
 */
interface FastPath {
  readonly dispatcher: Dispatcher
  readonly origin: string
  readonly basePath: string
  readonly current: (now: number) => AwsCredentials | undefined
  readonly sign: ReturnType<typeof makeFastGetSigner>
}

const fastPathOf = (
  config: ChimeConfig,
  client: HttpClient.HttpClient,
  credentials: CredentialsService
): FastPath | undefined => {
  const dispatcher = dispatcherOf(client)
  const current = credentials.current
  if (dispatcher === undefined || current === undefined) return undefined
  const endpoint = splitPlainUrl(config.endpoint)
  if (endpoint === undefined || endpoint.path.includes("?")) return undefined
  const basePath = endpoint.path === "/" ? "" : endpoint.path
  if (!isPlainBasePath(basePath)) return undefined
  // A plain origin is already lower case without a default port: the `host` undici sends.
  const host = endpoint.origin.slice(endpoint.origin.indexOf("://") + 3)
  return {
    dispatcher,
    origin: endpoint.origin,
    basePath,
    current,
    sign: makeFastGetSigner(host, config.signingRegion, config.signingName)
  }
}

/**
 * Builds the service from a resolved configuration.
 *
 * Two paths with one behaviour. The general one works with any `HttpClient` and `Credentials`:
 * the `SigV4.withSigV4` middleware signs each attempt, and the per-attempt timeout is
 * `Effect.timeoutFail`'s (on a `TestClock`) or a single timer around a forked attempt. The fast
 * one is taken when the client is `UndiciHttpClient`'s own (not wrapped), the credentials are at
 * hand (`Credentials.current`), and the clock is the live one: the request is signed by the
 * specialised signer (checked against smithy's in the tests), sent on the client's dispatcher
 * with the attempt's deadline as the exchange's own timer, and a refused clock is learnt and
 * retried within the same deadline, as the middleware does. Measured, the general path's fork
 * and middleware cost as much CPU per page as parsing it.
 *
 * @since 0.1.0
 */
export const makeWithConfig = (
  config: ChimeConfig
): Effect.Effect<ChimeRoomsService, never, HttpClient.HttpClient | Credentials> =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const credentials = yield* Credentials
    // Shared by every request of this layer, on both paths: a learned clock offset keeps being applied.
    const clockOffset = yield* Ref.make(0)
    const signed = withSigV4(client, {
      credentials: credentials.get,
      region: config.signingRegion,
      service: config.signingName,
      clockOffset
    })
    const timeoutMillis = Duration.toMillis(config.timeout)
    const timed = Duration.isFinite(config.timeout)
    const onTimeout = () => timeoutError(timeoutMillis)
    const withTimeout = (effect: Effect.Effect<ListRoomsOutput, ChimeError>) =>
      timed ? leanTimeout(effect, config.timeout, onTimeout) : effect
    const toChimeError = (error: HttpClientError.HttpClientError | ChimeError): ChimeError =>
      error._tag === "RequestError" || error._tag === "ResponseError" ? transportError(error, undefined, timeoutMillis) : error
    const decode = (response: HttpClientResponse.HttpClientResponse) => decodeResponse(response, timeoutMillis)

    const general = (url: string): Effect.Effect<ListRoomsOutput, ChimeError> =>
      signed.execute(HttpClientRequest.get(url)).pipe(
        Effect.flatMap(decode),
        Effect.mapError(toChimeError),
        withTimeout
      )

    const fast = fastPathOf(config, client, credentials)
    // As `leanTimeout` on the live clock: beyond what a timer can wait, no timer.
    const fastTimeoutMillis = timed && timeoutMillis <= MAX_TIMER_MILLIS ? timeoutMillis : Infinity
    if (fast === undefined) {
      const listRooms = (input: ListRoomsRequest): Effect.Effect<ListRoomsOutput, ChimeError> => {
        const valid = validateRequest(input)
        if (valid._tag === "Left") return Effect.fail(valid.left)
        const url = encodeListRooms(config.endpoint, valid.right)
        if (url._tag === "Left") return Effect.fail(url.left)
        return general(url.right)
      }
      return ChimeRooms.of({ listRooms })
    }

    const { basePath, dispatcher, origin, sign } = fast
    /**
     * One signed exchange, its timer ending at `deadline` (epoch millis; `Infinity` for none). A 2xx
     * is decoded right in undici's completion callback, so a page costs one effect; anything else
     * gets a platform request and response over the same exchange and goes the general way
     * (`decode`, transport errors, and a refused clock learnt and retried once, as `withSigV4` does).
     */
    const exchange = (
      path: string,
      query: string,
      creds: AwsCredentials,
      signAt: number,
      deadline: number,
      relearn: boolean
    ): Effect.Effect<ListRoomsOutput, ChimeError> =>
      Effect.async<ListRoomsOutput, ChimeError>((resume) => {
        const target = query === "" ? path : path + "?" + query
        const headers = sign(path, query, creds, signAt)
        const remaining = deadline === Infinity ? undefined : Math.max(0, deadline - Date.now())
        const sent = fetchWhole(dispatcher, origin, target, headers, remaining, (sent, head, body, error) => {
          if (body !== undefined && head!.status >= 200 && head!.status < 300) {
            const out = decodeSuccess(head!.status, rawHeader(head!.rawHeaders, "x-amzn-requestid"), decodeUtf8(body))
            return resume("$metadata" in out ? Effect.succeed(out) : Effect.fail(out))
          }
          const request = HttpClientRequest.get(origin + target, { headers })
          if (head === undefined) {
            return resume(Effect.fail(toChimeError(new HttpClientError.RequestError({ request, reason: "Transport", cause: error }))))
          }
          const response = new UndiciResponse(request, sent, head)
          resume(relearn ? refused(response, path, query, creds, deadline) : decode(response))
        })
        return sent.canceler()
      })
    /** As `withSigV4`: a refused clock teaches the offset; sign afresh and send once more. */
    const refused = (
      response: HttpClientResponse.HttpClientResponse,
      path: string,
      query: string,
      creds: AwsCredentials,
      deadline: number
    ): Effect.Effect<ListRoomsOutput, ChimeError> =>
      Effect.flatMap(skewFromResponse(response, Date.now()), (learned) =>
        learned === undefined
          ? decode(response)
          : Effect.zipRight(
            Ref.set(clockOffset, learned),
            Effect.suspend(() => exchange(path, query, creds, Date.now() + learned, deadline, false))
          ))
    /** An attempt on the live clock; called when the attempt runs (inside `clockWith`), so no `suspend`. */
    const attempt = (path: string, query: string, url: string): Effect.Effect<ListRoomsOutput, ChimeError> => {
      const now = Date.now()
      const creds = fast.current(now)
      if (creds === undefined) return general(url)
      const deadline = now + fastTimeoutMillis
      return Effect.flatMap(Ref.get(clockOffset), (offset) => exchange(path, query, creds, now + offset, deadline, true))
    }

    const listRooms = (input: ListRoomsRequest): Effect.Effect<ListRoomsOutput, ChimeError> => {
      const valid = validateRequest(input)
      if (valid._tag === "Left") return Effect.fail(valid.left)
      const parts = encodeListRoomsParts(valid.right)
      if (parts._tag === "Left") return Effect.fail(parts.left)
      const path = basePath + parts.right.path
      const query = parts.right.query
      const url = origin + (query === "" ? path : path + "?" + query)
      return Effect.clockWith((clock) => clock === liveClock ? attempt(path, query, url) : general(url))
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
