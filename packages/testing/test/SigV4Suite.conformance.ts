/**
 * The AWS SigV4 test suite (../shared/testdata/sigv4/suite.json, 34 cases): the verifier accepts
 * every case, and rejects each case with one byte of its signature, a signed header's value, its
 * path or its query changed.
 */
import { SigV4Verifier } from "@chime-rooms/testing"
import { describe, expect, it } from "@effect/vitest"
import { Redacted } from "effect"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

interface SuiteCase {
  readonly name: string
  readonly parsedRequest: {
    readonly method: string
    readonly target: string
    readonly headers: ReadonlyArray<readonly [string, string]>
    readonly body: string
  }
  readonly authorization: string
  readonly signedRequest: string
}

interface Suite {
  readonly credentials: {
    readonly accessKeyId: string
    readonly secretAccessKey: string
    readonly sessionTokenForGetVanillaWithSessionToken: string
  }
  readonly region: string
  readonly service: string
  readonly date: string
  readonly caseCount: number
  readonly cases: ReadonlyArray<SuiteCase>
}

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url))
const suite: Suite = JSON.parse(readFileSync(`${repoRoot}../shared/testdata/sigv4/suite.json`, "utf8"))

const serverClock = Date.UTC(
  Number(suite.date.slice(0, 4)),
  Number(suite.date.slice(4, 6)) - 1,
  Number(suite.date.slice(6, 8)),
  Number(suite.date.slice(9, 11)),
  Number(suite.date.slice(11, 13)),
  Number(suite.date.slice(13, 15))
)

const TOKEN_HEADER = "x-amz-security-token"

/**
 * The request as it would arrive: the parsed request's headers, plus a security token the case
 * adds after signing (the post-sts cases), or signs without listing it in `parsedRequest`
 * (get-vanilla-with-session-token, whose token is in `credentials`), and `authorization`, which
 * is trusted over `signedRequest` (upstream's signedRequest there carries get-vanilla's signature).
 */
const wireRequest = (
  c: SuiteCase
): { readonly request: SigV4Verifier.WireRequest; readonly sessionToken: string | undefined } => {
  const headers = [...c.parsedRequest.headers]
  const hasToken = headers.some(([n]) => n.toLowerCase() === TOKEN_HEADER)
  let sessionToken = headers.find(([n]) => n.toLowerCase() === TOKEN_HEADER)?.[1]
  if (!hasToken) {
    const fromSigned = c.signedRequest.split("\n").find((line) => line.toLowerCase().startsWith(`${TOKEN_HEADER}:`))
    if (fromSigned !== undefined) {
      sessionToken = fromSigned.slice(TOKEN_HEADER.length + 1)
      if (c.name === "get-vanilla-with-session-token") {
        expect(sessionToken).toBe(suite.credentials.sessionTokenForGetVanillaWithSessionToken)
      }
      headers.push(["X-Amz-Security-Token", sessionToken])
    }
  }
  headers.push(["Authorization", c.authorization])
  return {
    request: {
      method: c.parsedRequest.method,
      target: c.parsedRequest.target,
      headers,
      body: c.parsedRequest.body
    },
    sessionToken
  }
}

const verifierFor = (sessionToken: string | undefined) =>
  SigV4Verifier.make({
    region: suite.region,
    service: suite.service,
    credentials: [
      {
        accessKeyId: suite.credentials.accessKeyId,
        secretAccessKey: Redacted.make(suite.credentials.secretAccessKey),
        sessionToken: sessionToken === undefined ? undefined : Redacted.make(sessionToken)
      }
    ]
  })

const signedHeaderNames = (authorization: string): ReadonlyArray<string> =>
  /SignedHeaders=([^,\s]+)/.exec(authorization)![1]!.split(";")

const withSignature = (
  request: SigV4Verifier.WireRequest,
  mutate: (signature: string) => string
): SigV4Verifier.WireRequest => ({
  ...request,
  headers: request.headers.map(([n, v]) =>
    n === "Authorization" ? [n, v.replace(/Signature=([0-9a-f]+)/, (_, s: string) => `Signature=${mutate(s)}`)] : [n, v]
  )
})

const flipHex = (c: string) => (c === "0" ? "1" : "0")

describe("SigV4 test suite", () => {
  it("holds the 34 cases", () => {
    expect(suite.cases).toHaveLength(34)
    expect(suite.caseCount).toBe(34)
  })

  for (const c of suite.cases) {
    describe(c.name, () => {
      const { request, sessionToken } = wireRequest(c)
      const verifier = verifierFor(sessionToken)

      it("is accepted", () => {
        expect(verifier.check(request, serverClock)).toMatchObject({
          _tag: "Verified",
          accessKeyId: suite.credentials.accessKeyId
        })
      })

      it("is rejected with one byte of the signature changed, at any position", () => {
        for (const position of [0, 31, 63]) {
          const mutated = withSignature(
            request,
            (s) => s.slice(0, position) + flipHex(s[position]!) + s.slice(position + 1)
          )
          expect(verifier.check(mutated, serverClock)).toMatchObject({
            _tag: "Rejected",
            name: "InvalidSignatureException"
          })
        }
      })

      it("is rejected with any signed header's value changed", () => {
        for (const name of signedHeaderNames(c.authorization)) {
          const index = request.headers.findIndex(([n]) => n.toLowerCase() === name)
          expect(index).toBeGreaterThanOrEqual(0)
          const headers = request.headers.map(([n, v], i) => (i === index ? [n, v + "x"] as const : [n, v] as const))
          const outcome = verifier.check({ ...request, headers }, serverClock)
          expect(outcome._tag, name).toBe("Rejected")
        }
      })

      it("is rejected with its path changed", () => {
        const q = request.target.indexOf("?")
        const path = q === -1 ? request.target : request.target.slice(0, q)
        const query = q === -1 ? "" : request.target.slice(q)
        for (const changed of [`${path}x`, `/other${path}`]) {
          expect(verifier.check({ ...request, target: changed + query }, serverClock)).toMatchObject({
            _tag: "Rejected",
            name: "InvalidSignatureException"
          })
        }
      })

      it("is rejected with its query changed", () => {
        const q = request.target.indexOf("?")
        const variants = q === -1
          ? [`${request.target}?x=1`]
          : [`${request.target}&x=1`, `${request.target}x`, request.target.slice(0, q)]
        for (const target of variants) {
          expect(verifier.check({ ...request, target }, serverClock)).toMatchObject({
            _tag: "Rejected",
            name: "InvalidSignatureException"
          })
        }
      })
    })
  }
})
