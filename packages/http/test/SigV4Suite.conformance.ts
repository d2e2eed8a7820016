import { type Credentials, SigV4 } from "@chime-rooms/http"
import { HttpClientRequest } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted, TestClock } from "effect"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

/** The repository root's parent holds `shared/testdata` (see the workspace notes). */
const suitePath = fileURLToPath(new URL("../../../../shared/testdata/sigv4/suite.json", import.meta.url))

interface SuiteCase {
  readonly name: string
  readonly parsedRequest: {
    readonly method: string
    readonly target: string
    readonly headers: ReadonlyArray<readonly [string, string]>
  }
  readonly authorization: string
}

const suite = JSON.parse(readFileSync(suitePath, "utf8")) as {
  readonly credentials: {
    readonly accessKeyId: string
    readonly secretAccessKey: string
    readonly sessionTokenForGetVanillaWithSessionToken: string
  }
  readonly region: string
  readonly service: string
  readonly date: string
  readonly cases: ReadonlyArray<SuiteCase>
}

const signingTime = Date.parse(
  suite.date.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z")
)

const credentialsFor = (c: SuiteCase): Credentials.AwsCredentials => ({
  accessKeyId: suite.credentials.accessKeyId,
  secretAccessKey: Redacted.make(suite.credentials.secretAccessKey),
  ...(c.name === "get-vanilla-with-session-token"
    ? { sessionToken: Redacted.make(suite.credentials.sessionTokenForGetVanillaWithSessionToken) }
    : {})
})

/**
 * The raw request as an `HttpClientRequest`: the target goes into the URL string as written (the
 * signer reads it without re-parsing), repeated headers are joined with `,` in arrival order
 * (what HTTP allows and what SigV4 canonicalises them to). `Host` comes from the URL and
 * `X-Amz-Date` from the clock, as in a real request.
 */
const toRequest = (c: SuiteCase): HttpClientRequest.HttpClientRequest => {
  const host = c.parsedRequest.headers.find(([name]) => name.toLowerCase() === "host")![1]
  const headers: Record<string, string> = {}
  for (const [name, value] of c.parsedRequest.headers) {
    const key = name.toLowerCase()
    if (key === "host" || key === "x-amz-date") continue
    headers[key] = headers[key] === undefined ? value : `${headers[key]},${value}`
  }
  return HttpClientRequest.get(`https://${host}${c.parsedRequest.target}`).pipe(HttpClientRequest.setHeaders(headers))
}

const getCases = suite.cases.filter((c) => c.parsedRequest.method === "GET")

describe("SigV4 test suite (GET cases)", () => {
  it("covers every GET case of the suite", () => {
    expect(getCases.length).toBe(24)
  })

  for (const c of getCases) {
    it.effect(c.name, () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(signingTime)
        const signed = yield* SigV4.sign(toRequest(c), {
          credentials: Effect.succeed(credentialsFor(c)),
          region: suite.region,
          service: suite.service
        })
        expect(signed.headers["authorization"]).toBe(c.authorization)
        expect(signed.headers["x-amz-date"]).toBe(suite.date)
        if (c.name === "get-vanilla-with-session-token") {
          expect(signed.headers["x-amz-security-token"]).toBe(
            suite.credentials.sessionTokenForGetVanillaWithSessionToken
          )
        }
      }))
  }
})
