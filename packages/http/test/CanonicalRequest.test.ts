/**
 * The general signer's canonical request and signing key (`internal/canonicalRequest.ts`) against
 * `@smithy/signature-v4`, the very copy the AWS SDK's `ChimeClient` signs with (resolved from
 * `@aws-sdk/client-chime`): its `getCanonicalHeaders`, its `SignatureV4`'s canonical request for a
 * service other than S3, and its `getSigningKey`, on generated requests with hostile paths, queries
 * and headers. Where smithy throws (a lone surrogate), ours must throw the same error.
 */
import { describe, expect, it } from "@effect/vitest"
import { FastCheck } from "effect"
import { createRequire } from "node:module"
import { canonicalRequest, type SignableRequest, signingKey } from "../src/internal/canonicalRequest.js"

const fromClient = createRequire(createRequire(import.meta.url).resolve("@aws-sdk/client-chime"))

type SmithyHeaders = Record<string, string>
interface SmithyRequest {
  readonly method: string
  readonly protocol: string
  readonly hostname: string
  readonly path: string
  readonly query: Record<string, string | Array<string>>
  readonly headers: SmithyHeaders
}
interface Canonicalizer {
  createCanonicalRequest(request: SmithyRequest, canonicalHeaders: SmithyHeaders, payloadHash: string): string
}
const smithy = fromClient("@smithy/signature-v4") as {
  readonly SignatureV4: new(options: Record<string, unknown>) => Canonicalizer
  readonly getCanonicalHeaders: (request: SmithyRequest) => SmithyHeaders
  readonly getSigningKey: (
    sha256: unknown,
    credentials: { accessKeyId: string; secretAccessKey: string },
    shortDate: string,
    region: string,
    service: string
  ) => Promise<Uint8Array>
}
const { Hash } = fromClient("@smithy/hash-node") as { readonly Hash: new(alg: string, secret?: unknown) => unknown }

/** The `Sha256` constructor smithy wants, as the signer had it. */
class Sha256 extends (Hash as new(alg: string, secret?: unknown) => object) {
  constructor(secret?: unknown) {
    super("sha256", secret)
  }
}

const reference = new smithy.SignatureV4({
  credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
  region: "us-east-1",
  service: "chime",
  sha256: Sha256,
  applyChecksum: false,
  uriEscapePath: true
})

/** What a call returns, or the name of what it throws. */
const outcome = <A>(f: () => A): { readonly value: A } | { readonly threw: string } => {
  try {
    return { value: f() }
  } catch (e) {
    return { threw: e instanceof Error ? e.name : String(e) }
  }
}

const LONE_HIGH = "\ud800"
const PIECES = [
  "",
  ".",
  "..",
  "a",
  "A",
  "~",
  "-_.",
  "%",
  "%2F",
  "%2f",
  "%20",
  "%41",
  "%E2%82%AC",
  "%zz",
  " ",
  "+",
  "=",
  "&",
  "?",
  "#",
  "!'()*",
  "é",
  "😀",
  "\t",
  "\n",
  "/",
  "//",
  ";",
  ":",
  "@",
  "x-amz-signature",
  "X-Amz-Signature",
  LONE_HIGH,
  "\udc00"
]

const piece = FastCheck.oneof(
  { weight: 3, arbitrary: FastCheck.constantFrom(...PIECES) },
  { weight: 1, arbitrary: FastCheck.string({ maxLength: 6 }) },
  { weight: 1, arbitrary: FastCheck.string({ maxLength: 4, unit: "binary" }) }
)
const text = FastCheck.array(piece, { maxLength: 5 }).map((parts) => parts.join(""))

const path = FastCheck.array(
  FastCheck.oneof({ weight: 2, arbitrary: FastCheck.constantFrom("", ".", "..", "a", "%2F", "b c", "é", "~x") }, {
    weight: 1,
    arbitrary: text
  }),
  { maxLength: 6 }
).chain((segments) =>
  FastCheck.tuple(FastCheck.boolean(), FastCheck.boolean()).map(([lead, trail]) =>
    `${lead ? "/" : ""}${segments.join("/")}${trail ? "/" : ""}`
  )
)

