/**
 * `HttpChimeRooms`' fast path, taken only over `UndiciHttpClient`'s own client (which carries it,
 * see `fastPathHook.ts`), with credentials at hand (`Credentials.unsafeCurrent`) and the live clock: the
 * fixed-shape `GET` signed by the specialised signer (checked against the general one in the
 * tests), sent on the client's dispatcher with the attempt's deadline as the exchange's own timer,
 * a 2xx decoded in undici's completion callback, and a refused clock learnt and retried within the
 * same deadline, as `withSigV4` does. `unsafeListRooms` is the same exchange started and answered
 * without a fiber. Everything else goes the general way (`FastPathEnv.general`).
 */
import { ChimeError, type ChimeRooms, ListRoomsRequest, type ListRoomsResponse } from "@chime-rooms/core"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Ref from "effect/Ref"
import type { Dispatcher } from "undici"
import type * as Credentials from "../Credentials.js"
import { requestIdFrom } from "../RestJson1.js"
import { skewFromResponse } from "../SigV4.js"
import { BodyTooLargeError, decodeUtf8, tooLarge } from "./body.js"
import { encodeListRoomsParts } from "./encode.js"
import type { FastPathEnv, FastPathFactory } from "./fastPathHook.js"
import { isPlainBasePath, makeFastGetSigner } from "./fastSign.js"
import { decodeParsed, nextTokenOf, parseSuccess, peekNextToken } from "./successBody.js"
import { liveClock } from "./timeout.js"
import type { Exchange, Head } from "./undici/exchange.js"
import { splitPlainUrl } from "./undici/plainUrl.js"
import { rawHeader } from "./undici/rawHeaders.js"
import { UndiciResponse } from "./undici/response.js"
import { fetchWhole } from "./undici/send.js"

