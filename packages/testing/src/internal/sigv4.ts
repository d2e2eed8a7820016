/**
 * The pieces of AWS Signature Version 4 a server needs to check a request: parsing the
 * `Authorization` header and rebuilding the canonical request from what arrived on the wire.
 *
 * Pure functions over strings; `SigV4Verifier.ts` holds the keys and the clock.
 */
import * as crypto from "node:crypto"
import { createHash, createHmac } from "node:crypto"

// These constants are not http's: the verifier is an independent implementation, and testing does not depend on http.
/** The only algorithm SigV4 over headers uses. */
export const ALGORITHM = "AWS4-HMAC-SHA256"

/** `sha256("")`, the payload hash of every bodiless request. */
export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/** The parts of an `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...` header. */
export interface ParsedAuthorization {
  readonly accessKeyId: string
  readonly date: string
  readonly region: string
  readonly service: string
  readonly terminator: string
  readonly signedHeaders: ReadonlyArray<string>
  readonly signedHeadersRaw: string
  /** Whether `signedHeaders` is strictly ascending: sorted, and no name twice, as SigV4 builds it. */
  readonly signedHeadersSorted: boolean
  readonly signature: string
}

/** Why a header could not be parsed; the text never contains the header itself. */
export interface AuthorizationProblem {
  readonly _tag: "AuthorizationProblem"
  readonly message: string
}

const problem = (message: string): AuthorizationProblem => ({ _tag: "AuthorizationProblem", message })

/**
 * Parses the header the way AWS front ends do: the algorithm, then comma-separated `key=value`
 * components in any order. Messages mirror AWS's `IncompleteSignatureException` texts.
 */
export const parseAuthorization = (header: string): ParsedAuthorization | AuthorizationProblem => {
  const trimmed = header.trim()
  const space = trimmed.indexOf(" ")
  const algorithm = space === -1 ? trimmed : trimmed.slice(0, space)
  if (algorithm !== ALGORITHM) {
    return problem(`Unsupported authorization algorithm; expected '${ALGORITHM}'.`)
  }
  let credential: string | undefined
  let signedHeadersRaw: string | undefined
  let signature: string | undefined
  for (const part of trimmed.slice(space + 1).split(",")) {
    const item = part.trim()
    if (item === "") continue
    const eq = item.indexOf("=")
    if (eq <= 0) {
      return problem("Authorization header requires each component to be of the form key=value.")
    }
    const key = item.slice(0, eq).trim()
    const value = item.slice(eq + 1).trim()
    if (key === "Credential") credential = value
    else if (key === "SignedHeaders") signedHeadersRaw = value
    else if (key === "Signature") signature = value
  }
  if (credential === undefined || signedHeadersRaw === undefined || signature === undefined) {
    const missing = [
      credential === undefined ? "'Credential'" : undefined,
      signedHeadersRaw === undefined ? "'SignedHeaders'" : undefined,
      signature === undefined ? "'Signature'" : undefined
    ].filter((x) => x !== undefined)
    return problem(`Authorization header requires ${missing.join(", ")} parameter(s).`)
  }
  const scope = credential.split("/")
  if (scope.length !== 5 || scope.some((s) => s === "")) {
    return problem(
      "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term."
    )
  }
  const [accessKeyId, date, region, service, terminator] = scope as [string, string, string, string, string]
  if (!SIGNATURE.test(signature)) {
    return problem("Signature must be 64 lowercase hexadecimal characters.")
  }
  const signedHeaders = signedHeadersRaw.split(";")
  let signedHeadersSorted = true
  for (let i = 0; i < signedHeaders.length; i++) {
    const name = signedHeaders[i]!
    if (name === "" || name !== name.toLowerCase()) {
      return problem("SignedHeaders must be a semicolon-separated list of lowercase header names.")
    }
    if (i > 0 && !(signedHeaders[i - 1]! < name)) signedHeadersSorted = false
  }
  return {
    accessKeyId,
    date,
    region,
    service,
    terminator,
    signedHeaders,
    signedHeadersRaw,
    signedHeadersSorted,
    signature
  }
}

const SIGNATURE = /^[0-9a-f]{64}$/

const hex = (c: string) => "%" + c.charCodeAt(0).toString(16).toUpperCase()

