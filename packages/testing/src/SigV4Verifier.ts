/**
 * A server-side check of AWS Signature Version 4 `Authorization` headers, as the emulator runs it
 * on every request: the canonical request is rebuilt from what arrived on the wire and signed with
 * the known secret; the date must be within the allowed skew of the server's clock.
 *
 * Failures carry the names and texts of AWS's own front end (HTTP 403 for all of them):
 *
 * | name | when |
 * |---|---|
 * | `MissingAuthenticationTokenException` | no `Authorization` header |
 * | `IncompleteSignatureException` | a malformed header, `host` or `x-amz-date` unsigned or absent |
 * | `UnrecognizedClientException` | unknown access key, or a session token missing / not matching |
 * | `InvalidSignatureException` | wrong scope, "Signature expired" / "Signature not yet current", signature mismatch |
 *
 * A signature mismatch includes a `SignedHeaders` list that is not sorted or names a header twice,
 * and one that names a header the request does not carry: such a header is never canonicalised
 * as empty.
 *
 * No result ever holds a secret key, a session token or the `Authorization` header.
 *
 * @since 0.1.0
 */
import { Clock, Context, Duration, Effect, Layer, Redacted, Schema } from "effect"
import { timingSafeEqual } from "node:crypto"
import * as internal from "./internal/sigv4.js"

/**
 * A key pair the verifier accepts. When `sessionToken` is set, requests must carry it in
 * `x-amz-security-token` (signed or not, as AWS allows); when it is not, they must carry none.
 *
 * @category models
 * @since 0.1.0
 */
export interface SigV4Credential {
  readonly accessKeyId: string
  readonly secretAccessKey: Redacted.Redacted<string>
  readonly sessionToken?: Redacted.Redacted<string> | undefined
}

/**
 * A request as it arrived: method, the raw request-target (path and query exactly as on the
 * request line), the header pairs in arrival order (duplicates kept), and the body.
 *
 * @category models
 * @since 0.1.0
 */
export interface WireRequest {
  readonly method: string
  readonly target: string
  readonly headers: ReadonlyArray<readonly [string, string]>
  readonly body?: string | Uint8Array | undefined
}

/**
 * The AWS error names a signature check can end with.
 *
 * @category schemas
 * @since 0.1.0
 */
export const SigV4ErrorName = Schema.Literal(
  "MissingAuthenticationTokenException",
  "IncompleteSignatureException",
  "UnrecognizedClientException",
  "InvalidSignatureException"
)

/**
 * One of the AWS error names a signature check can end with.
 *
 * @since 0.1.0
 */
export type SigV4ErrorName = typeof SigV4ErrorName.Type

/**
 * A request whose signature checked out.
 *
 * @category models
 * @since 0.1.0
 */
export interface SigV4Verified {
  readonly _tag: "Verified"
  readonly accessKeyId: string
  readonly signedHeaders: ReadonlyArray<string>
}

/**
 * A refused request: the AWS error name, its HTTP status and a message safe to send back.
 *
 * @category models
 * @since 0.1.0
 */
export interface SigV4Rejected {
  readonly _tag: "Rejected"
  readonly name: SigV4ErrorName
  readonly status: number
  readonly message: string
}

/**
 * The outcome of `check`.
 *
 * @category models
 * @since 0.1.0
 */
export type SigV4Verification = SigV4Verified | SigV4Rejected

/**
 * The failure of `verify`, for Effect programs.
 *
 * @category errors
 * @since 0.1.0
 */
export class SignatureRejected extends Schema.TaggedError<SignatureRejected>()("SignatureRejected", {
  errorName: SigV4ErrorName,
  status: Schema.Number,
  message: Schema.String
}) {}

/**
 * How to build a verifier.
 *
 * @category models
 * @since 0.1.0
 */
