import { Dataset, Emulator, Fault, FaultScript } from "@chime-rooms/testing"
import { describe, expect, it } from "@effect/vitest"
import { Hash } from "@smithy/hash-node"
import { SignatureV4 } from "@smithy/signature-v4"
import { Duration, Effect, Either, Exit, Redacted, Schedule, Scope } from "effect"
import { Agent, request as httpRequest } from "node:http"
import { createServer } from "node:net"
import { inspect } from "node:util"
import { makeTokenBucket } from "../src/internal/rateLimit.js"

const encode = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase())

interface Signer {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string
}

interface Call {
  readonly accountId?: string
  readonly path?: string
  readonly query?: Record<string, string>
  readonly method?: string
  readonly signer?: Signer | "none"
  /** The region of the credential scope; default `us-east-1`. */
  readonly region?: string
  readonly date?: Date
  readonly agent?: Agent
  /** More headers to sign and send. */
  readonly headers?: Record<string, string>
  /** Headers signed, then left off the wire. */
  readonly unsent?: ReadonlyArray<string>
  /** Signs into the query (a presigned URL) instead of an Authorization header. */
  readonly presign?: boolean
  /** Changes the request-target after signing. */
  readonly target?: (target: string) => string
  /** Sees the request-target and headers as sent. */
  readonly onSent?: (target: string, headers: Record<string, string>) => void
}

type Answer =
  | {
    readonly _tag: "Response"
    readonly status: number
    readonly headers: Record<string, string | Array<string> | undefined>
    readonly body: string
    readonly millis: number
  }
  | { readonly _tag: "Failed"; readonly code: string; readonly status?: number; readonly partial?: string }

const signerOf = (emulator: Emulator.EmulatorService): Signer => ({
  accessKeyId: emulator.credentials.accessKeyId,
  secretAccessKey: Redacted.value(emulator.credentials.secretAccessKey)
})

/** Signs like the AWS SDK does, sends with node:http, and reports what came back on the wire. */
const send = (emulator: Emulator.EmulatorService, call: Call = {}): Promise<Answer> =>
  Effect.runPromise(Effect.promise(async () => {
    const url = new URL(emulator.endpoint)
    const path = call.path ?? `/accounts/${encode(call.accountId ?? emulator.accounts[0]!)}/rooms`
    let query = call.query ?? {}
    const base = {
      method: call.method ?? "GET",
      protocol: "http:",
      hostname: url.hostname,
      port: Number(url.port),
      path,
      query,
      headers: { host: url.host, ...call.headers } as Record<string, string>
    }
    let headers = base.headers
    const signer = call.signer ?? signerOf(emulator)
    if (signer !== "none") {
      const v4 = new SignatureV4({
        service: "chime",
        region: call.region ?? "us-east-1",
        sha256: Hash.bind(null, "sha256"),
        credentials: signer
      })
      const signingDate = call.date ?? new Date()
      if (call.presign === true) {
        query = (await v4.presign(base, { signingDate, expiresIn: 300 })).query as Record<string, string>
      } else {
        headers = { ...(await v4.sign(base, { signingDate })).headers }
      }
    }
    for (const name of call.unsent ?? []) delete headers[name]
    const qs = Object.entries(query).map(([k, v]) => `${encode(k)}=${encode(v)}`).join("&")
    const target = (call.target ?? ((t: string) => t))(qs === "" ? path : `${path}?${qs}`)
    call.onSent?.(target, headers)
    const started = performance.now()
    return new Promise<Answer>((resolve) => {
      const chunks: Array<Buffer> = []
      let status: number | undefined
      const req = httpRequest({
        host: url.hostname,
        port: Number(url.port),
        method: base.method,
        path: target,
        headers,
        agent: call.agent ?? false
      }, (res) => {
        status = res.statusCode
        res.on("data", (c: Buffer) => chunks.push(c))
        res.on("end", () =>
          resolve({
            _tag: "Response",
            status: res.statusCode!,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
            millis: performance.now() - started
          }))
        res.on("error", (e: NodeJS.ErrnoException) =>
          resolve({
            _tag: "Failed",
            code: e.code ?? e.message,
            status: res.statusCode!,
            partial: Buffer.concat(chunks).toString("utf8")
          }))
      })
      // After the head, node reports a reset on the request first: keep what the response had.
      req.on("error", (e: NodeJS.ErrnoException) =>
        resolve(
          status === undefined
            ? { _tag: "Failed", code: e.code ?? e.message }
            : { _tag: "Failed", code: e.code ?? e.message, status, partial: Buffer.concat(chunks).toString("utf8") }
        ))
      req.end()
    })
  }))

const response = (answer: Answer) => {
  if (answer._tag !== "Response") throw new Error(`expected a response, got ${answer.code}`)
  return answer
}

const json = (answer: Answer) => JSON.parse(response(answer).body)

const roomIds = (dataset: Dataset.Dataset, accountId: string) =>
  Dataset.allRooms(dataset, accountId).map((r) => r.RoomId)

const dataset = Dataset.generate({ seed: 7, accounts: 2, roomsPerAccount: 95, membersPerAccount: 6 })

