import { ListRoomsRequest } from "@chime-rooms/core"
import { type Credentials, SigV4 } from "@chime-rooms/http"
import { HttpClientRequest } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted, Ref, TestClock } from "effect"
import { encodeListRoomsParts, listRoomsUrl } from "../src/internal/encode.js"
import { isPlainBasePath, makeFastGetSigner } from "../src/internal/fastSign.js"
import { splitPlainUrl } from "../src/internal/undici/plainUrl.js"

/** A small deterministic generator (mulberry32), so a failure names a reproducible case. */
const rng = (seed: number) => () => {
  seed |= 0
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const HOSTILE_ACCOUNTS = [
  "../x",
  "a/b",
  "a?b#c",
  "%2F",
  "  x",
  "x  ",
  "😀",
  "a b",
  "%",
  "%2e%2e",
  "~._-",
  "A+B=C",
  "'()*!",
  "é/ü",
  "\u0000x",
  "x\ty",
  "a\u2028b",
  "x".repeat(10_000),
  "12a3456b-7c89-012d-3456-78901e23fg45",
  ".x",
  "x.",
  "..."
]
const TOKENS = ["", "AQAAAAAAAnu1OyOs5lCoy1mkIvkSqCE", "a+b/c=", "tok en", "%41", "😀", "x".repeat(500), "a&b=c", "?#"]
const SESSION_TOKENS = [
  undefined,
  "FwoGZXIvYXdzE+/=",
  "  leading",
  "trailing  ",
  "in  side",
  "tab\there",
  " \t mixed \t ",
  "x".repeat(1000)
]
const ENDPOINTS = [
  "https://chime.us-east-1.amazonaws.com",
  "http://127.0.0.1:4566",
  "https://proxy.example/chime",
  "https://a.b.example:8443/x/y-z_~.w",
  "https://chime.cn-north-1.amazonaws.com.cn"
]
const REGIONS = ["us-east-1", "cn-north-1", "eu-west-3", "us-gov-west-1"]
const ALPHABET = "abcXYZ019-._~ /?#%+=&:;@!'()*é😀\t"

const pick = <A>(next: () => number, xs: ReadonlyArray<A>): A => xs[Math.floor(next() * xs.length)]!
const randomString = (next: () => number, max: number): string => {
  let s = ""
  const n = 1 + Math.floor(next() * max)
  for (let i = 0; i < n; i++) s += pick(next, [...ALPHABET])
  return s
}

interface Case {
  readonly endpoint: string
  readonly request: ListRoomsRequest.ListRoomsRequest
  readonly credentials: Credentials.AwsCredentials
  readonly region: string
  readonly now: number
}

const makeCase = (next: () => number): Case => {
  const account = next() < 0.5 ? pick(next, HOSTILE_ACCOUNTS) : randomString(next, 40)
  const request: ListRoomsRequest.ListRoomsRequest = {
    AccountId: account,
    ...(next() < 0.7 ? { MaxResults: 1 + Math.floor(next() * 99) } : {}),
    ...(next() < 0.3
      ? { MemberId: next() < 0.5 ? randomString(next, 30) : "arn:aws:iam::111122223333:user/alice" }
      : {}),
    ...(next() < 0.6 ? { NextToken: next() < 0.5 ? pick(next, TOKENS) : randomString(next, 60) } : {})
  }
  const sessionToken = next() < 0.3 ? randomString(next, 50) : pick(next, SESSION_TOKENS)
  return {
    endpoint: pick(next, ENDPOINTS),
    request,
    credentials: {
      accessKeyId: next() < 0.5 ? "AKIDEXAMPLE" : "ASIA" + randomString(next, 16).replace(/[^A-Za-z0-9]/g, "Q"),
      secretAccessKey: Redacted.make(randomString(next, 40)),
      ...(sessionToken === undefined ? {} : { sessionToken: Redacted.make(sessionToken) })
    },
    region: pick(next, REGIONS),
    // 1970..2100, any millisecond: dates, second boundaries and day changes.
    now: Math.floor(next() * 4_102_444_800_000)
  }
}

describe("the fast GET signer", () => {
  it("accepts the endpoints it can prefix", () => {
    expect(isPlainBasePath("")).toBe(true)
    expect(isPlainBasePath("/chime")).toBe(true)
    expect(isPlainBasePath("/a/b-c_d~e.f")).toBe(true)
    for (const bad of ["/", "//x", "/a//b", "/.", "/..", "/a/./b", "/a%20b", "/a b", "x"]) {
      expect(isPlainBasePath(bad)).toBe(false)
    }
  })

  it.effect(
    "signs exactly as the general signer (SigV4.sign, smithy's rules) on 400 random and hostile requests",
    () =>
      Effect.gen(function*() {
        const next = rng(20261126)
        let compared = 0
        for (let i = 0; i < 400; i++) {
          const c = makeCase(next)
          const valid = ListRoomsRequest.validate(c.request)
          if (valid._tag === "Left") continue
          const parts = encodeListRoomsParts(valid.right)
          if (parts._tag === "Left") continue
          const endpoint = splitPlainUrl(c.endpoint)!
          const basePath = endpoint.path === "/" ? "" : endpoint.path
          expect(isPlainBasePath(basePath)).toBe(true)
          const host = endpoint.origin.slice(endpoint.origin.indexOf("://") + 3)
          const fast = makeFastGetSigner(host, c.region, "chime")(
            basePath + parts.right.path,
            parts.right.query,
            c.credentials,
            c.now
          )

          yield* TestClock.setTime(c.now)
          const reference = yield* SigV4.sign(HttpClientRequest.get(listRoomsUrl(c.endpoint, parts.right)), {
            credentials: Effect.succeed(c.credentials),
            region: c.region,
            service: "chime",
            clockOffset: yield* Ref.make(0)
          })
          const expected: Record<string, string> = {
            "x-amz-date": reference.headers["x-amz-date"]!,
            authorization: reference.headers["authorization"]!
          }
          if (reference.headers["x-amz-security-token"] !== undefined) {
            expected["x-amz-security-token"] = reference.headers["x-amz-security-token"]
          }
          expect({ case: i, headers: fast }).toEqual({ case: i, headers: expected })
          compared++
        }
        expect(compared).toBeGreaterThan(250)
      }),
    60_000
  )

  it("keeps its day key per credentials: a second signer state for new credentials, the same date reused", () => {
    const sign = makeFastGetSigner("chime.us-east-1.amazonaws.com", "us-east-1", "chime")
    const a: Credentials.AwsCredentials = { accessKeyId: "A", secretAccessKey: Redacted.make("s1") }
    const b: Credentials.AwsCredentials = { accessKeyId: "A", secretAccessKey: Redacted.make("s2") }
    const t = Date.parse("2026-01-01T23:59:59.500Z")
    const first = sign("/accounts/x/rooms", "", a, t)
    expect(sign("/accounts/x/rooms", "", b, t).authorization).not.toBe(first.authorization)
    expect(sign("/accounts/x/rooms", "", a, t)).toEqual(first)
    expect(sign("/accounts/x/rooms", "", a, t + 1000)["x-amz-date"]).toBe("20260102T000000Z")
  })
})
