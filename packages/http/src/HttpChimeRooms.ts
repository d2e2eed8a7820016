/**
 * `ChimeRooms` over the wire: validate, encode, sign, send through whichever `HttpClient` is
 * provided, decode the page or resolve the error.
 *
 * @since 0.1.0
 */
import { ChimeRooms, ResponseDecodeError, validateRequest } from "@chime-rooms/core"
import type {
  ChimeError,
  ChimeRoomsService,
  InvalidRequestError,
  ListRoomsOutput,
  ListRoomsRequest
} from "@chime-rooms/core"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import { loadChimeConfigInput, makeChimeConfig } from "./ChimeConfig.js"
import type { ChimeConfig, ChimeConfigInput, EndpointConfigError } from "./ChimeConfig.js"
import { Credentials } from "./Credentials.js"
import type { AwsCredentials, CredentialsService } from "./Credentials.js"
import { encodeListRooms, encodeListRoomsParts } from "./internal/encode.js"
import { isPlainBasePath, makeFastGetSigner } from "./internal/fastSign.js"
import { boundedText } from "./internal/body.js"
import { leanTimeout, liveClock, MAX_TIMER_MILLIS } from "./internal/timeout.js"
import { timeoutError, toTransportError } from "./internal/transport.js"
import {
  AttemptTimeoutError,
  BodyTooLargeError,
  decodeUtf8,
  dispatcherOf,
  fetchWhole,
  rawHeader,
  splitPlainUrl,
  UndiciResponse
} from "./internal/undici.js"
import type { Exchange, Head } from "./internal/undici.js"
import { decodeError, decodeParsed, decodeSuccess, nextTokenOf, parseSuccess, peekNextToken, requestIdFrom } from "./RestJson1.js"
import { skewFromResponse, withSigV4 } from "./SigV4.js"
import type { Dispatcher } from "undici"

/**
 * Options of {@link layer}: endpoint, region, FIPS, dual-stack, per-attempt timeout, body cap.
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

/** The error of a body refused for its size. */
const tooLarge = (status: number, requestId: string | undefined, maxBytes: number): ResponseDecodeError =>
  new ResponseDecodeError({
    reason: "TooLarge",
    message: `ListRooms response body is larger than ${maxBytes} bytes`,
    status,
    ...(requestId !== undefined ? { requestId } : {})
  })