/** RFC 3986 encoding as SigV4 wants it: everything but `A-Za-z0-9-_.~` percent-encoded, upper-case hex. */
export const uriEncode = (s: string): string => UNRESERVED.test(s) ? s : encodeURIComponent(s).replace(/[!'()*]/g, hex)

// Ids, `rooms`, numbers and base64url tokens are all unreserved: most parts need no encoding at all.
const UNRESERVED = /^[A-Za-z0-9\-_.~]*$/

/** `decodeURIComponent`, but a malformed escape leaves the text as it came (the signature then decides). */
const safeDecode = (s: string): string => {
  if (s.indexOf("%") === -1) return s
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/**
 * The canonical URI of a path as it arrived: `.`/`..`/empty segments resolved, then every segment
 * encoded once more (a `%2F` on the wire becomes `%252F`), as AWS does for every service but S3.
 */
export const canonicalUri = (rawPath: string): string => {
  const segments: Array<string> = []
  for (const segment of rawPath.split("/")) {
    if (segment === "" || segment === ".") continue
    if (segment === "..") segments.pop()
    else segments.push(segment)
  }
  if (segments.length === 0) return "/"
  const trailing = rawPath.endsWith("/") ? "/" : ""
  return "/" + segments.map(uriEncode).join("/") + trailing
}

/** The canonical query string: every pair decoded, re-encoded strictly, sorted by name then value. */
export const canonicalQuery = (rawQuery: string): string => {
  if (rawQuery === "") return ""
  const pairs: Array<readonly [string, string]> = []
  for (const part of rawQuery.split("&")) {
    if (part === "") continue
    const eq = part.indexOf("=")
    const name = eq === -1 ? part : part.slice(0, eq)
    const value = eq === -1 ? "" : part.slice(eq + 1)
    pairs.push([uriEncode(safeDecode(name)), uriEncode(safeDecode(value))])
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
  let out = ""
  for (let i = 0; i < pairs.length; i++) {
    const [name, value] = pairs[i]!
    out += (i === 0 ? "" : "&") + name + "=" + value
  }
  return out
}

/** A header value as SigV4 canonicalises it: trimmed, inner runs of whitespace (folded lines too) made one space. */
export const canonicalHeaderValue = (value: string): string => value.trim().replace(/\s+/g, " ")

/**
 * The canonical headers block (each `name:value\n`) for the signed names, from the raw header
 * pairs in arrival order: duplicates are joined with `,` in the order they came.
 * Returns the first signed name that the request does not carry, if any.
 */
export const canonicalHeaders = (
  headers: ReadonlyArray<readonly [string, string]>,
  signedHeaders: ReadonlyArray<string>
): { readonly block: string; readonly missing: string | undefined } => {
  const values = new Map<string, Array<string>>()
  for (const name of signedHeaders) values.set(name, [])
  for (const [name, value] of headers) {
    const list = values.get(name.toLowerCase())
    if (list !== undefined) list.push(canonicalHeaderValue(value))
  }
  let block = ""
  let missing: string | undefined
  for (const name of signedHeaders) {
    const list = values.get(name)!
    if (list.length === 0 && missing === undefined) missing = name
    block += name + ":" + list.join(",") + "\n"
  }
  return { block, missing }
}

/** Hex SHA-256 of a string (UTF-8) or bytes. */
export const sha256Hex = (data: string | Uint8Array): string =>
  oneShot !== undefined ? oneShot("sha256", data, "hex") : createHash("sha256").update(data).digest("hex")

// `crypto.hash` (Node 20.12+) skips building a Hash object: it is most of the cost of a small digest.
const oneShot: ((algorithm: string, data: string | Uint8Array, encoding: "hex") => string) | undefined =
  typeof (crypto as { hash?: unknown }).hash === "function"
    ? (crypto as unknown as { hash: (a: string, d: string | Uint8Array, e: "hex") => string }).hash
    : undefined

/** The SigV4 signing key: HMAC chain over date, region, service and `aws4_request`. */
export const deriveSigningKey = (secret: string, date: string, region: string, service: string): Buffer => {
  const kDate = createHmac("sha256", "AWS4" + secret).update(date).digest()
  const kRegion = createHmac("sha256", kDate).update(region).digest()
  const kService = createHmac("sha256", kRegion).update(service).digest()
  return createHmac("sha256", kService).update("aws4_request").digest()
}

/** The string to sign for a canonical request. */
export const stringToSign = (amzDate: string, scope: string, canonicalRequest: string): string =>
  ALGORITHM + "\n" + amzDate + "\n" + scope + "\n" + sha256Hex(canonicalRequest)

/** Hex HMAC-SHA256 with the signing key. */
export const hmacHex = (key: Buffer, data: string): string => createHmac("sha256", key).update(data).digest("hex")

/** Parses `YYYYMMDDTHHMMSSZ` to epoch milliseconds; `undefined` when malformed. */
export const parseAmzDate = (s: string): number | undefined => {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s)
  if (m === null) return undefined
  const year = Number(m[1])
  const month = Number(m[2])
  const day = Number(m[3])
  const hour = Number(m[4])
  const minute = Number(m[5])
  const second = Number(m[6])
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined
  if (day > daysIn(year, month)) return undefined
  return Date.UTC(year, month - 1, day, hour, minute, second)
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const

const daysIn = (year: number, month: number): number =>
  month === 2 && (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) ? 29 : DAYS[month - 1]!

/** Formats epoch milliseconds as `YYYYMMDDTHHMMSSZ`. */
export const formatAmzDate = (millis: number): string =>
  new Date(millis).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "")
