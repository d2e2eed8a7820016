/**
 * SigV4's canonical request for any request, written as `@smithy/signature-v4` (5.x) writes it for
 * a service other than S3 (`uriEscapePath: true`, no `x-amz-content-sha256`), and the signing key
 * as it derives it. This was smithy's own code until its 5.6 KB (gzipped) were the largest part of
 * a `FetchHttpClient` program's bundle that plain Effect does not have; the rules are few and
 * fixed by the SigV4 specification. `test/CanonicalRequest.test.ts` holds every function here to
 * the AWS SDK's own copy of smithy on generated and hostile requests, and the SigV4 test suite
 * (`pnpm test:conformance`) to AWS's published signatures.
 */
import { createHmac } from "node:crypto"
import { canonicalValue } from "./fastSign.js"

/** The parts of a request that SigV4 signs (smithy's `HttpRequest` fields that matter). */
export interface SignableRequest {
  readonly method: string
  /** The path as sent: percent-encoded, not normalised. */
  readonly path: string
  /** Decoded query parameters; a repeated key holds its values in order. */
  readonly query: Readonly<Record<string, string | ReadonlyArray<string>>>
  /** Header names as given (the platform's are lower case) and their values. */
  readonly headers: Readonly<Record<string, string>>
}

const hexEncode = (c: string): string => `%${c.charCodeAt(0).toString(16).toUpperCase()}`

/**
 * smithy's `escapeUri`: `encodeURIComponent`, and `!'()*` too. Like it, throws a `URIError` on a
 * lone surrogate.
 */
export const escapeUri = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, hexEncode)

/** Headers smithy never signs (`ALWAYS_UNSIGNABLE_HEADERS`), besides any `proxy-*` and `sec-*`. */
const UNSIGNABLE: ReadonlySet<string> = new Set([
  "authorization",
  "cache-control",
  "connection",
  "expect",
  "from",
  "keep-alive",
  "max-forwards",
  "pragma",
  "referer",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "user-agent",
  "x-amzn-trace-id"
])

/**
 * The signed headers, sorted by name, with their canonical values (smithy's
 * `getCanonicalHeaders`): names in lower case, where two names differ only in case the later in
 * sorted order wins; `undefined` values and unsignable headers left out.
 */
export const canonicalHeaders = (headers: Readonly<Record<string, string>>): Array<readonly [string, string]> => {
  const canonical = new Map<string, string>()
  for (const name of Object.keys(headers).sort()) {
    const value = headers[name]
    if (value == undefined) continue
    const lower = name.toLowerCase()
    if (UNSIGNABLE.has(lower) || lower.startsWith("proxy-") || lower.startsWith("sec-")) continue
    canonical.set(lower, canonicalValue(value))
  }
  return [...canonical].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
}

/**
 * smithy's `getCanonicalPath` with `uriEscapePath`: empty and `.` segments dropped, `..` drops the
 * one before, the leading and trailing `/` kept, then every segment encoded once more.
 */
export const canonicalPath = (path: string): string => {
  const segments: Array<string> = []
  for (const segment of path.split("/")) {
    if (segment.length === 0 || segment === ".") continue
    if (segment === "..") segments.pop()
    else segments.push(segment)
  }
  const normalized = `${path.startsWith("/") ? "/" : ""}${segments.join("/")}${
    segments.length > 0 && path.endsWith("/") ? "/" : ""
  }`
  return escapeUri(normalized).replace(/%2F/g, "/")
}

/**
 * smithy's `getCanonicalQuery`: keys and values encoded, sorted by encoded key, a repeated key's
 * pairs sorted among themselves; `X-Amz-Signature` (any case) left out, as is a key without values.
 */
export const canonicalQuery = (query: SignableRequest["query"]): string => {
  const keys: Array<string> = []
  const serialized = new Map<string, string>()
  for (const key of Object.keys(query)) {
    if (key.toLowerCase() === "x-amz-signature") continue
    const encodedKey = escapeUri(key)
    keys.push(encodedKey)
    const value = query[key]
    if (typeof value === "string") {
      serialized.set(encodedKey, `${encodedKey}=${escapeUri(value)}`)
    } else if (Array.isArray(value)) {
      serialized.set(encodedKey, value.map((v: string) => `${encodedKey}=${escapeUri(v)}`).sort().join("&"))
    }
  }
  return keys.sort().map((key) => serialized.get(key)).filter((s) => s).join("&")
}

/**
 * The canonical request (smithy's `createCanonicalRequest`) and its signed header names, joined by
 * `;`, for a request whose headers already hold everything to sign (`host`, `x-amz-date`…).
 */
export const canonicalRequest = (
  request: SignableRequest,
  payloadHash: string
): { readonly canonical: string; readonly signedHeaders: string } => {
  const headers = canonicalHeaders(request.headers)
  const signedHeaders = headers.map(([name]) => name).join(";")
  const canonical = `${request.method}\n${canonicalPath(request.path)}\n${canonicalQuery(request.query)}\n` +
    `${headers.map(([name, value]) => `${name}:${value}`).join("\n")}\n\n${signedHeaders}\n${payloadHash}`
  return { canonical, signedHeaders }
}

/** The signing key of a day: HMAC-SHA256 of the date, region, service and `aws4_request` in turn. */
export const signingKey = (secretAccessKey: string, shortDate: string, region: string, service: string): Buffer => {
  let key: Buffer = createHmac("sha256", `AWS4${secretAccessKey}`).update(shortDate).digest()
  for (const part of [region, service, "aws4_request"]) key = createHmac("sha256", key).update(part).digest()
  return key
}