export interface SigV4VerifierOptions {
  /** The key pairs to accept. */
  readonly credentials: ReadonlyArray<SigV4Credential>
  /** The region the credential scope must name. Default `us-east-1`. */
  readonly region?: string | undefined
  /** The service the credential scope must name. Default `chime`. */
  readonly service?: string | undefined
  /** How far the request date may be from the server's clock. Default 5 minutes, like AWS. */
  readonly maxSkew?: Duration.DurationInput | undefined
  /**
   * Added to the clock before comparing: a server whose clock is off, for testing skew recovery.
   * A number is milliseconds and may be negative (a clock that is behind).
   */
  readonly clockOffset?: Duration.DurationInput | undefined
}

/**
 * A verifier: `check` is pure (the caller passes the clock), `verify` reads Effect's `Clock`.
 *
 * @category models
 * @since 0.1.0
 */
export interface SigV4VerifierService {
  readonly region: string
  readonly service: string
  readonly maxSkew: Duration.Duration
  /** The clock offset in milliseconds (negative: behind). */
  readonly clockOffsetMillis: number
  /** Checks a request against the clock `nowMillis` (before the configured offset is added). */
  readonly check: (request: WireRequest, nowMillis: number) => SigV4Verification
  /** Checks a request against `Clock.currentTimeMillis` (plus the offset). */
  readonly verify: (request: WireRequest) => Effect.Effect<SigV4Verified, SignatureRejected>
}

/**
 * A duration in milliseconds where a bare number may be negative (Effect's `Duration` cannot be).
 *
 * @category utils
 * @since 0.1.0
 */
export const signedMillis = (input: Duration.DurationInput): number =>
  typeof input === "number" ? input : Duration.toMillis(Duration.decode(input))

const reject = (name: SigV4ErrorName, message: string): SigV4Rejected => ({
  _tag: "Rejected",
  name,
  status: 403,
  message
})

const MISMATCH = "The request signature we calculated does not match the signature you provided. " +
  "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

const UNSORTED = " SignedHeaders must name each header once, in sorted order."

const INVALID_TOKEN = "The security token included in the request is invalid."

const sameText = (a: string, b: string): boolean => {
  const x = Buffer.from(a, "utf8")
  const y = Buffer.from(b, "utf8")
  // timingSafeEqual throws on unequal lengths; the lengths of hex signatures are public anyway.
  return x.length === y.length && timingSafeEqual(x, y)
}

const describeSkew = (minutes: number) =>
  Number.isInteger(minutes) ? `${minutes} min.` : `${Math.round(minutes * 60)} sec.`

interface KeyEntry {
  readonly accessKeyId: string
  readonly secret: Redacted.Redacted<string>
  readonly sessionToken: Redacted.Redacted<string> | undefined
  // Derived signing keys per `date/region/service`: one HMAC chain per day instead of per request.
  readonly signingKeys: Map<string, Buffer>
}

const MAX_CACHED_KEYS = 64

const signingKeyOf = (entry: KeyEntry, date: string, region: string, service: string): Buffer => {
  const cacheKey = date + "/" + region + "/" + service
  let key = entry.signingKeys.get(cacheKey)
  if (key === undefined) {
    if (entry.signingKeys.size >= MAX_CACHED_KEYS) entry.signingKeys.clear()
    key = internal.deriveSigningKey(Redacted.value(entry.secret), date, region, service)
    entry.signingKeys.set(cacheKey, key)
  }
  return key
}

const headerValues = (headers: ReadonlyArray<readonly [string, string]>, lowerName: string): Array<string> => {
  const out: Array<string> = []
  for (const [name, value] of headers) {
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) out.push(value)
  }
  return out
}