/** Follows NextToken to the end, returning the RoomIds and how many pages it took. */
const listAll = async (emulator: Emulator.EmulatorService, call: Call = {}) => {
  const ids: Array<string> = []
  let token: string | undefined
  let pages = 0
  do {
    const page = json(
      await send(emulator, {
        ...call,
        query: { ...call.query, ...(token === undefined ? {} : { "next-token": token }) }
      })
    )
    pages++
    for (const r of page.Rooms as Array<{ RoomId: string }>) ids.push(r.RoomId)
    token = page.NextToken ?? undefined
  } while (token !== undefined)
  return { ids, pages }
}

/** An error's name as the emulator sends it: alone, or with a Coral URI on every second error response. */
const errorTypeOf = (answer: Answer): string | undefined => {
  const sent = response(answer).headers["x-amzn-errortype"]
  if (typeof sent !== "string") return undefined
  const coral = /^([^:]+)(?::http:\/\/internal\.amazon\.com\/coral\/[a-z.]+\/)?$/.exec(sent)
  if (coral === null) throw new Error(`x-amzn-ErrorType in no form AWS sends: ${sent}`)
  return coral[1]
}

const expectServiceError = (answer: Answer, status: number, name: string, code: string) => {
  const r = response(answer)
  expect(r.status).toBe(status)
  expect(errorTypeOf(answer)).toBe(name)
  expect(r.headers["x-amzn-requestid"]).toMatch(/^[0-9a-f-]{36}$/)
  expect(r.headers["content-type"]).toBe("application/json")
  const body = JSON.parse(r.body)
  expect(Object.keys(body).sort()).toEqual(["Code", "Message"])
  expect(body.Code).toBe(code)
  return { response: r, body }
}

/** An AWS front-end refusal: 403, the error type, a body with only `message`; returns the message. */
const expectAuthError = (answer: Answer, name: string) => {
  const r = response(answer)
  expect(r.status).toBe(403)
  expect(errorTypeOf(answer)).toBe(name)
  expect(r.headers["x-amzn-requestid"]).toBeDefined()
  const body = JSON.parse(r.body)
  expect(Object.keys(body)).toEqual(["message"])
  return body.message as string
}

