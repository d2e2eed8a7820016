/**
 * AWS Signature Version 4 as an `HttpClient` middleware. Every attempt is signed afresh (a new
 * `x-amz-date` from Effect's `Clock` plus the learned clock offset, the current credentials,
 * `x-amz-security-token` when there is a session token); a request refused because its date is
 * off teaches the offset and is signed and sent once more.
 *
 * The canonical request is written by `internal/canonicalRequest.ts`, `@smithy/signature-v4`'s
 * rules (held to the AWS SDK's copy of smithy by the tests); hashes and HMACs are `node:crypto`'s.
 * The derived signing key is kept per day and credentials.
 *
 * What is signed is the request's URL string as written (path and query, with `urlParams`), not a
 * re-parsed form: give it URLs that are already percent-encoded (what `HttpChimeRooms` builds), so
 * that what a client sends is what was signed.
 *
 * @since 0.1.0
 */
import type { ChimeError } from "@chime-rooms/core"
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import { createHash, createHmac } from "node:crypto"
import type * as Credentials from "./Credentials.js"
import { boundedText } from "./internal/body.js"
import { canonicalRequest, signingKey } from "./internal/canonicalRequest.js"
import { ALGORITHM, EMPTY_SHA256, makeLongDateCache } from "./internal/fastSign.js"

/**
 * What the signer needs.
 *
 * @category models
 * @since 0.1.0
 */
export interface SigV4Options {
  /** The current credentials (for example `Credentials.get`). */
  readonly credentials: Effect.Effect<Credentials.AwsCredentials, ChimeError.CredentialsError>
  /** The signing region, for example `us-east-1`. */
  readonly region: string
  /** The signing name, for example `chime`. */
  readonly service: string
  /**
   * The learned offset between the server's clock and ours, in milliseconds, shared by every
   * request signed with it. A fresh one is made when absent.
   */
  readonly clockOffset?: Ref.Ref<number> | undefined
  /**
   * The most of a 401/403's body read to tell whether it refuses the request's date (default
   * 4 MiB): a larger body fails, when decoded, with the cause `BodyTooLargeError`.
   */
  readonly maxBodyBytes?: number | undefined
}

/**
 * A signer bound to its options: `sign` adds `x-amz-date`, `authorization` and, with a session
 * token, `x-amz-security-token`.
 *
 * @category models
 * @since 0.1.0
 */
export interface Signer {
  readonly sign: (request: HttpClientRequest.HttpClientRequest) => Effect.Effect<
    HttpClientRequest.HttpClientRequest,
    ChimeError.CredentialsError
  >
  readonly clockOffset: Ref.Ref<number>
}

interface SignableRequest {
  method: string
  path: string
  query: Record<string, string | Array<string>>
  headers: Record<string, string>
}