/**
 * Builds a verifier: `check` is pure, `verify` reads the `Clock`.
 *
 * @example
 * ```ts
 * import { SigV4Verifier } from "@chime-rooms/testing"
 * import { Redacted } from "effect"
 *
 * const verifier = SigV4Verifier.make({
 *   credentials: [{ accessKeyId: "AKID", secretAccessKey: Redacted.make("secret") }]
 * })
 * const check = (headers: SigV4Verifier.WireRequest["headers"]) =>
 *   verifier.check({ method: "GET", target: "/accounts/a/rooms", headers }, Date.now())
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: SigV4VerifierOptions): SigV4VerifierService => {
  const region = options.region ?? "us-east-1"
  const service = options.service ?? "chime"
  const maxSkew = Duration.decode(options.maxSkew ?? Duration.minutes(5))
  const skewMillis = Duration.toMillis(maxSkew)
  const offsetMillis = signedMillis(options.clockOffset ?? 0)
  const keys = new Map<string, KeyEntry>()
  for (const c of options.credentials) {
    keys.set(c.accessKeyId, {
      accessKeyId: c.accessKeyId,
      secret: c.secretAccessKey,
      sessionToken: c.sessionToken,
      signingKeys: new Map()
    })
  }

  const check = (request: WireRequest, nowMillis: number): SigV4Verification => {
    const authorizations = headerValues(request.headers, "authorization")
    if (authorizations.length === 0) {
      return reject("MissingAuthenticationTokenException", "Missing Authentication Token")
    }
    if (authorizations.length > 1) {
      return reject("IncompleteSignatureException", "Only one Authorization header may be sent.")
    }
    const auth = internal.parseAuthorization(authorizations[0]!)
    if ("_tag" in auth) return reject("IncompleteSignatureException", auth.message)

    if (!auth.signedHeaders.includes("host")) {
      return reject("IncompleteSignatureException", "'Host' must be a 'SignedHeader' in the AWS Authorization.")
    }
    if (!auth.signedHeaders.includes("x-amz-date")) {
      return reject("IncompleteSignatureException", "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.")
    }
    const dates = headerValues(request.headers, "x-amz-date")
    const amzDate = dates.length === 1 ? dates[0]!.trim() : undefined
    const requestMillis = amzDate === undefined ? undefined : internal.parseAmzDate(amzDate)
    if (amzDate === undefined || requestMillis === undefined) {
      return reject(
        "IncompleteSignatureException",
        "Exactly one 'X-Amz-Date' header in ISO-8601 basic format (YYYYMMDD'T'HHMMSS'Z') is required."
      )
    }

    if (auth.terminator !== "aws4_request") {
      return reject("InvalidSignatureException", "Credential should be scoped with a valid terminator: 'aws4_request'.")
    }
    if (auth.date !== amzDate.slice(0, 8)) {
      return reject(
        "InvalidSignatureException",
        `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${
          /^\d{8}$/.test(auth.date) ? auth.date : "?"
        }' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`
      )
    }
    if (auth.region !== region) {
      return reject("InvalidSignatureException", "Credential should be scoped to a valid region.")
    }
    if (auth.service !== service) {
      return reject("InvalidSignatureException", `Credential should be scoped to correct service: '${service}'.`)
    }

    const entry = keys.get(auth.accessKeyId)
    if (entry === undefined) return reject("UnrecognizedClientException", INVALID_TOKEN)
    const tokens = headerValues(request.headers, "x-amz-security-token")
    if (entry.sessionToken === undefined) {
      if (tokens.length > 0) return reject("UnrecognizedClientException", INVALID_TOKEN)
    } else if (tokens.length !== 1 || !sameText(tokens[0]!.trim(), Redacted.value(entry.sessionToken))) {
      return reject("UnrecognizedClientException", INVALID_TOKEN)
    }

    const now = nowMillis + offsetMillis
    if (requestMillis < now - skewMillis) {
      return reject(
        "InvalidSignatureException",
        `Signature expired: ${amzDate} is now earlier than ${internal.formatAmzDate(now - skewMillis)} (${
          internal.formatAmzDate(now)
        } - ${describeSkew(skewMillis / 60_000)})`
      )
    }
    if (requestMillis > now + skewMillis) {
      return reject(
        "InvalidSignatureException",
        `Signature not yet current: ${amzDate} is still later than ${internal.formatAmzDate(now + skewMillis)} (${
          internal.formatAmzDate(now)
        } + ${describeSkew(skewMillis / 60_000)})`
      )
    }

    const body = request.body
    const bodyHash = body === undefined || body.length === 0 ? internal.EMPTY_SHA256 : internal.sha256Hex(body)
    const declared = headerValues(request.headers, "x-amz-content-sha256")
    let payloadHash = bodyHash
    if (declared.length > 0) {
      const value = declared[0]!.trim()
      if (value !== "UNSIGNED-PAYLOAD" && value !== bodyHash) {
        return reject(
          "InvalidSignatureException",
          "The provided 'x-amz-content-sha256' header does not match what was computed."
        )
      }
      payloadHash = value
    }

    // AWS rebuilds the canonical headers sorted, from the headers that arrived: a list out of
    // order or naming a header twice never matches what it computes.
    if (!auth.signedHeadersSorted) return reject("InvalidSignatureException", MISMATCH + UNSORTED)
    const { block, missing } = internal.canonicalHeaders(request.headers, auth.signedHeaders)
    // A signed header that did not arrive is refused rather than canonicalised as empty: otherwise
    // a signature over `name:` (nothing) would vouch for a header nobody sent. This is the answer a
    // client gets from AWS when a proxy drops a header it signed.
    if (missing !== undefined) {
      return reject("InvalidSignatureException", `${MISMATCH} The signed header '${missing}' is not in the request.`)
    }

    const q = request.target.indexOf("?")
    const rawPath = q === -1 ? request.target : request.target.slice(0, q)
    const rawQuery = q === -1 ? "" : request.target.slice(q + 1)
    const canonicalRequest = request.method.toUpperCase() + "\n" +
      internal.canonicalUri(rawPath) + "\n" +
      internal.canonicalQuery(rawQuery) + "\n" +
      block + "\n" +
      auth.signedHeadersRaw + "\n" +
      payloadHash
    const scope = auth.date + "/" + auth.region + "/" + auth.service + "/aws4_request"
    const expected = internal.hmacHex(
      signingKeyOf(entry, auth.date, auth.region, auth.service),
      internal.stringToSign(amzDate, scope, canonicalRequest)
    )
    if (!sameText(expected, auth.signature)) return reject("InvalidSignatureException", MISMATCH)
    return { _tag: "Verified", accessKeyId: entry.accessKeyId, signedHeaders: auth.signedHeaders }
  }

  const verify = (request: WireRequest): Effect.Effect<SigV4Verified, SignatureRejected> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const outcome = check(request, now)
      return outcome._tag === "Verified"
        ? Effect.succeed(outcome)
        : Effect.fail(
          new SignatureRejected({ errorName: outcome.name, status: outcome.status, message: outcome.message })
        )
    })

  return { region, service, maxSkew, clockOffsetMillis: offsetMillis, check, verify }
}

/**
 * The verifier as a service, for programs that want it from the context.
 *
 * @example
 * ```ts
 * import { SigV4Verifier } from "@chime-rooms/testing"
 * import { Effect, Redacted } from "effect"
 *
 * const layer = SigV4Verifier.layer({
 *   credentials: [{ accessKeyId: "AKID", secretAccessKey: Redacted.make("secret") }]
 * })
 * const verify = (request: SigV4Verifier.WireRequest) =>
 *   Effect.flatMap(SigV4Verifier.SigV4Verifier, (v) => v.verify(request)).pipe(Effect.provide(layer))
 * ```
 *
 * @category tags
 * @since 0.1.0
 */
export class SigV4Verifier extends Context.Tag("@chime-rooms/testing/SigV4Verifier")<
  SigV4Verifier,
  SigV4VerifierService
>() {}

/**
 * A layer holding a verifier built from `options`.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options: SigV4VerifierOptions): Layer.Layer<SigV4Verifier> =>
  Layer.sync(SigV4Verifier, () => make(options))