const decodeResponse = (
  response: HttpClientResponse.HttpClientResponse,
  timeoutMillis: number,
  maxBytes: number
): Effect.Effect<ListRoomsOutput, ChimeError> => {
  const headers = response.headers
  const requestId = requestIdFrom((name) => headers[name])
  const status = response.status
  return Effect.flatMap(
    Effect.mapError(boundedText(response, maxBytes), (error) =>
      error instanceof BodyTooLargeError || error.cause instanceof BodyTooLargeError
        ? tooLarge(status, requestId, maxBytes)
        : transportError(error, requestId, timeoutMillis)),
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
 * Checks a request as `listRooms` does before sending anything: core's `validateRequest`, then
 * what one URL cannot carry (`AccountId` `.` or `..`, a lone surrogate in `AccountId`, `MemberId`
 * or `NextToken`). The `Left` is the `InvalidRequestError` `listRooms` would fail with; the `Right`
 * is the validated request. Lets a caller (the CLI) refuse a request up front, without a layer.
 *
 * @example
 * HttpChimeRooms.validateSendable({ AccountId: ".." })
 * // Left(InvalidRequestError: AccountId must not be '.' or '..' (a dot segment …))
 * @since 0.1.0
 */
export const validateSendable = (input: unknown): Either.Either<ListRoomsRequest, InvalidRequestError> =>
  Either.flatMap(validateRequest(input), (valid) => Either.map(encodeListRoomsParts(valid), () => valid))

/** One signed attempt of the fast path: the request's path and query, and how to send it. */
interface Call {
  readonly path: string
  readonly query: string
  /** Path and query as sent. */
  readonly target: string
  readonly creds: AwsCredentials
  /** When the attempt times out, in `performance.now()` time (monotonic); `Infinity` for never. */
  readonly deadline: number
  /** Whether a refused clock may still be learnt and the request sent once more. */
  readonly relearn: boolean
}

interface Prepared {
  readonly url: string
  readonly call: Call | undefined
}

const noop = (): void => {}

/** Calls `f` on a later turn of the event loop, after the immediates already queued (undici's writes). */
const afterWrites = (f: () => void): void => {
  if (typeof setImmediate === "function") setImmediate(f)
  else setTimeout(f, 0)
}

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
 * specialised signer (checked against the general one in the tests), sent on the client's dispatcher
 * with the attempt's deadline as the exchange's own timer, and a refused clock is learnt and
 * retried within the same deadline, as the middleware does. Measured, the general path's fork
 * and middleware cost as much CPU per page as parsing it. The fast path also offers
 * `startListRooms`: the same exchange started and answered without a fiber, which the stream
 * uses to send the next page from the callback that delivered this one.
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
      clockOffset,
      maxBodyBytes: config.maxResponseBytes
    })
    const timeoutMillis = Duration.toMillis(config.timeout)
    const timed = Duration.isFinite(config.timeout)
    const onTimeout = () => timeoutError(timeoutMillis)
    const withTimeout = (effect: Effect.Effect<ListRoomsOutput, ChimeError>) =>
      timed ? leanTimeout(effect, config.timeout, onTimeout) : effect
    const toChimeError = (error: HttpClientError.HttpClientError | ChimeError): ChimeError =>
      error._tag === "RequestError" || error._tag === "ResponseError" ? transportError(error, undefined, timeoutMillis) : error
    const maxBytes = config.maxResponseBytes
    const decode = (response: HttpClientResponse.HttpClientResponse) => decodeResponse(response, timeoutMillis, maxBytes)

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
    // The learned offset as a plain number, so a call started outside any fiber can read it. Every
    // write in this layer goes through `learn`, and `general` (whose `withSigV4` may learn too)
    // copies the `Ref` back when it ends.
    let offset = 0
    const learn = (learned: number) =>
      Effect.sync(() => {
        offset = learned
      }).pipe(Effect.zipRight(Ref.set(clockOffset, learned)))
    const generalSynced = (url: string) =>
      Effect.ensuring(general(url), Effect.map(Ref.get(clockOffset), (learned) => (offset = learned)))

    /**
     * The outcome of an exchange that was not a 2xx with its body: a platform request and response
     * over the same exchange, going the general way (`decode`, transport errors, and a refused
     * clock learnt and retried once, as `withSigV4` does).
     */
    const uncommon = (
      sent: Exchange,
      head: Head | undefined,
      error: unknown,
      call: Call,
      headers: Record<string, string>
    ): Effect.Effect<ListRoomsOutput, ChimeError> => {
      const request = HttpClientRequest.get(origin + call.target, { headers })
      if (head === undefined) {
        return Effect.fail(toChimeError(new HttpClientError.RequestError({ request, reason: "Transport", cause: error })))
      }
      if (error instanceof BodyTooLargeError) {
        return Effect.fail(tooLarge(head.status, requestIdFrom((name) => rawHeader(head.rawHeaders, name)), maxBytes))
      }
      const response = new UndiciResponse(request, sent, head)
      return call.relearn ? refused(response, call) : decode(response)
    }
    /**
     * One signed exchange, its timer ending at `call.deadline`; one of the two callbacks hears its
     * outcome, once. A 2xx is decoded right in undici's completion callback and handed to `decoded`
     * as an `Exit`, so a page costs no effect at all; the rest is left to {@link uncommon}, handed to
     * `other`. With `onNextToken`, a page's token is reported before its rooms are validated: read
     * from the body's bytes when they say it plainly (`peekNextToken`), else once it is parsed.
     *
     * These run in undici's callbacks and in immediates, outside any fiber: whatever throws before
     * the outcome is handed over (parsing, decoding, `onNextToken`) is handed over as a defect, so
     * the exchange never stays unsettled. What `decoded` or `other` throw is theirs and propagates.
     */
    const send = (
      call: Call,
      signAt: number,
      decoded: (exit: Exit.Exit<ListRoomsOutput, ChimeError>) => void,
      other: (outcome: Effect.Effect<ListRoomsOutput, ChimeError>) => void,
      onNextToken?: (token: string) => void
    ): Exchange => {
      const headers = sign(call.path, call.query, call.creds, signAt)
      const remaining = call.deadline === Infinity ? undefined : Math.max(0, call.deadline - performance.now())
      let open = true
      const settle = (exit: Exit.Exit<ListRoomsOutput, ChimeError>) => {
        open = false
        decoded(exit)
      }
      const guard = (f: () => void): void => {
        try {
          f()
        } catch (defect) {
          if (!open) throw defect
          settle(Exit.die(defect))
        }
      }
      return fetchWhole(dispatcher, origin, call.target, headers, remaining, maxBytes, (sent, head, body, error) =>
        guard(() => {
          if (body === undefined || head!.status < 200 || head!.status >= 300) {
            const outcome = uncommon(sent, head, error, call, headers)
            open = false
            return other(outcome)
          }
          const status = head!.status
          const requestId = requestIdFrom((name) => rawHeader(head!.rawHeaders, name))
          const parse = () => parseSuccess(status, requestId, decodeUtf8(body))
          const finish = (parsed: ReturnType<typeof parse>) => {
            const out = parsed instanceof ResponseDecodeError ? parsed : decodeParsed(status, requestId, parsed.json)
            settle("$metadata" in out ? Exit.succeed(out) : Exit.fail(out))
          }
          // The caller may send the next request right away: undici writes it from a later tick, so
          // the rest of this page waits for the turn after that write.
          if (onNextToken === undefined) return finish(parse())
          const peeked = peekNextToken(body)
          if (peeked !== undefined) {
            onNextToken(peeked)
            return afterWrites(() => guard(() => finish(parse())))
          }
          const parsed = parse()
          const token = parsed instanceof ResponseDecodeError ? undefined : nextTokenOf(parsed.json)
          if (token === undefined) return finish(parsed)
          onNextToken(token)
          afterWrites(() => guard(() => finish(parsed)))
        }))
    }
    const exchange = (call: Call, signAt: number): Effect.Effect<ListRoomsOutput, ChimeError> =>
      Effect.async<ListRoomsOutput, ChimeError>((resume) => send(call, signAt, resume, resume).canceler())
    /** As `withSigV4`: a refused clock teaches the offset; sign afresh and send once more. */
    const refused = (response: HttpClientResponse.HttpClientResponse, call: Call): Effect.Effect<ListRoomsOutput, ChimeError> =>
      Effect.flatMap(skewFromResponse(response, Date.now(), maxBytes), ({ offset, rest }) =>
        offset === undefined
          ? decode(rest)
          : Effect.zipRight(learn(offset), Effect.suspend(() => exchange({ ...call, relearn: false }, Date.now() + offset))))

    /**
     * The URL of a valid request and, when the credentials are at hand, its call (otherwise the
     * general path fetches them first); or why it cannot be sent.
     */
    const prepare = (input: ListRoomsRequest, now: number): Either.Either<Prepared, ChimeError> => {
      const valid = validateRequest(input)
      if (valid._tag === "Left") return Either.left(valid.left)
      const parts = encodeListRoomsParts(valid.right)
      if (parts._tag === "Left") return Either.left(parts.left)
      const path = basePath + parts.right.path
      const query = parts.right.query
      const target = query === "" ? path : path + "?" + query
      const creds = fast.current(now)
      const call = creds === undefined
        ? undefined
        : { path, query, target, creds, deadline: performance.now() + fastTimeoutMillis, relearn: true }
      return Either.right({ url: origin + target, call })
    }

    const listRooms = (input: ListRoomsRequest): Effect.Effect<ListRoomsOutput, ChimeError> =>
      Effect.clockWith((clock) => {
        const live = clock === liveClock
        const now = Date.now()
        const prepared = prepare(input, now)
        if (prepared._tag === "Left") return Effect.fail(prepared.left)
        const { call, url } = prepared.right
        return live && call !== undefined ? exchange(call, now + offset) : generalSynced(url)
      })

    const startListRooms: NonNullable<ChimeRoomsService["startListRooms"]> = (input, clock, done, onNextToken) => {
      if (clock !== liveClock) return undefined
      const now = Date.now()
      const prepared = prepare(input, now)
      if (prepared._tag === "Left") {
        done(Exit.fail(prepared.left))
        return noop
      }
      const call = prepared.right.call
      if (call === undefined) return undefined
      let aborted = false
      let cancel: (() => void) | undefined
      const report = (exit: Exit.Exit<ListRoomsOutput, ChimeError>) => {
        if (!aborted) done(exit)
      }
      const early = onNextToken === undefined ? undefined : (token: string) => {
        if (!aborted) onNextToken(token)
      }
      const sent = send(call, now + offset, report, (outcome) => {
        const interrupt = Effect.runCallback(outcome, { onExit: report })
        cancel = () => interrupt()
      }, early)
      return () => {
        aborted = true
        if (cancel === undefined) sent.abort()
        else cancel()
      }
    }
    return ChimeRooms.of({ listRooms, startListRooms })
  })