const safeDecode = (s: string): string => {
  if (s.indexOf("%") === -1) return s
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

const addQuery = (query: Record<string, string | Array<string>>, key: string, value: string): void => {
  const existing = query[key]
  if (existing === undefined) query[key] = value
  else if (typeof existing === "string") query[key] = [existing, value]
  else existing.push(value)
}

/** `host[:port]` as clients send it: lower case, default port dropped. */
const hostOf = (authority: string, scheme: string): string => {
  const host = authority.toLowerCase()
  if (scheme === "http" && host.endsWith(":80")) return host.slice(0, -3)
  if (scheme === "https" && host.endsWith(":443")) return host.slice(0, -4)
  return host
}

/** Splits the URL string by hand: the URL parser would normalise what must be signed as written. */
const toSignable = (request: HttpClientRequest.HttpClientRequest): SignableRequest => {
  const url = request.url
  const schemeEnd = url.indexOf("://")
  const scheme = schemeEnd === -1 ? "https" : url.slice(0, schemeEnd).toLowerCase()
  const authorityStart = schemeEnd === -1 ? 0 : schemeEnd + 3
  let authorityEnd = authorityStart
  while (authorityEnd < url.length) {
    const c = url.charCodeAt(authorityEnd)
    if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) break
    authorityEnd++
  }
  const hashAt = url.indexOf("#", authorityEnd)
  const end = hashAt === -1 ? url.length : hashAt
  const queryAt = url.indexOf("?", authorityEnd)
  const pathEnd = queryAt === -1 || queryAt > end ? end : queryAt
  const path = authorityEnd === pathEnd ? "/" : url.slice(authorityEnd, pathEnd)
  const query: Record<string, string | Array<string>> = {}
  if (pathEnd < end) {
    const raw = url.slice(pathEnd + 1, end)
    let start = 0
    while (start <= raw.length) {
      let amp = raw.indexOf("&", start)
      if (amp === -1) amp = raw.length
      if (amp > start) {
        const part = raw.slice(start, amp)
        const eq = part.indexOf("=")
        if (eq === -1) addQuery(query, safeDecode(part), "")
        else addQuery(query, safeDecode(part.slice(0, eq)), safeDecode(part.slice(eq + 1)))
      }
      start = amp + 1
    }
  }
  for (const [key, value] of request.urlParams) {
    if (value !== undefined) addQuery(query, key, value)
  }
  const headers: Record<string, string> = {}
  let hasHost = false
  for (const name in request.headers) {
    const value = request.headers[name]!
    if (name === "host") hasHost = true
    if (name === "authorization" || name === "x-amz-date" || name === "x-amz-security-token") continue
    headers[name] = value
  }
  const hostname = hostOf(url.slice(authorityStart, authorityEnd), scheme)
  if (!hasHost) headers.host = hostname
  return { method: request.method, path, query, headers }
}

/** What is kept per credentials: their plain values and the signing key of the current day. */
interface CredentialState {
  readonly credentials: Credentials.AwsCredentials
  readonly plain: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  shortDate: string
  key: Buffer | undefined
}

const payloadHashOf = (request: HttpClientRequest.HttpClientRequest): string => {
  const body = request.body
  switch (body._tag) {
    case "Empty":
      return EMPTY_SHA256
    case "Uint8Array":
      return createHash("sha256").update(body.body).digest("hex")
    case "Raw":
      return typeof body.body === "string" || body.body instanceof Uint8Array
        ? createHash("sha256").update(body.body).digest("hex")
        : "UNSIGNED-PAYLOAD"
    default:
      return "UNSIGNED-PAYLOAD"
  }
}

/**
 * Builds a {@link Signer}; each run of the effect makes a fresh one, with its own caches and, unless
 * `clockOffset` is given, its own clock offset.
 *
 * Signing is synchronous: the canonical request is written by hand (smithy's rules), the signing
 * key derived once per day and credentials, the two hashes per request run on `node:crypto`, and
 * the `x-amz-date` string is rebuilt only when the second changes.
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeSigner = (options: SigV4Options): Effect.Effect<Signer> => Effect.sync(() => unsafeMakeSigner(options))

// `withSigV4` builds a client, not an effect, so it makes its signer synchronously.
const unsafeMakeSigner = (options: SigV4Options): Signer => {
  const clockOffset = options.clockOffset ?? Ref.unsafeMake(0)
  let state: CredentialState | undefined
  const stateFor = (credentials: Credentials.AwsCredentials): CredentialState => {
    if (state !== undefined && state.credentials === credentials) return state
    const plain = {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: Redacted.value(credentials.secretAccessKey),
      ...(credentials.sessionToken !== undefined ? { sessionToken: Redacted.value(credentials.sessionToken) } : {})
    }
    state = { credentials, plain, shortDate: "", key: undefined }
    return state
  }

  const longDateOf = makeLongDateCache()

  const finish = (
    request: HttpClientRequest.HttpClientRequest,
    current: CredentialState,
    longDate: string,
    key: Buffer
  ): HttpClientRequest.HttpClientRequest => {
    const shortDate = longDate.slice(0, 8)
    const scope = `${shortDate}/${options.region}/${options.service}/aws4_request`
    const signable = toSignable(request)
    signable.headers["x-amz-date"] = longDate
    const token = current.plain.sessionToken
    if (token !== undefined) signable.headers["x-amz-security-token"] = token
    // No x-amz-content-sha256: only S3 wants it; other services (and the test suite) sign without it.
    const { canonical, signedHeaders } = canonicalRequest(signable, payloadHashOf(request))
    const stringToSign = `${ALGORITHM}\n${longDate}\n${scope}\n${createHash("sha256").update(canonical).digest("hex")}`
    const signature = createHmac("sha256", key).update(stringToSign).digest("hex")
    const headers: Record<string, string> = {
      "x-amz-date": longDate,
      authorization:
        `${ALGORITHM} Credential=${current.plain.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`
    }
    // Requests are signed from their unsigned form each attempt, so no stale token is left over.
    if (token !== undefined) headers["x-amz-security-token"] = token
    return HttpClientRequest.setHeaders(request, headers)
  }

  const sign = (request: HttpClientRequest.HttpClientRequest) =>
    Effect.flatMap(
      options.credentials,
      (credentials) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.flatMap(Ref.get(clockOffset), (offset) => {
            const current = stateFor(credentials)
            const longDate = longDateOf(now + offset)
            const shortDate = longDate.slice(0, 8)
            if (current.key === undefined || current.shortDate !== shortDate) {
              current.key = signingKey(current.plain.secretAccessKey, shortDate, options.region, options.service)
              current.shortDate = shortDate
            }
            return Effect.succeed(finish(request, current, longDate, current.key))
          }))
    )
  return { sign, clockOffset }
}

/**
 * Signs one request (a signer made for the call; prefer {@link withSigV4} or {@link makeSigner}
 * for many requests).
 *
 * @category combinators
 * @since 0.1.0
 */