const queryKey = FastCheck.oneof(
  {
    weight: 2,
    arbitrary: FastCheck.constantFrom(
      "max-results",
      "next-token",
      "a",
      "A",
      "b",
      "x-amz-signature",
      "X-AMZ-SIGNATURE",
      "",
      "é"
    )
  },
  { weight: 1, arbitrary: text }
).filter((k) => k !== "__proto__")
const queryValue = FastCheck.oneof(
  { weight: 3, arbitrary: text },
  { weight: 1, arbitrary: FastCheck.array(text, { maxLength: 4 }) }
)
const query = FastCheck.dictionary(queryKey, queryValue, { maxKeys: 5 })

const headerName = FastCheck.oneof(
  {
    weight: 3,
    arbitrary: FastCheck.constantFrom(
      "host",
      "x-amz-date",
      "x-amz-security-token",
      "content-type",
      "X-Custom",
      "x-custom",
      "authorization",
      "user-agent",
      "User-Agent",
      "proxy-authorization",
      "Proxy-X",
      "sec-fetch-mode",
      "SEC-X",
      "x-amzn-trace-id",
      "connection",
      "te",
      "expect",
      "my-header",
      "My-Header"
    )
  },
  { weight: 1, arbitrary: FastCheck.stringMatching(/^[A-Za-z0-9-]{1,12}$/) }
)
const headerValue = FastCheck.oneof(
  {
    weight: 2,
    arbitrary: FastCheck.constantFrom("", " ", "a", " a ", "a  b", "a\tb", "\t a \t", "a\r\nb", "a\n  b", "  x  y  ")
  },
  { weight: 1, arbitrary: text }
)
const headers = FastCheck.dictionary(headerName, headerValue, { maxKeys: 6 })

const request = FastCheck.record({
  method: FastCheck.constantFrom("GET", "POST", "PUT"),
  path,
  query,
  headers
})

const toSmithy = (r: SignableRequest): SmithyRequest => ({
  method: r.method,
  protocol: "https:",
  hostname: "chime.us-east-1.amazonaws.com",
  path: r.path,
  query: Object.fromEntries(Object.entries(r.query).map(([k, v]) => [k, typeof v === "string" ? v : [...v]])),
  headers: { ...r.headers }
})

const PAYLOAD = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

describe("the general signer's canonical request", () => {
  it("is smithy's, character for character, on 3,000 generated requests", () => {
    FastCheck.assert(
      FastCheck.property(request, (r) => {
        const ours = outcome(() => canonicalRequest(r, PAYLOAD))
        const theirs = outcome(() => {
          const s = toSmithy(r)
          const canonicalHeaders = smithy.getCanonicalHeaders(s)
          return {
            canonical: reference.createCanonicalRequest(s, canonicalHeaders, PAYLOAD),
            signedHeaders: Object.keys(canonicalHeaders).sort().join(";")
          }
        })
        expect(ours).toEqual(theirs)
      }),
      { numRuns: 3_000, seed: 20261202 }
    )
  })

  it("throws where smithy throws: a lone surrogate in the path, a query key or value", () => {
    for (
      const r of [
        { method: "GET", path: `/a${LONE_HIGH}`, query: {}, headers: {} },
        { method: "GET", path: "/", query: { [LONE_HIGH]: "x" }, headers: {} },
        { method: "GET", path: "/", query: { k: ["ok", LONE_HIGH] }, headers: {} }
      ]
    ) {
      const theirs = outcome(() => {
        const s = toSmithy(r)
        return reference.createCanonicalRequest(s, smithy.getCanonicalHeaders(s), PAYLOAD)
      })
      expect(theirs).toEqual({ threw: "URIError" })
      expect(outcome(() => canonicalRequest(r, PAYLOAD))).toEqual(theirs)
    }
  })

  it("derives smithy's signing key", async () => {
    const secrets = ["wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", "é😀", "a".repeat(200)]
    const scopes = [["20150830", "us-east-1", "service"], ["20260101", "cn-north-1", "chime"], [
      "19700101",
      "eu-west-3",
      "x"
    ]]
    for (const secretAccessKey of secrets) {
      for (const [shortDate, region, service] of scopes) {
        const theirs = await smithy.getSigningKey(
          Sha256,
          { accessKeyId: "AKID", secretAccessKey },
          shortDate!,
          region!,
          service!
        )
        expect(signingKey(secretAccessKey, shortDate!, region!, service!).toString("hex")).toBe(
          Buffer.from(theirs).toString("hex")
        )
      }
    }
  })
})
