import { SigV4Verifier } from "@chime-rooms/testing"
import { describe, expect, it } from "@effect/vitest"
import { Hash } from "@smithy/hash-node"
import { SignatureV4 } from "@smithy/signature-v4"
import { Duration, Effect, Either, Redacted, TestClock } from "effect"
import { createHash, createHmac } from "node:crypto"

const ACCESS_KEY = "AKIDTESTVERIFIER"
const SECRET = "verifier/secret+key/for-tests-only-0123456789"
const TOKEN = "session-token-for-tests"
const NOW = Date.UTC(2026, 10, 25, 12, 0, 0)

interface Input {
  readonly method?: string
  readonly path?: string
  readonly query?: Record<string, string>
  readonly headers?: Record<string, string>
  readonly body?: string
  readonly secret?: string
  readonly accessKeyId?: string
  readonly sessionToken?: string
  readonly region?: string
  readonly service?: string
  readonly signingDate?: number
  readonly unsignable?: ReadonlyArray<string>
}

const encode = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase())

/** Signs with the AWS SDK's own signer, then turns the result into what a server would read off the wire. */
const signed = async (input: Input = {}): Promise<SigV4Verifier.WireRequest> => {
  const signer = new SignatureV4({
    service: input.service ?? "chime",
    region: input.region ?? "us-east-1",
    sha256: Hash.bind(null, "sha256"),
    credentials: {
      accessKeyId: input.accessKeyId ?? ACCESS_KEY,
      secretAccessKey: input.secret ?? SECRET,
      ...(input.sessionToken !== undefined ? { sessionToken: input.sessionToken } : {})
    }
  })
  const path = input.path ?? "/accounts/acc-1/rooms"
  const query = input.query ?? {}
  const result = await signer.sign(
    {
      method: input.method ?? "GET",
      protocol: "http:",
      hostname: "127.0.0.1",
      port: 4566,
      path,
      query,
      headers: { host: "127.0.0.1:4566", ...input.headers },
      ...(input.body !== undefined ? { body: input.body } : {})
    },
    {
      signingDate: new Date(input.signingDate ?? NOW),
      ...(input.unsignable !== undefined ? { unsignableHeaders: new Set(input.unsignable) } : {})
    }
  )
  const qs = Object.entries(query).map(([k, v]) => `${encode(k)}=${encode(v)}`).join("&")
  return {
    method: result.method,
    target: qs === "" ? path : `${path}?${qs}`,
    headers: Object.entries(result.headers as Record<string, string>),
    ...(input.body !== undefined ? { body: input.body } : {})
  }
}

const verifier = (options: Partial<Parameters<typeof SigV4Verifier.make>[0]> = {}) =>
  SigV4Verifier.make({
    credentials: [
      { accessKeyId: ACCESS_KEY, secretAccessKey: Redacted.make(SECRET) },
      { accessKeyId: "ASIATEMPORARY", secretAccessKey: Redacted.make(SECRET), sessionToken: Redacted.make(TOKEN) }
    ],
    ...options
  })

const withHeader = (
  request: SigV4Verifier.WireRequest,
  name: string,
  value: string | undefined
): SigV4Verifier.WireRequest => ({
  ...request,
  headers: [
    ...request.headers.filter(([n]) => n.toLowerCase() !== name.toLowerCase()),
    ...(value === undefined ? [] : [[name, value] as const])
  ]
})

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex")
const hmac = (key: string | Buffer, s: string) => createHmac("sha256", key).update(s).digest()

/**
 * Signs by hand, listing `signedHeaders` in the order given (duplicates kept) and canonicalising
 * them in that same order: what a signer that does not sort its list would send.
 */