export const sign = (
  request: HttpClientRequest.HttpClientRequest,
  options: SigV4Options
): Effect.Effect<HttpClientRequest.HttpClientRequest, ChimeError.CredentialsError> =>
  Effect.flatMap(makeSigner(options), (signer) => signer.sign(request))

const SKEW_MESSAGE = /signature expired|requesttimetooskewed|signature not yet current|request ?expired|clock ?skew/i

/**
 * The largest clock offset learnt from a server's `Date`: a day. A `Date` farther from ours than
 * that (`Sat, 13 Sep 275760 00:00:00 GMT`, a proxy's default, a broken server) is not our clock
 * being off, and an offset of any size from it would only sign every later request for a date no
 * one accepts, or for none at all.
 *
 * @category constants
 * @since 0.1.0
 */
export const maxLearnedSkewMillis = 24 * 60 * 60 * 1000

/**
 * What a response says of our clock, and the response to go on with.
 *
 * @category models
 * @since 0.1.0
 */
export interface ClockRefusal {
  /** The server's clock offset from ours, when the response refuses the request for its date. */
  readonly offset: number | undefined
  /**
   * The response to decode: `response` itself when its body was not read, else one that replays
   * it (or, when reading it failed or passed `maxBytes`, whose body fails the same way): a body
   * can be read only once on most clients (`fetch`'s stream locks).
   */
  readonly rest: HttpClientResponse.HttpClientResponse
}

/**
 * Whether `response` refuses a request for its date (a 401/403 whose error type or message says
 * so, with a `Date` header within {@link maxLearnedSkewMillis} of ours), and by how much. The body
 * is read, up to `maxBytes`, only when the error type does not already say it.
 *
 * @category utils
 * @since 0.1.0
 */
export const skewFromResponse = (
  response: HttpClientResponse.HttpClientResponse,
  now: number,
  maxBytes = 4 * 1024 * 1024
): Effect.Effect<ClockRefusal> => {
  const untouched: ClockRefusal = { offset: undefined, rest: response }
  if (response.status !== 401 && response.status !== 403) return Effect.succeed(untouched)
  const headers = response.headers
  const date = headers["date"]
  if (date === undefined) return Effect.succeed(untouched)
  const offset = Date.parse(date) - now
  if (!(Math.abs(offset) <= maxLearnedSkewMillis)) return Effect.succeed(untouched)
  const errorType = headers["x-amzn-errortype"] ?? ""
  if (SKEW_MESSAGE.test(errorType)) return Effect.succeed({ offset, rest: response })
  return Effect.match(boundedText(response, maxBytes), {
    onFailure: (error) => ({ offset: undefined, rest: replay(response, error) }),
    onSuccess: (text) => ({ offset: SKEW_MESSAGE.test(text) ? offset : undefined, rest: replay(response, text) })
  })
}

