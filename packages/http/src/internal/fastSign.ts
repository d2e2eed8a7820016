/**
 * SigV4 for the one request shape `HttpChimeRooms` sends: a `GET` without a body whose only
 * signed headers are `host`, `x-amz-date` and, with a session token, `x-amz-security-token`, to a
 * path and query that are already in canonical form (every segment and value strictly
 * percent-encoded, query keys in order, no empty or dot segments).
 *
 * For that shape smithy's canonical request reduces to string concatenation: the canonical path
 * is the path with `%` escaped once more, the canonical query is the query as written, and the
 * payload hash is the hash of nothing. What is left per request is two `node:crypto` calls; the
 * signing key is derived once per day and credentials. `SigV4.sign` (the general signer, held to smithy's) stays the reference:
 * a test checks this signer against it on many random and hostile inputs.
 */
import * as Redacted from "effect/Redacted"
import { createHash, createHmac } from "node:crypto"
import * as crypto from "node:crypto"
import type * as Credentials from "../Credentials.js"

/** The only algorithm SigV4 over headers uses; both signers write it. */
export const ALGORITHM = "AWS4-HMAC-SHA256"
/** `sha256("")`, the payload hash of every bodiless request. */
export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/** One-shot hashing where Node has it (20.12+), else a `Hash` object. */
const sha256Hex: (data: string) => string = typeof (crypto as { hash?: unknown }).hash === "function"
  ? (data) =>
    (crypto as unknown as { hash: (alg: string, data: string, enc: string) => string }).hash("sha256", data, "hex")
  : (data) => createHash("sha256").update(data).digest("hex")

/** As smithy's `getCanonicalHeaders` writes a value: line breaks and runs of blanks to one space, trimmed. */
export const canonicalValue = (value: string): string =>
  /[\t\r\n]|^ | $| {2}/.test(value)
    ? value.replace(/[\r\n]/g, " ").replace(/[ \t]+/g, " ").replace(/^ | $/g, "")
    : value

/** Characters smithy's `escapeUri` leaves as they are, besides `/` (kept by the path rule) and `%`. */
const PLAIN_SEGMENTS = /^(?:\/[A-Za-z0-9\-._~]+)*$/

/**
 * Whether `basePath` (the endpoint's path, no trailing slash) can prefix a fast-signed path: only
 * unreserved characters, no empty or dot segments, so smithy's path normalisation leaves it be.
 */
export const isPlainBasePath = (basePath: string): boolean =>
  PLAIN_SEGMENTS.test(basePath) && !basePath.split("/").some((s) => s === "." || s === "..")

interface KeyCache {
  credentials: Credentials.AwsCredentials
  secret: string
  token: string | undefined
  canonicalToken: string | undefined
  shortDate: string
  key: Buffer | undefined
}

/** The headers to send with a signed request: `x-amz-date`, `authorization`, maybe `x-amz-security-token`. */
export type SignedHeaders = Readonly<Record<string, string>>

/**
 * A formatter of SigV4's `x-amz-date` (`20150830T123600Z`) that remembers the last second it
 * formatted: every request of a busy second shares one string.
 */
export const makeLongDateCache = (): (millis: number) => string => {
  let lastSecond = NaN
  let lastLongDate = ""
  return (millis) => {
    const second = Math.floor(millis / 1000)
    if (second !== lastSecond) {
      lastSecond = second
      lastLongDate = new Date(second * 1000).toISOString().replace(/[-:]|\.\d{3}/g, "")
    }
    return lastLongDate
  }
}

/**
 * A signer for `GET {origin}{path}?{query}` requests, `host` being the signed host (lower case, no
 * default port). `path` must be canonical as described above (the caller checks `isPlainBasePath`
 * for its prefix and encodes its segments strictly); `query` is the part after `?` ("" for none).
 */
export const makeFastGetSigner = (host: string, region: string, service: string) => {
  let cache: KeyCache | undefined
  const longDateOf = makeLongDateCache()

  const stateFor = (credentials: Credentials.AwsCredentials, shortDate: string): KeyCache => {
    let c = cache
    if (c === undefined || c.credentials !== credentials) {
      const token = credentials.sessionToken === undefined ? undefined : Redacted.value(credentials.sessionToken)
      c = cache = {
        credentials,
        secret: Redacted.value(credentials.secretAccessKey),
        token,
        canonicalToken: token === undefined ? undefined : canonicalValue(token),
        shortDate: "",
        key: undefined
      }
    }
    if (c.key === undefined || c.shortDate !== shortDate) {
      const kDate = createHmac("sha256", "AWS4" + c.secret).update(shortDate).digest()
      const kRegion = createHmac("sha256", kDate).update(region).digest()
      const kService = createHmac("sha256", kRegion).update(service).digest()
      c.key = createHmac("sha256", kService).update("aws4_request").digest()
      c.shortDate = shortDate
    }
    return c
  }

  return (path: string, query: string, credentials: Credentials.AwsCredentials, nowMillis: number): SignedHeaders => {
    const longDate = longDateOf(nowMillis)
    const shortDate = longDate.slice(0, 8)
    const state = stateFor(credentials, shortDate)
    const scope = shortDate + "/" + region + "/" + service + "/aws4_request"
    const token = state.canonicalToken
    const signedHeaders = token === undefined ? "host;x-amz-date" : "host;x-amz-date;x-amz-security-token"
    const canonical = "GET\n" + (path.indexOf("%") === -1 ? path : path.replaceAll("%", "%25")) + "\n" + query +
      "\nhost:" + host + "\nx-amz-date:" + longDate + "\n" +
      (token === undefined ? "" : "x-amz-security-token:" + token + "\n") +
      "\n" + signedHeaders + "\n" + EMPTY_SHA256
    const stringToSign = ALGORITHM + "\n" + longDate + "\n" + scope + "\n" + sha256Hex(canonical)
    const signature = createHmac("sha256", state.key!).update(stringToSign).digest("hex")
    const authorization = ALGORITHM + " Credential=" + credentials.accessKeyId + "/" + scope + ", SignedHeaders=" +
      signedHeaders + ", Signature=" + signature
    return state.token === undefined
      ? { "x-amz-date": longDate, authorization }
      : { "x-amz-date": longDate, authorization, "x-amz-security-token": state.token }
  }
}