const signedInOrder = (signedHeaders: ReadonlyArray<string>): SigV4Verifier.WireRequest => {
  const amzDate = "20261125T120000Z"
  const headers: ReadonlyArray<readonly [string, string]> = [["host", "127.0.0.1:4566"], ["x-amz-date", amzDate]]
  const valueOf = (name: string) => headers.filter(([n]) => n === name).map(([, v]) => v).join(",")
  const canonicalRequest = [
    "GET",
    "/accounts/acc-1/rooms",
    "",
    ...signedHeaders.map((name) => `${name}:${valueOf(name)}`),
    "",
    signedHeaders.join(";"),
    sha256("")
  ].join("\n")
  const scope = "20261125/us-east-1/chime/aws4_request"
  const key = ["20261125", "us-east-1", "chime", "aws4_request"].reduce<string | Buffer>(
    (k, part) => hmac(k, part),
    "AWS4" + SECRET
  )
  const signature = hmac(key, ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonicalRequest)].join("\n")).toString("hex")
  const authorization = `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/${scope}, SignedHeaders=${
    signedHeaders.join(";")
  }, Signature=${signature}`
  return { method: "GET", target: "/accounts/acc-1/rooms", headers: [...headers, ["authorization", authorization]] }
}

const rejectedAs = (outcome: ReturnType<ReturnType<typeof verifier>["check"]>) => {
  if (outcome._tag !== "Rejected") throw new Error("expected a rejection")
  return outcome
}