describe("Emulator", () => {
  describe("paging", () => {
    it.scoped("serves every room once through NextToken, 10 a page by default", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ dataset })
        expect(emulator.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
        expect(emulator.region).toBe("us-east-1")
        expect(emulator.accounts).toEqual(dataset.accounts)
        const accountId = emulator.accounts[1]!
        const all = yield* Effect.promise(() => listAll(emulator, { accountId }))
        expect(all.ids).toEqual(roomIds(dataset, accountId))
        expect(all.pages).toBe(10)
        const bySize = yield* Effect.promise(() => listAll(emulator, { accountId, query: { "max-results": "99" } }))
        expect(bySize).toEqual({ ids: all.ids, pages: 1 })
      }))

    it.scoped("answers 200 with the service's headers and the exact JSON of the rooms", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ dataset, pageSize: 3 })
        const accountId = emulator.accounts[0]!
        const first = response(yield* Effect.promise(() => send(emulator)))
        expect(first.status).toBe(200)
        expect(first.headers["content-type"]).toBe("application/json")
        expect(first.headers["x-amzn-requestid"]).toMatch(
          /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
        )
        expect(Math.abs(Date.parse(first.headers["date"] as string) - Date.now())).toBeLessThan(5000)
        const body = JSON.parse(first.body)
        expect(Object.keys(body)).toEqual(["NextToken", "Rooms"])
        expect(body.Rooms).toEqual(Dataset.allRooms(dataset, accountId).slice(0, 3))
        // The last page says so with a null NextToken, as the API reference's example response.
        const last = response(
          yield* Effect.promise(() => send(emulator, { accountId, query: { "max-results": "99" } }))
        )
        expect(last.body.startsWith("{\"NextToken\":null,\"Rooms\":[{")).toBe(true)
        expect(Object.keys(JSON.parse(last.body))).toEqual(["NextToken", "Rooms"])
      }))

    it.scoped("filters by member-id", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ dataset, pageSize: 4 })
        const accountId = emulator.accounts[0]!
        const member = dataset.members(accountId)[2]!
        const expected = dataset.memberRooms(accountId, member)!.map((i) => dataset.room(accountId, i).RoomId)
        expect(expected.length).toBeGreaterThan(0)
        const all = yield* Effect.promise(() => listAll(emulator, { accountId, query: { "member-id": member } }))
        expect(all.ids).toEqual(expected)
        const stranger = json(yield* Effect.promise(() => send(emulator, { query: { "member-id": "nobody" } })))
        expect(stranger.Rooms).toEqual([])
      }))

    it.scoped("decodes AccountId from one path segment", () =>
      Effect.gen(function*() {
        const odd = "acc/with space?#%é"
        const emulator = yield* Emulator.make({
          dataset: Dataset.fromRooms({ [odd]: { rooms: [{ RoomId: "r-1", Name: "Ops" }] } })
        })
        const answer = json(yield* Effect.promise(() => send(emulator, { accountId: odd })))
        expect(answer.Rooms).toEqual([{ RoomId: "r-1", Name: "Ops" }])
        expect(emulator.received()[0]!.path).toBe("/accounts/acc%2Fwith%20space%3F%23%25%C3%A9/rooms")
      }))

    it.scoped("refuses a tampered, foreign or garbage next-token with 400", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ dataset })
        const token: string = json(yield* Effect.promise(() => send(emulator))).NextToken
        const flipped = token.slice(0, -1) + (token.endsWith("A") ? "B" : "A")
        for (const bad of [flipped, "garbage", token.slice(1)]) {
          const { body } = expectServiceError(
            yield* Effect.promise(() => send(emulator, { query: { "next-token": bad } })),
            400,
            "BadRequestException",
            "BadRequest"
          )
          expect(body.Message).not.toContain(bad)
        }
        const other = json(yield* Effect.promise(() => send(emulator, { accountId: emulator.accounts[1]! }))).NextToken
        expectServiceError(
          yield* Effect.promise(() => send(emulator, { query: { "next-token": other } })),
          400,
          "BadRequestException",
          "BadRequest"
        )
      }))

    it.scoped("honours the tokens of an earlier instance with the same tokenSecret and data", () =>
      Effect.gen(function*() {
        const first = yield* Emulator.make({ dataset, tokenSecret: "shared-secret" })
        const token: string = json(yield* Effect.promise(() => send(first))).NextToken
        const same = yield* Emulator.make({ dataset, tokenSecret: "shared-secret" })
        expect(response(yield* Effect.promise(() => send(same, { query: { "next-token": token } }))).status).toBe(200)
        const other = yield* Emulator.make({ dataset })
        expect(response(yield* Effect.promise(() => send(other, { query: { "next-token": token } }))).status).toBe(400)
      }))
  })

  describe("errors", () => {
    it.scoped("max-results outside 1..99 or not an integer: 400 BadRequestException", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ dataset })
        for (const value of ["0", "100", "-1", "abc", "1.5", ""]) {
          expectServiceError(
            yield* Effect.promise(() => send(emulator, { query: { "max-results": value } })),
            400,
            "BadRequestException",
            "BadRequest"
          )
        }
        for (const value of ["1", "99"]) {
          expect(response(yield* Effect.promise(() => send(emulator, { query: { "max-results": value } }))).status)
            .toBe(200)
        }
      }))

    it.scoped("an unknown account: 404 NotFoundException; a blank one: 400", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ dataset })
        expectServiceError(
          yield* Effect.promise(() => send(emulator, { accountId: "nope" })),
          404,
          "NotFoundException",
          "NotFound"
        )
        expectServiceError(
          yield* Effect.promise(() => send(emulator, { accountId: "  " })),
          400,
          "BadRequestException",
          "BadRequest"
        )
      }))

    it.scoped("another path or method: 404 UnknownOperationException", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ dataset })
        for (
          const call of [{ path: "/" }, { path: "/accounts/x/rooms/y" }, { path: "/accounts//rooms" }, {
            method: "POST"
          }]
        ) {
          const r = response(yield* Effect.promise(() => send(emulator, call)))
          expect(r.status).toBe(404)
          expect(errorTypeOf(r)).toBe("UnknownOperationException")
          expect(r.headers["x-amzn-requestid"]).toBeDefined()
        }
      }))

    it.scoped("x-amzn-ErrorType: the name alone, then with a Coral URI, in turn, Chime's errors and the front end's alike", () =>
      Effect.gen(function*() {
        const chime = ":http://internal.amazon.com/coral/com.amazonaws.chime/"
        const frontEnd = ":http://internal.amazon.com/coral/com.amazon.coral.service/"
        const expected = [
          "NotFoundException",
          "NotFoundException" + chime,
          "MissingAuthenticationTokenException",
          "MissingAuthenticationTokenException" + frontEnd,
          "BadRequestException"
        ]
        // The same in every run: a fresh emulator starts over.
        for (let run = 0; run < 2; run++) {
          const emulator = yield* Emulator.make({ dataset })
          const sent: Array<unknown> = []
          const calls = [{ accountId: "nope" }, { accountId: "nope" }, { signer: "none" as const }, {}, {
            signer: "none" as const
          }]
          for (const call of calls) {
            const r = response(yield* Effect.promise(() => send(emulator, call)))
            sent.push(r.headers["x-amzn-errortype"])
          }
          // The page between them (the fourth call) is no error and counts for nothing.
          expect(sent).toEqual([expected[0], expected[1], expected[2], undefined, expected[3]])
          expect(emulator.received().map((r) => r.outcome?.errorType)).toEqual(sent)
          const fifth = expectServiceError(
            yield* Effect.promise(() => send(emulator, { query: { "max-results": "0" } })),
            400,
            "BadRequestException",
            "BadRequest"
          )
          expect(fifth.response.headers["x-amzn-errortype"]).toBe(expected[4])
        }
      }))
  })

  describe("SigV4", () => {
    it.scoped("refuses an unsigned request, a wrong secret and an unknown key", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ dataset })
        const secret = Redacted.value(emulator.credentials.secretAccessKey)
        expect(expectAuthError(
          yield* Effect.promise(() => send(emulator, { signer: "none" })),
          "MissingAuthenticationTokenException"
        ))
          .toBe("Missing Authentication Token")
        const wrong = yield* Effect.promise(() =>
          send(emulator, { signer: { accessKeyId: emulator.credentials.accessKeyId, secretAccessKey: "wrong-secret" } })
        )
        expect(expectAuthError(wrong, "InvalidSignatureException")).toContain("does not match")
        const unknown = yield* Effect.promise(() =>
          send(emulator, { signer: { accessKeyId: "AKIANOTKNOWN", secretAccessKey: secret } })
        )
        expectAuthError(unknown, "UnrecognizedClientException")
        for (const entry of emulator.received()) {
          const text = JSON.stringify(entry)
          expect(text).not.toContain(secret)
          expect(text).not.toMatch(/Signature=[0-9a-f]/)
        }
      }))

    it.scoped("accepts the signing region it is started with and refuses every other", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ dataset, region: "eu-west-1" })
        expect(emulator.region).toBe("eu-west-1")
        expect(response(yield* Effect.promise(() => send(emulator, { region: "eu-west-1" }))).status).toBe(200)
        for (const region of ["us-east-1", "eu-west-2"]) {
          const refused = yield* Effect.promise(() => send(emulator, { region }))
          expect(expectAuthError(refused, "InvalidSignatureException")).toBe(
            "Credential should be scoped to a valid region."
          )
        }
        const exit = yield* Effect.exit(Emulator.make({ dataset, region: "eu/west-1" }))
        expect(exit).toMatchObject({
          _tag: "Failure",
          cause: { error: { _tag: "EmulatorError", reason: "InvalidOption" } }
        })
      }))

    it.scoped("refuses a date more than 5 minutes off: Signature expired", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ dataset })
        const old = yield* Effect.promise(() => send(emulator, { date: new Date(Date.now() - 6 * 60_000) }))
        expect(expectAuthError(old, "InvalidSignatureException")).toMatch(
          /^Signature expired: \d{8}T\d{6}Z is now earlier than/
        )
        const future = yield* Effect.promise(() => send(emulator, { date: new Date(Date.now() + 6 * 60_000) }))
        expect(expectAuthError(future, "InvalidSignatureException")).toContain("Signature not yet current")
        const close = yield* Effect.promise(() => send(emulator, { date: new Date(Date.now() - 4 * 60_000) }))
        expect(response(close).status).toBe(200)
      }))

    it.scoped("a skewed server clock refuses fresh requests and shows its time in Date", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ dataset, clockOffset: Duration.minutes(10) })
        const fresh = response(yield* Effect.promise(() => send(emulator)))
        expect(fresh.status).toBe(403)
        expect(JSON.parse(fresh.body).message).toContain("Signature expired")
        const serverTime = Date.parse(fresh.headers["date"] as string)
        expect(Math.abs(serverTime - (Date.now() + 10 * 60_000))).toBeLessThan(5000)
        // A client that corrects its clock by the Date header gets through.
        const corrected = yield* Effect.promise(() => send(emulator, { date: new Date(serverTime) }))
        expect(response(corrected).status).toBe(200)
        emulator.setClockOffset(0)
        expect(response(yield* Effect.promise(() => send(emulator))).status).toBe(200)
        // A clock that is behind: a fresh request is "not yet current".
        emulator.setClockOffset(-10 * 60_000)
        const behind = response(yield* Effect.promise(() => send(emulator)))
        expect(JSON.parse(behind.body).message).toContain("Signature not yet current")
      }))

    it.scoped("serves unsigned requests only when told not to verify", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ dataset, verifySignatures: false })
        expect(response(yield* Effect.promise(() => send(emulator, { signer: "none" }))).status).toBe(200)
      }))

    it.scoped("refuses a signed header that did not arrive, and accepts one that arrived empty", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ dataset })
        // Signed as `x-extra:` (empty): a server taking the absent header as empty would accept it.
        const lost = yield* Effect.promise(() => send(emulator, { headers: { "x-extra": "" }, unsent: ["x-extra"] }))
        const message = expectAuthError(lost, "InvalidSignatureException")
        expect(message).toContain("does not match the signature you provided")
        expect(message).toContain("'x-extra' is not in the request")
        expect(emulator.calls()).toBe(0)
        const empty = yield* Effect.promise(() => send(emulator, { headers: { "x-extra": "" } }))
        expect(response(empty).status).toBe(200)
      }))

    it.scoped("honours a configured maxSkew", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ dataset, maxSkew: Duration.seconds(30) })
        const answer = yield* Effect.promise(() => send(emulator, { date: new Date(Date.now() - 60_000) }))
        expect(response(answer).status).toBe(403)
      }))

    it.scoped("accepts temporary credentials only with their session token", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({
          dataset,
          credentials: [{
            accessKeyId: "ASIATEMPORARYKEY0001",
            secretAccessKey: Redacted.make("temporary-secret"),
            sessionToken: Redacted.make("the-session-token")
          }]
        })
        const ok = yield* Effect.promise(() =>
          send(emulator, {
            signer: {
              accessKeyId: "ASIATEMPORARYKEY0001",
              secretAccessKey: "temporary-secret",
              sessionToken: "the-session-token"
            }
          })
        )
        expect(response(ok).status).toBe(200)
        const received = emulator.received()[0]!
        expect(received.headers["x-amz-security-token"]).toBe("<redacted>")
        expect(received.headers["authorization"]).toMatch(/, Signature=<redacted>$/)
        expect(received.accessKeyId).toBe("ASIATEMPORARYKEY0001")
        expect(JSON.stringify(emulator.received())).not.toContain("the-session-token")
        const missing = yield* Effect.promise(() =>
          send(emulator, { signer: { accessKeyId: "ASIATEMPORARYKEY0001", secretAccessKey: "temporary-secret" } })
        )
        expectAuthError(missing, "UnrecognizedClientException")
      }))
  })

  describe("rate limit", () => {
    it.scoped("answers 429 ThrottledClientException past the burst, without Retry-After as Chime's model", () =>
      Effect.gen(function*() {
        // One token every 10 s: however slow this machine, the third request finds the bucket empty.
        const emulator = yield* Emulator.make({ dataset, rateLimit: { rate: 0.1, burst: 2 } })
        expect(response(yield* Effect.promise(() => send(emulator))).status).toBe(200)
        expect(response(yield* Effect.promise(() => send(emulator))).status).toBe(200)
        const { response: limited, body } = expectServiceError(
          yield* Effect.promise(() => send(emulator)),
          429,
          "ThrottledClientException",
          "Throttled"
        )
        expect(body.Message).toBe("Rate exceeded")
        expect(limited.headers["retry-after"]).toBeUndefined()
        expect(emulator.calls()).toBe(2)
        expect(emulator.received()[2]!.outcome).toEqual({
          status: 429,
          errorType: "ThrottledClientException",
          faults: []
        })
      }))

    it.scoped("with retryAfter: the 429 says how long until the next token, in whole seconds, at least 1", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ dataset, rateLimit: { rate: 0.1, burst: 1, retryAfter: true } })
        expect(response(yield* Effect.promise(() => send(emulator))).status).toBe(200)
        const { response: limited } = expectServiceError(
          yield* Effect.promise(() => send(emulator)),
          429,
          "ThrottledClientException",
          "Throttled"
        )
        expect(Number(limited.headers["retry-after"])).toBeGreaterThanOrEqual(1)
        expect(Number(limited.headers["retry-after"])).toBeLessThanOrEqual(10)
      }))

    it("token bucket: starts full, refills at the rate, says how long until the next token", () => {
      const bucket = makeTokenBucket({ rate: 4, burst: 3 })
      expect([bucket.take(0), bucket.take(0), bucket.take(0)].every((t) => t._tag === "Granted")).toBe(true)
      expect(bucket.take(0)).toEqual({ _tag: "Limited", retryAfterMillis: 250 })
      expect(bucket.take(100)).toEqual({ _tag: "Limited", retryAfterMillis: 150 })
      expect(bucket.take(250)._tag).toBe("Granted")
      expect(bucket.take(250)._tag).toBe("Limited")
      // A long pause refills up to the burst, not beyond.
      expect([1, 2, 3, 4].map(() => bucket.take(60_000)._tag)).toEqual(["Granted", "Granted", "Granted", "Limited"])
      // A clock that goes backwards neither refills nor breaks the bucket.
      expect(bucket.take(10)._tag).toBe("Limited")
    })

    it.scoped("refuses an invalid rate limit", () =>
      Effect.gen(function*() {
        const exit = yield* Effect.exit(Emulator.make({ rateLimit: { rate: 0, burst: 1 } }))
        expect(Exit.isFailure(exit)).toBe(true)
      }))
  })

  describe("faults", () => {
    it.scoped("injects each of the seven service errors, with Retry-After only when scripted", () =>
      Effect.gen(function*() {
        const errors = [
          ["BadRequestException", 400, "BadRequest"],
          ["UnauthorizedClientException", 401, "Unauthorized"],
          ["ForbiddenException", 403, "Forbidden"],
          ["NotFoundException", 404, "NotFound"],
          ["ThrottledClientException", 429, "Throttled"],
          ["ServiceFailureException", 500, "ServiceFailure"],
          ["ServiceUnavailableException", 503, "ServiceUnavailable"]
        ] as const
        const emulator = yield* Emulator.make({
          dataset,
          faults: FaultScript.make({
            rules: [
              ...errors.map(([name], i) => ({ calls: [i + 1], fault: Fault.serviceError(name) })),
              { calls: [8], fault: Fault.throttled("2 seconds") },
              { calls: [9], fault: Fault.unavailable("1500 millis") }
            ]
          })
        })
        for (const [name, status, code] of errors) {
          const { response: r } = expectServiceError(yield* Effect.promise(() => send(emulator)), status, name, code)
          expect(r.headers["retry-after"]).toBeUndefined()
        }
        const throttled = expectServiceError(
          yield* Effect.promise(() => send(emulator)),
          429,
          "ThrottledClientException",
          "Throttled"
        )
        expect(throttled.response.headers["retry-after"]).toBe("2")
        const unavailable = expectServiceError(
          yield* Effect.promise(() => send(emulator)),
          503,
          "ServiceUnavailableException",
          "ServiceUnavailable"
        )
        expect(unavailable.response.headers["retry-after"]).toBe("2")
        expect(response(yield* Effect.promise(() => send(emulator))).status).toBe(200)
        expect(emulator.received().map((r) => r.call)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
        expect(emulator.received()[7]!.outcome).toEqual({
          status: 429,
          errorType: "ThrottledClientException:http://internal.amazon.com/coral/com.amazonaws.chime/",
          faults: ["429:retry-after=2s"]
        })
      }))

    it.scoped("transport: the connection drops before any response", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({
          dataset,
          faults: FaultScript.make({ rules: [{ calls: [1], fault: Fault.transport }] })
        })
        const answer = yield* Effect.promise(() => send(emulator))
        expect(answer).toMatchObject({ _tag: "Failed", code: "ECONNRESET" })
        expect(answer._tag === "Failed" && answer.status).toBeUndefined()
        expect(response(yield* Effect.promise(() => send(emulator))).status).toBe(200)
        expect(emulator.received()[0]!.outcome).toEqual({
          status: undefined,
          errorType: undefined,
          faults: ["transport"]
        })
      }))

    it.scoped("reset: a 200 head, part of the body, then a reset", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({
          dataset,
          faults: FaultScript.make({ rules: [{ calls: [1], fault: Fault.reset }] })
        })
        const answer = yield* Effect.promise(() => send(emulator))
        expect(answer._tag).toBe("Failed")
        if (answer._tag !== "Failed") return
        expect(answer.status).toBe(200)
        expect(["ECONNRESET", "aborted"]).toContain(answer.code)
        expect(answer.partial!.length).toBeGreaterThan(0)
        expect(answer.partial!.startsWith("{\"NextToken\":")).toBe(true)
      }))

    it.scoped("truncated and invalid JSON: complete HTTP messages with broken bodies", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({
          dataset,
          faults: FaultScript.make({
            rules: [{ calls: [1], fault: Fault.truncatedJson }, { calls: [2], fault: Fault.invalidJson }]
          })
        })
        const truncated = response(yield* Effect.promise(() => send(emulator)))
        expect(truncated.status).toBe(200)
        expect(Number(truncated.headers["content-length"])).toBe(Buffer.byteLength(truncated.body))
        expect(() => JSON.parse(truncated.body)).toThrow(/end of JSON|Unterminated|Expected/)
        const invalid = response(yield* Effect.promise(() => send(emulator)))
        expect(invalid.status).toBe(200)
        expect(() => JSON.parse(invalid.body)).toThrow(SyntaxError)
        expect(invalid.body.endsWith("}")).toBe(true)
      }))

    it.scoped("html502: a proxy's HTML page", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({
          dataset,
          faults: FaultScript.make({ rules: [{ calls: [1], fault: Fault.html502 }] })
        })
        const r = response(yield* Effect.promise(() => send(emulator)))
        expect(r.status).toBe(502)
        expect(r.headers["content-type"]).toBe("text/html")
        expect(r.body).toContain("<h1>502 Bad Gateway</h1>")
        expect(r.headers["x-amzn-errortype"]).toBeUndefined()
      }))

    it.scoped("delay and slow: the answer waits, or trickles", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({
          dataset,
          faults: FaultScript.make({
            rules: [{ calls: [1], fault: Fault.delay("250 millis") }, { calls: [2], fault: Fault.slow("300 millis") }]
          })
        })
        const delayed = response(yield* Effect.promise(() => send(emulator)))
        expect(delayed.status).toBe(200)
        expect(delayed.millis).toBeGreaterThanOrEqual(240)
        const slow = response(yield* Effect.promise(() => send(emulator)))
        expect(slow.millis).toBeGreaterThanOrEqual(280)
        expect(JSON.parse(slow.body).Rooms).toHaveLength(10)
        expect(emulator.received().map((r) => r.outcome?.faults)).toEqual([["delay=250ms"], ["slow=300ms"]])
      }))

    it.scoped("repeat token: the page's NextToken leads back to itself", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({
          dataset,
          faults: FaultScript.make({ rules: [{ calls: [2, 3], fault: Fault.repeatToken }] })
        })
        const first = json(yield* Effect.promise(() => send(emulator)))
        const second = json(yield* Effect.promise(() => send(emulator, { query: { "next-token": first.NextToken } })))
        expect(second.NextToken).toBe(first.NextToken)
        const third = json(yield* Effect.promise(() => send(emulator, { query: { "next-token": second.NextToken } })))
        expect(third.Rooms).toEqual(second.Rooms)
      }))

    it.scoped("parsed --fault specs: seeded rates are the same in every run, and setFaults starts counting again", () =>
      Effect.gen(function*() {
        const script = FaultScript.fromSpecs(["429@7", "503@rate=0.4"], { seed: 99 })
        if (Either.isLeft(script)) throw script.left
        const statuses = (emulator: Emulator.EmulatorService) =>
          Effect.promise(async () => {
            const out: Array<number> = []
            for (let i = 0; i < 15; i++) out.push(response(await send(emulator)).status)
            return out
          })
        const a = yield* statuses(yield* Emulator.make({ dataset, faults: script.right }))
        const b = yield* statuses(yield* Emulator.make({ dataset, faults: script.right }))
        expect(a).toEqual(b)
        expect(a[6]).toBe(429)
        expect(a.filter((s) => s === 503).length).toBeGreaterThan(0)
        expect(a.filter((s) => s === 200).length).toBeGreaterThan(0)
        const emulator = yield* Emulator.make({ dataset })
        expect(response(yield* Effect.promise(() => send(emulator))).status).toBe(200)
        emulator.setFaults(FaultScript.make({ rules: [{ calls: [1], fault: Fault.unavailable() }] }))
        expect(response(yield* Effect.promise(() => send(emulator))).status).toBe(503)
        expect(response(yield* Effect.promise(() => send(emulator))).status).toBe(200)
      }))
  })

  describe("record and lifecycle", () => {
    it.scoped("records what it received, without secrets", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ dataset })
        yield* Effect.promise(() => send(emulator, { query: { "max-results": "5", "member-id": "m 1" } }))
        const [entry] = emulator.received()
        expect(entry).toMatchObject({
          call: 1,
          method: "GET",
          path: `/accounts/${emulator.accounts[0]}/rooms`,
          rawQuery: "max-results=5&member-id=m%201",
          query: { "max-results": "5", "member-id": "m 1" },
          accessKeyId: emulator.credentials.accessKeyId,
          outcome: { status: 200, errorType: undefined, faults: [] }
        })
        expect(entry!.headers["x-amz-date"]).toMatch(/^\d{8}T\d{6}Z$/)
        expect(entry!.headers["host"]).toBe(new URL(emulator.endpoint).host)
        expect(entry!.headers["authorization"]).toBe(
          `AWS4-HMAC-SHA256 Credential=${emulator.credentials.accessKeyId}/${
            entry!.headers["x-amz-date"]!.slice(0, 8)
          }/us-east-1/chime/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=<redacted>`
        )
        emulator.clearReceived()
        expect(emulator.received()).toEqual([])
      }))

    it.scoped("never records a secret key, a session token or a signature, in headers or in a presigned query", () =>
      Effect.gen(function*() {
        const secret = "temporary/secret+key=0123456789abcdef"
        const token = "FQoGZXIvYXdzE/session+token=="
        const emulator = yield* Emulator.make({
          dataset,
          credentials: [{
            accessKeyId: "ASIARECORDKEY0001",
            secretAccessKey: Redacted.make(secret),
            sessionToken: Redacted.make(token)
          }]
        })
        const signer = { accessKeyId: "ASIARECORDKEY0001", secretAccessKey: secret, sessionToken: token }
        const sent: Array<string> = []
        const onSent = (target: string, headers: Record<string, string>) => {
          sent.push(target)
          for (const value of Object.values(headers)) sent.push(value)
        }
        const signatures = () =>
          sent.flatMap((text) => [...text.matchAll(/Signature=([0-9a-f]{64})/gi)].map((m) => m[1]!))

        // Signed in headers: served.
        const signed = yield* Effect.promise(() => send(emulator, { signer, query: { "max-results": "3" }, onSent }))
        expect(response(signed).status).toBe(200)
        // Presigned: credential, token and signature in the query (refused: the emulator verifies headers only).
        const presigned = yield* Effect.promise(() => send(emulator, { signer, presign: true, onSent }))
        expectAuthError(presigned, "MissingAuthenticationTokenException")
        // The same parameters in other cases, and a second signature.
        const cased = yield* Effect.promise(() =>
          send(emulator, {
            signer,
            presign: true,
            onSent,
            target: (t) =>
              t.replace("X-Amz-Signature", "x-amz-signature").replace("X-Amz-Credential", "X-AMZ-CREDENTIAL")
                .replace("X-Amz-Security-Token", "x-Amz-security-TOKEN") + "&X-Amz-Signature=" + "f".repeat(64)
          })
        )
        expectAuthError(cased, "MissingAuthenticationTokenException")
        // A header that is not shaped as SigV4's: masked whole.
        const garbled = `AWS4-HMAC-SHA256 Credential=ASIARECORDKEY0001/x SignedHeaders=host Signature=${"e".repeat(64)}`
        yield* Effect.promise(() => send(emulator, { signer: "none", headers: { authorization: garbled }, onSent }))

        expect(signatures().length).toBeGreaterThanOrEqual(4)
        const received = emulator.received()
        expect(received).toHaveLength(4)
        for (const text of [JSON.stringify(received), inspect(received, { depth: null })]) {
          for (const hidden of [secret, token, encodeURIComponent(token), encode(token), ...signatures()]) {
            expect(text).not.toContain(hidden)
          }
          expect(text).not.toMatch(/Signature=[0-9a-f]/i)
        }

        // What a test can still read: that a token and a signature were sent, the scope, the signed headers.
        const [first, second, third, fourth] = received
        expect(first!.headers["x-amz-security-token"]).toBe("<redacted>")
        const scope = String.raw`Credential=ASIARECORDKEY0001/\d{8}/us-east-1/chime/aws4_request`
        expect(first!.headers["authorization"]).toMatch(
          new RegExp(`^AWS4-HMAC-SHA256 ${scope}, SignedHeaders=[a-z0-9;-]*x-amz-security-token, Signature=<redacted>$`)
        )
        expect(first!.accessKeyId).toBe("ASIARECORDKEY0001")
        expect(first!.rawQuery).toBe("max-results=3")
        expect(second!.accessKeyId).toBe("ASIARECORDKEY0001")
        expect(second!.headers["authorization"]).toBeUndefined()
        expect(second!.query).toMatchObject({
          "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
          "X-Amz-Credential": "<redacted>",
          "X-Amz-Security-Token": "<redacted>",
          "X-Amz-SignedHeaders": "host",
          "X-Amz-Signature": "<redacted>"
        })
        expect(second!.rawQuery).toContain("X-Amz-Signature=%3Credacted%3E")
        expect(second!.target).toBe(`${second!.path}?${second!.rawQuery}`)
        expect(new URLSearchParams(second!.rawQuery).get("X-Amz-Security-Token")).toBe("<redacted>")
        expect(third!.query).toMatchObject({
          "x-amz-signature": "<redacted>",
          "X-AMZ-CREDENTIAL": "<redacted>",
          "x-Amz-security-TOKEN": "<redacted>"
        })
        expect(third!.rawQuery).toMatch(/&X-Amz-Signature=%3Credacted%3E$/)
        expect(fourth!.headers["authorization"]).toBe("AWS4-HMAC-SHA256 <redacted>")
      }))

    it.scoped("keeps only the most recent requests when told to", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ dataset, recordLimit: 3 })
        for (let i = 0; i < 8; i++) yield* Effect.promise(() => send(emulator))
        expect(emulator.received().map((r) => r.call)).toEqual([6, 7, 8])
      }))

    it.effect("closing the scope closes the server and its keep-alive connections, freeing the port", () =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        const emulator = yield* Scope.extend(Emulator.make({ dataset }), scope)
        const agent = new Agent({ keepAlive: true, maxSockets: 1 })
        expect(response(yield* Effect.promise(() => send(emulator, { agent }))).status).toBe(200)
        const sockets = Object.values(agent.freeSockets).flat()
        expect(sockets).toHaveLength(1)
        const closed = new Promise<void>((resolve) => sockets[0]!.once("close", () => resolve()))
        yield* Scope.close(scope, Exit.void)
        yield* Effect.promise(() => closed)
        agent.destroy()
        // The port is free again: a plain server can bind it.
        yield* Effect.promise(() =>
          new Promise<void>((resolve, reject) => {
            const probe = createServer()
            probe.once("error", reject)
            probe.listen(emulator.port, "127.0.0.1", () => probe.close(() => resolve()))
          })
        )
        const after = yield* Effect.promise(() => send(emulator))
        expect(after).toMatchObject({ _tag: "Failed", code: "ECONNREFUSED" })
      }))

    it.scoped("a busy port fails with EmulatorError", () =>
      Effect.gen(function*() {
        const first = yield* Emulator.make({ dataset })
        const error = yield* Effect.flip(Emulator.make({ dataset, port: first.port }))
        expect(error._tag).toBe("EmulatorError")
        expect(error.reason).toBe("Listen")
      }))

    it.live("connections(): open connections, and requests not yet answered in full", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({
          dataset,
          faults: FaultScript.make({ rules: [{ calls: [2], fault: Fault.slow("5 seconds") }] })
        })
        const until = (what: string, done: (c: { open: number; answering: number }) => boolean) =>
          Effect.suspend(() => done(emulator.connections()) ? Effect.void : Effect.fail(what)).pipe(
            Effect.retry(Schedule.spaced("5 millis").pipe(Schedule.upTo("2 seconds"))),
            Effect.orElse(() => Effect.dieMessage(`${what}: ${JSON.stringify(emulator.connections())}`))
          )
        expect(emulator.connections()).toEqual({ open: 0, answering: 0 })
        const agent = new Agent({ keepAlive: true, maxSockets: 1 })
        // Answered in full, the connection stays in the client's keep-alive pool.
        expect(response(yield* Effect.promise(() => send(emulator, { agent }))).status).toBe(200)
        yield* until("one idle connection", (c) => c.open === 1 && c.answering === 0)
        // Call 2 trickles its body over 5 s: answering, until the client drops the connection.
        const trickling = send(emulator, { agent })
        yield* until("one request being answered", (c) => c.open === 1 && c.answering === 1)
        agent.destroy()
        yield* until("nothing left", (c) => c.open === 0 && c.answering === 0)
        expect(yield* Effect.promise(() => trickling)).toMatchObject({ _tag: "Failed" })
      }).pipe(Effect.scoped), 10_000)

    it.effect("runs as a layer", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        expect(response(yield* Effect.promise(() => send(emulator))).status).toBe(200)
      }).pipe(Effect.provide(Emulator.layer({ dataset }))))
  })
})