/** One signed attempt of the fast path: the request's path and query, and how to send it. */
interface Call {
  readonly path: string
  readonly query: string
  /** Path and query as sent. */
  readonly target: string
  readonly creds: Credentials.AwsCredentials
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

/** What every step of the fast path reads: the layer's general path and the endpoint's fixed parts. */
interface FastPath extends FastPathEnv {
  readonly dispatcher: Dispatcher
  /** The endpoint's origin, as undici takes it. */
  readonly origin: string
  /** The endpoint's path, `""` for the root; the request's path is appended to it. */
  readonly basePath: string
  readonly sign: ReturnType<typeof makeFastGetSigner>
  /** The credentials when at hand without an effect (`Credentials.unsafeCurrent`). */
  readonly current: (now: number) => Credentials.AwsCredentials | undefined
  readonly maxBytes: number
}

/**
 * The fast path over `dispatcher`, for `HttpChimeRooms` to build with its environment; `undefined`
 * (the general path alone) when the credentials cannot be read without an effect or the endpoint's
 * path is not one the fast signer can prefix.
 */
export const makeFastPath = (dispatcher: Dispatcher): FastPathFactory => (env) => {
  const fast = fastPathFor(dispatcher, env)
  return fast === undefined ? undefined : { listRooms: listRooms(fast), unsafeListRooms: unsafeListRooms(fast) }
}

const fastPathFor = (dispatcher: Dispatcher, env: FastPathEnv): FastPath | undefined => {
  const current = env.credentials.unsafeCurrent
  if (current === undefined) return undefined
  const endpoint = splitPlainUrl(env.config.endpoint)
  if (endpoint === undefined || endpoint.path.includes("?")) return undefined
  const basePath = endpoint.path === "/" ? "" : endpoint.path
  if (!isPlainBasePath(basePath)) return undefined
  const origin = endpoint.origin
  // A plain origin is already lower case without a default port: the `host` undici sends.
  const sign = makeFastGetSigner(
    origin.slice(origin.indexOf("://") + 3),
    env.config.signingRegion,
    env.config.signingName
  )
  return { ...env, dispatcher, origin, basePath, sign, current, maxBytes: env.config.maxResponseBytes }
}

/**
 * The outcome of an exchange that was not a 2xx with its body: a platform request and response
 * over the same exchange, going the general way (`decode`, transport errors, and a refused
 * clock learnt and retried once, as `withSigV4` does).
 */
const uncommon = (
  fast: FastPath,
  sent: Exchange,
  head: Head | undefined,
  error: unknown,
  call: Call,
  headers: Record<string, string>
): Effect.Effect<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError> => {
  const request = HttpClientRequest.get(fast.origin + call.target, { headers })
  if (head === undefined) {
    return Effect.fail(
      fast.toChimeError(new HttpClientError.RequestError({ request, reason: "Transport", cause: error }))
    )
  }
  if (error instanceof BodyTooLargeError) {
    return Effect.fail(tooLarge(head.status, requestIdFrom((name) => rawHeader(head.rawHeaders, name)), fast.maxBytes))
  }
  const response = new UndiciResponse(request, sent, head)
  return call.relearn ? refused(fast, response, call) : fast.decode(response)
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
  fast: FastPath,
  call: Call,
  signAt: number,
  decoded: (exit: Exit.Exit<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError>) => void,
  other: (outcome: Effect.Effect<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError>) => void,
  onNextToken?: (token: string) => void
): Exchange => {
  const headers = fast.sign(call.path, call.query, call.creds, signAt)
  const remaining = call.deadline === Infinity ? undefined : Math.max(0, call.deadline - performance.now())
  let open = true
  const settle = (exit: Exit.Exit<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError>) => {
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
  return fetchWhole(
    fast.dispatcher,
    fast.origin,
    call.target,
    headers,
    remaining,
    fast.maxBytes,
    (sent, head, body, error) =>
      guard(() => {
        if (body === undefined || head!.status < 200 || head!.status >= 300) {
          const outcome = uncommon(fast, sent, head, error, call, headers)
          open = false
          return other(outcome)
        }
        const status = head!.status
        const requestId = requestIdFrom((name) => rawHeader(head!.rawHeaders, name))
        const parse = () => parseSuccess(status, requestId, decodeUtf8(body))
        const finish = (parsed: ReturnType<typeof parse>) => {
          const out = parsed instanceof ChimeError.ResponseDecodeError
            ? parsed
            : decodeParsed(status, requestId, parsed.json)
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
        const token = parsed instanceof ChimeError.ResponseDecodeError ? undefined : nextTokenOf(parsed.json)
        if (token === undefined) return finish(parsed)
        onNextToken(token)
        afterWrites(() => guard(() => finish(parsed)))
      })
  )
}

const exchange = (
  fast: FastPath,
  call: Call,
  signAt: number
): Effect.Effect<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError> =>
  Effect.async<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError>((resume) =>
    send(fast, call, signAt, resume, resume).canceler()
  )

/** As `withSigV4`: a refused clock teaches the offset; sign afresh and send once more. */
const refused = (
  fast: FastPath,
  response: HttpClientResponse.HttpClientResponse,
  call: Call
): Effect.Effect<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError> =>
  Effect.flatMap(skewFromResponse(response, Date.now(), fast.maxBytes), ({ offset, rest }) =>
    offset === undefined
      ? fast.decode(rest)
      : Effect.zipRight(
        Ref.set(fast.clockOffset, offset),
        Effect.suspend(() => exchange(fast, { ...call, relearn: false }, Date.now() + offset))
      ))

/**
 * The URL of a valid request and, when the credentials are at hand, its call (otherwise the
 * general path fetches them first); or why it cannot be sent.
 */
const prepare = (
  fast: FastPath,
  input: ListRoomsRequest.ListRoomsRequest,
  now: number
): Either.Either<Prepared, ChimeError.ChimeError> => {
  const valid = ListRoomsRequest.validate(input)
  if (valid._tag === "Left") return Either.left(valid.left)
  const parts = encodeListRoomsParts(valid.right)
  if (parts._tag === "Left") return Either.left(parts.left)
  const path = fast.basePath + parts.right.path
  const query = parts.right.query
  const target = query === "" ? path : path + "?" + query
  const creds = fast.current(now)
  const call = creds === undefined
    ? undefined
    : { path, query, target, creds, deadline: performance.now() + fast.timeoutMillis, relearn: true }
  return Either.right({ url: fast.origin + target, call })
}

const listRooms =
  (fast: FastPath) =>
  (input: ListRoomsRequest.ListRoomsRequest): Effect.Effect<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError> =>
    Effect.clockWith((clock) => {
      const live = clock === liveClock
      const now = Date.now()
      const prepared = prepare(fast, input, now)
      if (prepared._tag === "Left") return Effect.fail(prepared.left)
      const { call, url } = prepared.right
      return live && call !== undefined ? exchange(fast, call, now + fast.clockOffset.millis) : fast.general(url)
    })

const unsafeListRooms = (fast: FastPath): NonNullable<ChimeRooms.ChimeRoomsService["unsafeListRooms"]> =>
(
  input,
  clock,
  done,
  onNextToken
) => {
  if (clock !== liveClock) return undefined
  const now = Date.now()
  const prepared = prepare(fast, input, now)
  if (prepared._tag === "Left") {
    done(Exit.fail(prepared.left))
    return noop
  }
  const call = prepared.right.call
  if (call === undefined) return undefined
  let aborted = false
  let cancel: (() => void) | undefined
  const report = (exit: Exit.Exit<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError>) => {
    if (!aborted) done(exit)
  }
  const early = onNextToken === undefined ? undefined : (token: string) => {
    if (!aborted) onNextToken(token)
  }
  const sent = send(fast, call, now + fast.clockOffset.millis, report, (outcome) => {
    const interrupt = Effect.runCallback(outcome, { onExit: report })
    cancel = () => interrupt()
  }, early)
  return () => {
    aborted = true
    if (cancel === undefined) sent.abort()
    else cancel()
  }
}