/**
 * Builds the service from explicit options (see `ChimeConfig` for the defaults). Settings that
 * lead to no endpoint fail with `EndpointConfigError`.
 *
 * @since 0.1.0
 */
export const make = (
  options?: HttpChimeRoomsOptions
): Effect.Effect<ChimeRoomsService, EndpointConfigError, HttpClient.HttpClient | Credentials> =>
  Effect.flatMap(makeChimeConfig(options), makeWithConfig)

/**
 * The `ChimeRooms` layer from explicit options. Settings that lead to no endpoint (FIPS or
 * dual-stack with a custom endpoint, a region that is not a host name label, an endpoint that is
 * not an http(s) URL) fail the layer with `EndpointConfigError`.
 *
 * @example
 * const live = HttpChimeRooms.layer({ region: "eu-west-1", timeout: "5 seconds" }).pipe(
 *   Layer.provide(UndiciHttpClient.layer),
 *   Layer.provide(CredentialsChain.layer())
 * )
 * @since 0.1.0
 */
export const layer = (
  options?: HttpChimeRoomsOptions
): Layer.Layer<ChimeRooms, EndpointConfigError, HttpClient.HttpClient | Credentials> => Layer.effect(ChimeRooms, make(options))

/**
 * The `ChimeRooms` layer from configuration. By default the settings are read as the AWS SDK reads
 * them, from the environment and the shared config files' profile (`ChimeConfig.loadChimeConfigInput`:
 * `AWS_REGION`, `AWS_USE_FIPS_ENDPOINT`, `AWS_USE_DUALSTACK_ENDPOINT`, `AWS_ENDPOINT_URL_CHIME`,
 * `AWS_ENDPOINT_URL`, `AWS_PROFILE`…); given a `Config`, from that alone. Fails with `ConfigError`
 * for a setting that cannot be read, and with `EndpointConfigError` as {@link layer} does.
 *
 * @example
 * HttpChimeRooms.layerConfig(Config.all({ endpoint: Config.string("CHIME_URL"), timeout: Config.duration("CHIME_TIMEOUT") }))
 * @since 0.1.0
 */
export const layerConfig = (
  config?: Config.Config<HttpChimeRoomsOptions>
): Layer.Layer<ChimeRooms, ConfigError.ConfigError | EndpointConfigError, HttpClient.HttpClient | Credentials> =>
  Layer.effect(ChimeRooms, Effect.flatMap(config ?? loadChimeConfigInput, make))