describe("SigV4Verifier", () => {
  it("accepts what the AWS SDK signer produces, with an encoded path label and a query", async () => {
    const request = await signed({
      path: `/accounts/${encode("a/b c%?#ü")}/rooms`,
      query: { "max-results": "10", "member-id": "m 1/é", "next-token": "tok+en/==" }
    })
    expect(request.target).toContain("a%2Fb%20c%25%3F%23%C3%BC")
    const outcome = verifier().check(request, NOW)
    expect(outcome).toMatchObject({ _tag: "Verified", accessKeyId: ACCESS_KEY })
    expect(outcome._tag === "Verified" && outcome.signedHeaders).toEqual(["host", "x-amz-content-sha256", "x-amz-date"])
  })

  it("accepts a signed body and a session token", async () => {
    const request = await signed({
      method: "POST",
      body: "{\"a\":1}",
      accessKeyId: "ASIATEMPORARY",
      sessionToken: TOKEN
    })
    expect(request.headers.some(([n]) => n === "x-amz-security-token")).toBe(true)
    expect(verifier().check(request, NOW)._tag).toBe("Verified")
  })

  it("refuses a body that is not the one signed", async () => {
    const request = await signed({ method: "POST", body: "{\"a\":1}" })
    const outcome = rejectedAs(verifier().check({ ...request, body: "{\"a\":2}" }, NOW))
    expect(outcome.name).toBe("InvalidSignatureException")
  })

  it("checks x-amz-content-sha256 against the body when sent", async () => {
    const request = await signed({
      method: "POST",
      body: "abc",
      headers: { "x-amz-content-sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" }
    })
    expect(verifier().check(request, NOW)._tag).toBe("Verified")
    const outcome = rejectedAs(verifier().check({ ...request, body: "abd" }, NOW))
    expect(outcome.message).toContain("x-amz-content-sha256")
  })

  it("refuses a wrong secret with AWS's mismatch error, never echoing a secret", async () => {
    const request = await signed({ secret: "not-the-secret" })
    const outcome = rejectedAs(verifier().check(request, NOW))
    expect(outcome).toMatchObject({ name: "InvalidSignatureException", status: 403 })
    expect(outcome.message).toContain("does not match the signature you provided")
    expect(JSON.stringify(outcome)).not.toContain(SECRET)
    expect(JSON.stringify(outcome)).not.toContain("not-the-secret")
  })

  it("refuses an unknown access key", async () => {
    const outcome = rejectedAs(verifier().check(await signed({ accessKeyId: "AKIDUNKNOWN" }), NOW))
    expect(outcome).toMatchObject({ name: "UnrecognizedClientException", status: 403 })
  })

  it("requires the session token of temporary credentials, and no token for long-term ones", async () => {
    const v = verifier()
    const withoutToken = await signed({ accessKeyId: "ASIATEMPORARY" })
    expect(rejectedAs(v.check(withoutToken, NOW)).name).toBe("UnrecognizedClientException")
    const wrongToken = await signed({ accessKeyId: "ASIATEMPORARY", sessionToken: "another-token" })
    const outcome = rejectedAs(v.check(wrongToken, NOW))
    expect(outcome.name).toBe("UnrecognizedClientException")
    expect(JSON.stringify(outcome)).not.toContain("another-token")
    const tokenOnLongTerm = await signed({ sessionToken: TOKEN })
    expect(rejectedAs(v.check(tokenOnLongTerm, NOW)).name).toBe("UnrecognizedClientException")
  })

  it("refuses a request without Authorization", async () => {
    const request = withHeader(await signed(), "authorization", undefined)
    expect(rejectedAs(verifier().check(request, NOW))).toMatchObject({
      name: "MissingAuthenticationTokenException",
      status: 403,
      message: "Missing Authentication Token"
    })
  })

  it("refuses a malformed Authorization header", async () => {
    const base = await signed()
    const cases = [
      "AWS4-HMAC-SHA1 Credential=x/20261125/us-east-1/chime/aws4_request, SignedHeaders=host;x-amz-date, Signature=ab",
      `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/20261125/us-east-1/chime/aws4_request, SignedHeaders=host;x-amz-date`,
      `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/20261125/us-east-1/aws4_request, SignedHeaders=host;x-amz-date, Signature=${
        "a".repeat(64)
      }`,
      `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/20261125/us-east-1/chime/aws4_request, SignedHeaders=host;x-amz-date, Signature=xyz`
    ]
    for (const header of cases) {
      const outcome = rejectedAs(verifier().check(withHeader(base, "authorization", header), NOW))
      expect(outcome.name).toBe("IncompleteSignatureException")
    }
  })

  it("requires host and x-amz-date to be signed and present", async () => {
    const hostUnsigned = await signed({ unsignable: ["host"] })
    expect(rejectedAs(verifier().check(hostUnsigned, NOW))).toMatchObject({
      name: "IncompleteSignatureException",
      message: expect.stringContaining("'Host'")
    })
    const noDate = withHeader(await signed(), "x-amz-date", undefined)
    expect(rejectedAs(verifier().check(noDate, NOW)).name).toBe("IncompleteSignatureException")
    const badDate = withHeader(await signed(), "x-amz-date", "2026-11-25T12:00:00Z")
    expect(rejectedAs(verifier().check(badDate, NOW)).name).toBe("IncompleteSignatureException")
  })

  it("refuses a signed header the request does not carry, rather than taking it as empty", async () => {
    // Signed with an empty value: on the server, an absent header canonicalised as empty would match.
    const request = await signed({ headers: { "x-extra": "" } })
    expect(verifier().check(request, NOW)._tag).toBe("Verified")
    const outcome = rejectedAs(verifier().check(withHeader(request, "x-extra", undefined), NOW))
    expect(outcome).toMatchObject({ name: "InvalidSignatureException", status: 403 })
    expect(outcome.message).toContain("does not match the signature you provided")
    expect(outcome.message).toContain("'x-extra' is not in the request")
    expect(outcome.message).not.toContain("Signature=")
  })

  it("refuses a SignedHeaders list that is not sorted or names a header twice", () => {
    const v = verifier()
    // The hand signer is right: in sorted order, its signature checks out.
    expect(v.check(signedInOrder(["host", "x-amz-date"]), NOW)).toMatchObject({
      _tag: "Verified",
      signedHeaders: ["host", "x-amz-date"]
    })
    for (const list of [["x-amz-date", "host"], ["host", "host", "x-amz-date"], ["host", "x-amz-date", "x-amz-date"]]) {
      const outcome = rejectedAs(v.check(signedInOrder(list), NOW))
      expect(outcome.name, list.join(";")).toBe("InvalidSignatureException")
      expect(outcome.message).toContain("sorted order")
    }
  })

  it("refuses a changed signed header, path or query", async () => {
    const request = await signed({ query: { "max-results": "5" } })
    const v = verifier()
    expect(v.check(request, NOW)._tag).toBe("Verified")
    expect(rejectedAs(v.check(withHeader(request, "host", "127.0.0.1:4567"), NOW)).name).toBe(
      "InvalidSignatureException"
    )
    expect(rejectedAs(v.check({ ...request, target: request.target.replace("acc-1", "acc-2") }, NOW)).name).toBe(
      "InvalidSignatureException"
    )
    expect(rejectedAs(v.check({ ...request, target: request.target.replace("=5", "=6") }, NOW)).name).toBe(
      "InvalidSignatureException"
    )
  })

  it("refuses a scope for another region or service", async () => {
    expect(rejectedAs(verifier().check(await signed({ region: "eu-west-1" }), NOW)).message).toContain("region")
    expect(rejectedAs(verifier().check(await signed({ service: "s3" }), NOW)).message).toContain("'chime'")
  })

  it("refuses a date more than five minutes from the server clock", async () => {
    const v = verifier()
    expect(v.check(await signed({ signingDate: NOW - 4 * 60_000 }), NOW)._tag).toBe("Verified")
    expect(v.check(await signed({ signingDate: NOW + 4 * 60_000 }), NOW)._tag).toBe("Verified")
    const old = rejectedAs(v.check(await signed({ signingDate: NOW - 6 * 60_000 }), NOW))
    expect(old.name).toBe("InvalidSignatureException")
    expect(old.message).toBe(
      "Signature expired: 20261125T115400Z is now earlier than 20261125T115500Z (20261125T120000Z - 5 min.)"
    )
    const future = rejectedAs(v.check(await signed({ signingDate: NOW + 6 * 60_000 }), NOW))
    expect(future.message).toContain("Signature not yet current")
  })

  it("honours a configured skew and clock offset", async () => {
    const request = await signed()
    expect(rejectedAs(verifier({ maxSkew: Duration.seconds(30) }).check(request, NOW + 31_000)).message).toContain(
      "Signature expired"
    )
    const skewed = verifier({ clockOffset: Duration.minutes(10) })
    expect(rejectedAs(skewed.check(request, NOW)).message).toContain("Signature expired")
    expect(skewed.check(await signed({ signingDate: NOW + 10 * 60_000 }), NOW)._tag).toBe("Verified")
    const behind = verifier({ clockOffset: -10 * 60_000 })
    expect(rejectedAs(behind.check(request, NOW)).message).toContain("Signature not yet current")
    expect(behind.clockOffsetMillis).toBe(-600_000)
  })

  it.effect("verify reads Effect's Clock", () =>
    Effect.gen(function*() {
      const request = yield* Effect.promise(() => signed())
      const v = verifier()
      yield* TestClock.setTime(NOW + 60_000)
      const ok = yield* v.verify(request)
      expect(ok.accessKeyId).toBe(ACCESS_KEY)
      yield* TestClock.adjust(Duration.minutes(5))
      const failed = yield* Effect.either(v.verify(request))
      expect(Either.isLeft(failed) && failed.left).toBeInstanceOf(SigV4Verifier.SignatureRejected)
      expect(Either.isLeft(failed) && failed.left.errorName).toBe("InvalidSignatureException")
    }))

  it.effect("is available as a layer", () =>
    Effect.gen(function*() {
      const v = yield* SigV4Verifier.SigV4Verifier
      expect(v.service).toBe("chime")
      expect(v.region).toBe("us-east-1")
      expect(Duration.toMinutes(v.maxSkew)).toBe(5)
    }).pipe(Effect.provide(SigV4Verifier.layer({ credentials: [] }))))
})

describe("x-amz-date parsing", () => {
  it("refuses impossible dates", async () => {
    const base = await signed()
    for (
      const date of ["20261131T120000Z", "20261301T120000Z", "20260229T120000Z", "20261125T240000Z", "20261125T126000Z"]
    ) {
      const outcome = rejectedAs(verifier().check(withHeader(base, "x-amz-date", date), NOW))
      expect(outcome.name, date).toBe("IncompleteSignatureException")
    }
    const leap = await signed({ signingDate: Date.UTC(2028, 1, 29, 12, 0, 0) })
    expect(verifier().check(leap, Date.UTC(2028, 1, 29, 12, 1, 0))._tag).toBe("Verified")
  })
})