/** A response with `response`'s status and headers whose body is `body`, or fails with it. */
const replay = (
  response: HttpClientResponse.HttpClientResponse,
  body: string | Error
): HttpClientResponse.HttpClientResponse => {
  const headers = new globalThis.Headers()
  for (const [name, value] of Object.entries(response.headers)) {
    // The body is replayed whole and decoded: its length and encoding are the replay's own.
    if (name === "content-length" || name === "content-encoding" || name === "transfer-encoding") continue
    try {
      headers.append(name, value)
    } catch {
      // A value `fetch`'s `Headers` refuses cannot matter to the decoding of an error.
    }
  }
  const source = typeof body === "string" ? body : new ReadableStream({ start: (controller) => controller.error(body) })
  return HttpClientResponse.fromWeb(
    response.request,
    new globalThis.Response(source, { status: response.status, headers })
  )
}

const SESSION_TOKEN_HEADER = "x-amz-security-token"

/** The platform's redacted header names, and the session token's (`authorization` is among the platform's). */
const withTokenRedacted = (names: ReadonlyArray<string | RegExp>): ReadonlyArray<string | RegExp> =>
  names.includes(SESSION_TOKEN_HEADER) ? names : [...names, SESSION_TOKEN_HEADER]

/**
 * The middleware: signs every attempt and recovers once from a refused clock. The signed request
 * is sent with `x-amz-security-token` among `Headers.currentRedactedNames`, as `authorization`
 * already is: a client's spans (`HttpClient.make` records request headers) and whatever inspects
 * the request on its way (`toJSON`, `util.inspect`, a logging middleware) show it as `<redacted>`.
 *
 * Dual: `withSigV4(client, options)`, or `client.pipe(withSigV4(options))`.
 *
 * @example
 * ```ts
 * import { Credentials, SigV4 } from "@chime-rooms/http"
 * import { HttpClient } from "@effect/platform"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const client = yield* HttpClient.HttpClient
 *   const creds = yield* Credentials.Credentials
 *   const options = { credentials: creds.get, region: "us-east-1", service: "chime" }
 *   const signed = SigV4.withSigV4(client, options)
 *   const piped = client.pipe(SigV4.withSigV4(options)) // the same, data-last
 *   return [signed, piped]
 * })
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const withSigV4: {
  (
    options: SigV4Options
  ): <E, R>(client: HttpClient.HttpClient.With<E, R>) => HttpClient.HttpClient.With<E | ChimeError.CredentialsError, R>
  <E, R>(
    client: HttpClient.HttpClient.With<E, R>,
    options: SigV4Options
  ): HttpClient.HttpClient.With<E | ChimeError.CredentialsError, R>
} = dual(2, <E, R>(
  client: HttpClient.HttpClient.With<E, R>,
  options: SigV4Options
): HttpClient.HttpClient.With<E | ChimeError.CredentialsError, R> => {
  const signer = unsafeMakeSigner(options)
  const attempt = (request: HttpClientRequest.HttpClientRequest) =>
    Effect.locallyWith(
      Effect.flatMap(signer.sign(request), client.execute),
      Headers.currentRedactedNames,
      withTokenRedacted
    )
  return HttpClient.makeWith(
    (effect) =>
      Effect.flatMap(effect, (request) =>
        Effect.flatMap(attempt(request), (response) => {
          if (response.status !== 401 && response.status !== 403) return Effect.succeed(response)
          return Effect.flatMap(Clock.currentTimeMillis, (now) =>
            Effect.flatMap(skewFromResponse(response, now, options.maxBodyBytes), ({ offset, rest }) =>
              offset === undefined
                ? Effect.succeed(rest)
                : Effect.zipRight(Ref.set(signer.clockOffset, offset), attempt(request))))
        })),
    Effect.succeed as HttpClient.HttpClient.Preprocess<never, never>
  )
})
