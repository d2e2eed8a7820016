import { type ChimeError, ChimeRooms, type ListRoomsRequest, type ListRoomsResponse } from "@chime-rooms/core"
import { ChimeConfig, Credentials, HttpChimeRooms, SigV4, UndiciHttpClient } from "@chime-rooms/http"
import { Dataset, Emulator, Fault, FaultScript } from "@chime-rooms/testing"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Clock, Context, Duration, Effect, Exit, Fiber, Layer, Redacted, Schedule, TestClock } from "effect"
import { createServer as createHttpServer } from "node:http"
import { createServer } from "node:net"

const clients: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>]> = [
  // Our own client, as given: HttpChimeRooms takes its fast path (specialised signer, the
  // exchange's own timer).
  ["UndiciHttpClient", UndiciHttpClient.layer],
  // The same client behind any middleware is just an HttpClient: the general path.
  [
    "UndiciHttpClient behind mapRequest",
    Layer.effect(HttpClient.HttpClient, Effect.map(HttpClient.HttpClient, HttpClient.mapRequest((request) => request)))
      .pipe(
        Layer.provide(UndiciHttpClient.layer)
      )
  ],
  ["NodeHttpClient.layerUndici", NodeHttpClient.layerUndici],
  ["FetchHttpClient", FetchHttpClient.layer]
]

const tokenCredentials: Emulator.EmulatorCredentials = {
  accessKeyId: "ASIAEMULATORTEST0001",
  secretAccessKey: Redacted.make("s3cr3t-Key-that-must-never-leak/0123456789"),
  sessionToken: Redacted.make("SESSION-TOKEN-that-must-never-leak-FwoGZXIvYXdzE")
}

const credentialsOf = (emulator: Emulator.EmulatorService) => Credentials.layerStatic(emulator.credentials)

/** The HTTP `ChimeRooms` pointed at an emulator, over `client`. */
const live = (
  emulator: Emulator.EmulatorService,
  client: Layer.Layer<HttpClient.HttpClient> = UndiciHttpClient.layer,
  options: HttpChimeRooms.HttpChimeRoomsOptions = {}
) =>
  HttpChimeRooms.layer({ endpoint: emulator.endpoint, ...options }).pipe(
    Layer.orDie,
    Layer.provide(client),
    Layer.provide(credentialsOf(emulator))
  )

const listAll = (accountId: string, maxResults?: number) =>
  Effect.gen(function*() {
    const rooms: Array<string> = []
    const requestIds: Array<string | undefined> = []
    let token: string | undefined
    do {
      const request: ListRoomsRequest.ListRoomsRequest = {
        AccountId: accountId,
        ...(maxResults !== undefined ? { MaxResults: maxResults } : {}),
        ...(token !== undefined ? { NextToken: token } : {})
      }
      const page = yield* ChimeRooms.listRooms(request)
      for (const room of page.Rooms) rooms.push(room.RoomId!)
      requestIds.push(page.$metadata.requestId)
      expect(page.$metadata.httpStatusCode).toBe(200)
      token = page.NextToken
    } while (token !== undefined)
    return { rooms, requestIds }
  })

const failureOf = <A>(exit: Exit.Exit<A, ChimeError.ChimeError>): ChimeError.ChimeError => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
  if (failure === undefined) throw new Error(`expected a typed failure, got ${exit.cause._tag}`)
  return failure
}

const expectNoSecrets = (error: unknown, credentials: Emulator.EmulatorCredentials) => {
  const secret = Redacted.value(credentials.secretAccessKey)
  const token = credentials.sessionToken === undefined ? undefined : Redacted.value(credentials.sessionToken)
  for (const text of [String(error), (error as Error).message ?? "", JSON.stringify(error)]) {
    expect(text).not.toContain(secret)
    if (token !== undefined) expect(text).not.toContain(token)
    expect(text).not.toContain("AWS4-HMAC-SHA256")
    expect(text).not.toMatch(/Signature=[0-9a-f]{64}/)
  }
}

describe("HttpChimeRooms against the emulator", () => {
  for (const [name, client] of clients) {
    it.scopedLive(`lists every room of an account through NextToken over ${name}`, () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ dataset: Dataset.generate({ seed: 3, roomsPerAccount: 250 }) })
        const account = emulator.accounts[0]!
        const { requestIds, rooms } = yield* listAll(account, 99).pipe(Effect.provide(live(emulator, client)))
        expect(rooms).toHaveLength(250)
        expect(new Set(rooms).size).toBe(250)
        expect(requestIds).toEqual(emulator.received().map((r) => r.requestId))
        for (const received of emulator.received()) {
          expect(received.path).toBe(`/accounts/${encodeURIComponent(account)}/rooms`)
          expect(received.outcome?.status).toBe(200)
        }
      }))
  }

  it.scopedLive("decodes rooms fully: timestamps as DateTime.Utc, only set query keys sent", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({
        dataset: Dataset.fromRooms({
          "acc-1": {
            rooms: [{ RoomId: "r-1", Name: "Ops", CreatedTimestamp: "2019-12-02T22:29:31.549Z" }],
            members: { "member-1": ["r-1"] }
          }
        })
      })
      const page = yield* ChimeRooms.listRooms({ AccountId: "acc-1", MemberId: "member-1" }).pipe(
        Effect.provide(live(emulator))
      )
      expect(page.Rooms[0]!.RoomId).toBe("r-1")
      expect(page.Rooms[0]!.CreatedTimestamp?._tag).toBe("Utc")
      expect(page.NextToken).toBeUndefined()
      const received = emulator.received()[0]!
      expect(received.rawQuery).toBe("member-id=member-1")
    }))

  const sevenErrors: ReadonlyArray<readonly [ChimeError.ServiceErrorName, number]> = [
    ["BadRequestException", 400],
    ["UnauthorizedClientException", 401],
    ["ForbiddenException", 403],
    ["NotFoundException", 404],
    ["ThrottledClientException", 429],
    ["ServiceFailureException", 500],
    ["ServiceUnavailableException", 503]
  ]

  it.scopedLive("decodes each of the seven service errors with request id, status and retry-after", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ credentials: [tokenCredentials] })
      const layer = live(emulator)
      for (const [name, status] of sevenErrors) {
        emulator.setFaults(FaultScript.make({
          rules: [{
            calls: [1],
            fault: Fault.serviceError(name, { retryAfter: "3 seconds", message: `scripted ${name}` })
          }]
        }))
        emulator.clearReceived()
        const exit = yield* Effect.exit(
          ChimeRooms.listRooms({ AccountId: emulator.accounts[0]! }).pipe(Effect.provide(layer))
        )
        const error = failureOf(exit)
        expect(error._tag).toBe(name)
        const received = emulator.received()
        expect(received).toHaveLength(1)
        expect(error).toMatchObject({ status, requestId: received[0]!.requestId })
        expect("retryAfter" in error && error.retryAfter !== undefined ? Duration.toMillis(error.retryAfter) : -1).toBe(
          3000
        )
        expectNoSecrets(error, tokenCredentials)
      }
    }))

  it.scopedLive("a custom endpoint is signed for the configured region, as the AWS SDK signs it, on every client", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ region: "eu-west-1" })
      expect(emulator.region).toBe("eu-west-1")
      const request = { AccountId: emulator.accounts[0]!, MaxResults: 5 }
      for (const [name, client] of clients) {
        const page = yield* ChimeRooms.listRooms(request).pipe(
          Effect.provide(live(emulator, client, { region: "eu-west-1" }))
        )
        expect(page.Rooms, name).toHaveLength(5)
        for (const region of ["us-east-1", "eu-west-2"]) {
          const error = failureOf(
            yield* Effect.exit(ChimeRooms.listRooms(request).pipe(Effect.provide(live(emulator, client, { region }))))
          )
          expect(error, `${name} ${region}`).toMatchObject({
            _tag: "ForbiddenException",
            status: 403,
            code: "InvalidSignatureException"
          })
        }
      }
      // Without a region, us-east-1: an emulator in another region refuses it.
      const unset = failureOf(yield* Effect.exit(ChimeRooms.listRooms(request).pipe(Effect.provide(live(emulator)))))
      expect(unset).toMatchObject({ status: 403 })
    }))

  it.scopedLive("make builds from a resolved ChimeConfig as it stands: its signing region, on every client", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ region: "eu-west-1" })
      const config = yield* ChimeConfig.make({ endpoint: emulator.endpoint, region: "eu-west-1" })
      expect(config.signingRegion).toBe("eu-west-1")
      const request = { AccountId: emulator.accounts[0]!, MaxResults: 5 }
      for (const [name, client] of clients) {
        const chime = Layer.effect(ChimeRooms.ChimeRooms, HttpChimeRooms.make(config)).pipe(
          Layer.provide(client),
          Layer.provide(credentialsOf(emulator))
        )
        const page = yield* ChimeRooms.listRooms(request).pipe(Effect.provide(chime))
        expect(page.Rooms, name).toHaveLength(5)
      }
    }))

  it.scopedLive("signs with a session token: the emulator accepts it", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ credentials: [tokenCredentials] })
      const { rooms } = yield* listAll(emulator.accounts[0]!, 50).pipe(Effect.provide(live(emulator)))
      expect(rooms).toHaveLength(100)
      expect(emulator.received().every((r) => r.outcome?.status === 200)).toBe(true)
    }))

  it.scopedLive("without the session token temporary credentials are refused (401/403), no secret in the error", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ credentials: [tokenCredentials] })
      const noToken = HttpChimeRooms.layer({ endpoint: emulator.endpoint }).pipe(
        Layer.orDie,
        Layer.provide(UndiciHttpClient.layer),
        Layer.provide(Credentials.layerStatic({
          accessKeyId: tokenCredentials.accessKeyId,
          secretAccessKey: tokenCredentials.secretAccessKey
        }))
      )
      const error = failureOf(
        yield* Effect.exit(ChimeRooms.listRooms({ AccountId: emulator.accounts[0]! }).pipe(Effect.provide(noToken)))
      )
      expect([401, 403]).toContain("status" in error ? error.status : 0)
      expectNoSecrets(error, tokenCredentials)
    }))

  it.scoped("re-signs every retry attempt of HttpClient.retry: a new x-amz-date, never a stale one", () =>
    Effect.gen(function*() {
      // TestClock drives signing dates and the retry delay; the emulator checks dates against real time.
      yield* TestClock.setTime(Date.now())
      const emulator = yield* Emulator.make({
        faults: FaultScript.make({ rules: [{ calls: [1], fault: Fault.unavailable() }] })
      })
      const client = UndiciHttpClient.make(yield* UndiciHttpClient.makeAgent())
      const signed = SigV4.withSigV4(client, {
        credentials: Effect.succeed({
          accessKeyId: emulator.credentials.accessKeyId,
          secretAccessKey: emulator.credentials.secretAccessKey
        }),
        region: "us-east-1",
        service: "chime"
      }).pipe(
        HttpClient.filterStatusOk,
        HttpClient.retry({ schedule: Schedule.spaced("2 seconds"), times: 2 })
      )
      const fiber = yield* Effect.fork(
        signed.execute(HttpClientRequest.get(`${emulator.endpoint}/accounts/${emulator.accounts[0]}/rooms`))
      )
      // Wait on I/O (not on time) while the fiber runs; whenever the retry sleeps, move the TestClock past it.
      for (let i = 0; i < 20_000 && (yield* Fiber.poll(fiber))._tag === "None"; i++) {
        if ((yield* TestClock.sleeps()).length > 0) yield* TestClock.adjust("2 seconds")
        else yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
      }
      const response = yield* Fiber.join(fiber)
      expect(response.status).toBe(200)
      const received = emulator.received()
      expect(received.map((r) => r.outcome?.status)).toEqual([503, 200])
      const [first, second] = received.map((r) => r.headers["x-amz-date"]!)
      expect(first).toMatch(/^\d{8}T\d{6}Z$/)
      expect(second).not.toBe(first)
      expect(
        Date.parse(second!.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z")) -
          Date.parse(first!.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z"))
      ).toBe(2000)
    }))

  it.scopedLive("refreshes expiring credentials from a provider while listing", () =>
    Effect.gen(function*() {
      const renewed: Emulator.EmulatorCredentials = {
        accessKeyId: "ASIAEMULATORTEST0002",
        secretAccessKey: Redacted.make("an0ther-Key-that-must-never-leak/9876543210"),
        sessionToken: Redacted.make("SESSION-TOKEN-2-that-must-never-leak-FwoGZXIvYXdzE")
      }
      const emulator = yield* Emulator.make({ credentials: [tokenCredentials, renewed] })
      let calls = 0
      const provider = () => {
        calls++
        const c = calls === 1 ? tokenCredentials : renewed
        return Promise.resolve({
          accessKeyId: c.accessKeyId,
          secretAccessKey: Redacted.value(c.secretAccessKey),
          sessionToken: Redacted.value(c.sessionToken!),
          // The first set is already inside the refresh window: used until it expires 800 ms later
          // (the 1 s backoff stops at the expiry), then renewed; the next lasts an hour.
          expiration: new Date(Date.now() + (calls === 1 ? 800 : 60 * 60_000))
        })
      }
      const layer = HttpChimeRooms.layer({ endpoint: emulator.endpoint }).pipe(
        Layer.provide(UndiciHttpClient.layer),
        Layer.provide(Credentials.layerProvider(provider))
      )
      const rooms = yield* Effect.gen(function*() {
        const rooms: Array<string> = []
        let token: string | undefined
        do {
          const page = yield* ChimeRooms.listRooms({
            AccountId: emulator.accounts[0]!,
            MaxResults: 25,
            ...(token !== undefined ? { NextToken: token } : {})
          })
          for (const room of page.Rooms) rooms.push(room.RoomId!)
          token = page.NextToken
          if (rooms.length === 50) yield* Effect.sleep("900 millis")
        } while (token !== undefined)
        return rooms
      }).pipe(Effect.provide(layer))
      expect(rooms).toHaveLength(100)
      expect(calls).toBe(2)
      const keys = emulator.received().map((r) => r.accessKeyId)
      // Two pages on the first set (not asked again at once), two on the renewed one.
      const [first, next] = [tokenCredentials.accessKeyId, renewed.accessKeyId]
      expect(keys).toEqual([first, first, next, next])
    }))

  for (const [label, offset] of [["ahead", "10 minutes"], ["behind", "-10 minutes"]] as const) {
    it.scopedLive(`recovers from a server clock 10 minutes ${label} and keeps the offset`, () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({
          clockOffset: label === "ahead" ? Duration.minutes(10) : -Duration.toMillis(Duration.minutes(10))
        })
        expect(offset).toBeDefined()
        const layer = live(emulator)
        const { rooms } = yield* listAll(emulator.accounts[0]!, 40).pipe(Effect.provide(layer))
        expect(rooms).toHaveLength(100)
        const statuses = emulator.received().map((r) => r.outcome?.status)
        // One refusal for the first page, then every page (3 of them) accepted first time.
        expect(statuses.filter((s) => s !== 200)).toHaveLength(1)
        expect(statuses[0]).not.toBe(200)
        expect(statuses.slice(1)).toEqual([200, 200, 200])
      }))
  }

  const hostile: ReadonlyArray<string> = [
    "../x",
    "a/b",
    "a?b#c",
    "%2F",
    "  x",
    "x y\u0000\u001f\u007f",
    "résumé 🎉",
    "..%2F..",
    "...",
    "a".repeat(10 * 1024)
  ]

  for (const [name, client] of clients) {
    it.scopedLive(`sends hostile AccountIds as exactly one path segment over ${name}`, () =>
      Effect.gen(function*() {
        const fixture: Record<string, { rooms: ReadonlyArray<{ RoomId: string }> }> = {}
        hostile.forEach((id, i) => {
          fixture[id] = { rooms: [{ RoomId: `r-${i}` }] }
        })
        const emulator = yield* Emulator.make({ dataset: Dataset.fromRooms(fixture) })
        const layer = live(emulator, client)
        for (const [i, id] of hostile.entries()) {
          emulator.clearReceived()
          const page = yield* ChimeRooms.listRooms({ AccountId: id }).pipe(Effect.provide(layer))
          expect(page.Rooms.map((r) => r.RoomId)).toEqual([`r-${i}`])
          const [received] = emulator.received()
          const match = /^\/accounts\/([^/]+)\/rooms$/.exec(received!.path)
          expect(match).not.toBeNull()
          expect(decodeURIComponent(match![1]!)).toBe(id)
        }
        // Dot segments and blank ids are refused before anything is sent.
        emulator.clearReceived()
        for (const id of ["   ", "", ".", ".."]) {
          const error = failureOf(
            yield* Effect.exit(ChimeRooms.listRooms({ AccountId: id }).pipe(Effect.provide(layer)))
          )
          expect(error).toMatchObject({ _tag: "InvalidRequestError", field: "AccountId" })
        }
        expect(emulator.received()).toHaveLength(0)
      }))
  }

  const wireFaults: ReadonlyArray<readonly [string, Emulator.EmulatorOptions["faults"], Record<string, unknown>]> = [
    ["a 502 HTML page", FaultScript.make({ rules: [{ calls: [1], fault: Fault.html502 }] }), {
      _tag: "ResponseDecodeError",
      reason: "UnexpectedStatus",
      status: 502
    }],
    ["invalid JSON", FaultScript.make({ rules: [{ calls: [1], fault: Fault.invalidJson }] }), {
      _tag: "ResponseDecodeError",
      reason: "InvalidJson",
      status: 200
    }],
    ["truncated JSON", FaultScript.make({ rules: [{ calls: [1], fault: Fault.truncatedJson }] }), {
      _tag: "ResponseDecodeError",
      reason: "TruncatedJson",
      status: 200
    }],
    ["a reset mid-body", FaultScript.make({ rules: [{ calls: [1], fault: Fault.reset }] }), {
      _tag: "TransportError",
      reason: "BodyCutShort"
    }],
    [
      "a connection dropped before the response",
      FaultScript.make({ rules: [{ calls: [1], fault: Fault.transport }] }),
      {
        _tag: "TransportError",
        reason: "ConnectionReset"
      }
    ],
    [
      "a delayed answer (per-attempt timeout)",
      FaultScript.make({ rules: [{ calls: [1], fault: Fault.delay("5 seconds") }] }),
      {
        _tag: "TransportError",
        reason: "Timeout",
        message: "ListRooms: no complete response within 300 ms"
      }
    ],
    [
      "a body that trickles past the timeout",
      FaultScript.make({ rules: [{ calls: [1], fault: Fault.slow("5 seconds") }] }),
      {
        _tag: "TransportError",
        reason: "Timeout",
        message: "ListRooms: no complete response within 300 ms"
      }
    ]
  ]

  for (const [name, client] of clients) {
    for (const [label, faults, expected] of wireFaults) {
      it.scopedLive(`turns ${label} into ${expected._tag}(${String(expected.reason)}) over ${name}, without secrets`, () =>
        Effect.gen(function*() {
          const emulator = yield* Emulator.make({ credentials: [tokenCredentials], faults })
          const layer = live(emulator, client, { timeout: "300 millis" })
          const error = failureOf(
            yield* Effect.exit(ChimeRooms.listRooms({ AccountId: emulator.accounts[0]! }).pipe(Effect.provide(layer)))
          )
          expect(error).toMatchObject(expected)
          // A proxy's 502 carries none of the service's headers; every other answer has its request id.
          const requestId = "requestId" in error ? error.requestId : undefined
          if (expected.status === 200) expect(requestId).toBe(emulator.received()[0]!.requestId)
          if (expected.status === 502) expect(requestId).toBeUndefined()
          expectNoSecrets(error, tokenCredentials)
        }))
    }

    it.scopedLive(`turns a refused connection into TransportError(ConnectionRefused) over ${name}`, () =>
      Effect.gen(function*() {
        const port = yield* Effect.promise(() =>
          new Promise<number>((resolve) => {
            const server = createServer()
            server.listen(0, "127.0.0.1", () => {
              const address = server.address()
              server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
            })
          })
        )
        const layer = HttpChimeRooms.layer({ endpoint: `http://127.0.0.1:${port}` }).pipe(
          Layer.orDie,
          Layer.provide(client),
          Layer.provide(Credentials.layerStatic({ accessKeyId: "AKID", secretAccessKey: "secret" }))
        )
        const error = failureOf(
          yield* Effect.exit(ChimeRooms.listRooms({ AccountId: "acc" }).pipe(Effect.provide(layer)))
        )
        expect(error).toMatchObject({ _tag: "TransportError", reason: "ConnectionRefused" })
      }))
  }

  it.scopedLive("per-attempt timeouts share one timer: a short one started after a long one still fires on time", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({
        faults: FaultScript.make({ rules: [{ calls: [1, 2], fault: Fault.delay("1 second") }] })
      })
      const request = { AccountId: emulator.accounts[0]! }
      // The first call's deadline is 10 seconds away: the shared timer is set for it.
      const long = yield* Effect.fork(
        ChimeRooms.listRooms(request).pipe(
          Effect.provide(live(emulator, UndiciHttpClient.layer, { timeout: "10 seconds" }))
        )
      )
      yield* Effect.sleep("50 millis")
      const started = Date.now()
      const error = failureOf(
        yield* Effect.exit(
          ChimeRooms.listRooms(request).pipe(
            Effect.provide(live(emulator, UndiciHttpClient.layer, { timeout: "200 millis" }))
          )
        )
      )
      // Timed out, not answered: had it waited for the long one's deadline, the answer (after 1 second) would have come first.
      expect(error).toMatchObject({ _tag: "TransportError", reason: "Timeout" })
      expect(Date.now() - started).toBeGreaterThanOrEqual(190)
      // The long one is untouched by the short one's timing out, and answers after its delay.
      const page = yield* Fiber.join(long)
      expect(page.$metadata.httpStatusCode).toBe(200)
    }))

  it.scopedLive("validates before sending: MaxResults out of range sends nothing", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({})
      const exit = yield* Effect.exit(
        ChimeRooms.listRooms({ AccountId: "acc", MaxResults: 100 }).pipe(Effect.provide(live(emulator)))
      )
      expect(failureOf(exit)).toMatchObject({ _tag: "InvalidRequestError", field: "MaxResults" })
      expect(emulator.received()).toHaveLength(0)
    }))
})

describe("HttpChimeRooms.validateSendable", () => {
  it.scopedLive("refuses exactly what listRooms refuses before sending, with the same error", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({})
      const account = emulator.accounts[0]!
      const inputs: ReadonlyArray<ListRoomsRequest.ListRoomsRequest> = [
        { AccountId: account },
        { AccountId: account, MaxResults: 99, MemberId: "u-1", NextToken: "" },
        { AccountId: "." },
        { AccountId: ".." },
        { AccountId: "   " },
        { AccountId: "\ud800" },
        { AccountId: account, MemberId: "a\udc00" },
        { AccountId: account, NextToken: "\ud83d" },
        { AccountId: account, MaxResults: 0 }
      ]
      for (const input of inputs) {
        const checked = HttpChimeRooms.validateSendable(input)
        const exit = yield* Effect.exit(ChimeRooms.listRooms(input).pipe(Effect.provide(live(emulator))))
        if (checked._tag === "Right") {
          expect(checked.right).toEqual(input)
        } else {
          const error = failureOf(exit) as typeof checked.left
          expect(error._tag).toBe("InvalidRequestError")
          expect(checked.left).toMatchObject({ field: error.field, rule: error.rule })
        }
      }
      // Only the two valid requests reached the emulator.
      expect(emulator.received()).toHaveLength(2)
      expect(HttpChimeRooms.validateSendable({ AccountId: ".." })).toMatchObject({
        _tag: "Left",
        left: { field: "AccountId" }
      })
      expect(HttpChimeRooms.validateSendable({ AccountId: "a", NextToken: "\ud800" })).toMatchObject({
        _tag: "Left",
        left: { field: "NextToken", rule: "must be valid Unicode (no lone surrogates)" }
      })
    }))
})

describe("HttpChimeRooms.unsafeListRooms (a call without a fiber)", () => {
  /** The service of `layer`, built in the test's scope (the undici agent lives as long as it). */
  const serviceOf = (layer: Layer.Layer<ChimeRooms.ChimeRooms>) =>
    Effect.map(Layer.build(layer), (context) => Context.get(context, ChimeRooms.ChimeRooms))

  /** `unsafeListRooms` as an effect; a decline is a defect here. */
  const started = (service: ChimeRooms.ChimeRoomsService, request: ListRoomsRequest.ListRoomsRequest) =>
    Effect.flatMap(
      Effect.clock,
      (clock) =>
        Effect.async<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError>((resume) => {
          const abort = service.unsafeListRooms!(request, clock, resume)
          if (abort === undefined) return resume(Effect.dieMessage("declined"))
          return Effect.sync(abort)
        })
    )

  it.scopedLive("gives the page listRooms gives, learns a refused clock once, and fails with typed errors", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ clockOffset: Duration.minutes(10) })
      const service = yield* serviceOf(live(emulator))
      const account = emulator.accounts[0]!
      const page = yield* started(service, { AccountId: account, MaxResults: 40 })
      const again = yield* service.listRooms({ AccountId: account, MaxResults: 40 })
      expect(page.Rooms).toEqual(again.Rooms)
      expect(page.NextToken).toBe(again.NextToken)
      // The skewed clock was refused once, learnt, and applied to the calls after it.
      expect(emulator.received().map((r) => r.outcome?.status)).toEqual([403, 200, 200])

      // The token is heard as soon as the body is in, before the page is done.
      const heard: Array<string> = []
      const clock = yield* Effect.clock
      const next = yield* Effect.async<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError>((resume) => {
        service.unsafeListRooms!({ AccountId: account, MaxResults: 40 }, clock, (exit) => {
          heard.push("done")
          resume(exit)
        }, (token) => heard.push(`token ${token}`))
      })
      expect(heard).toEqual([`token ${next.NextToken}`, "done"])

      emulator.setFaults(FaultScript.make({ rules: [{ calls: [1], fault: Fault.serviceError("NotFoundException") }] }))
      emulator.clearReceived()
      const error = failureOf(yield* Effect.exit(started(service, { AccountId: account })))
      expect(error._tag).toBe("NotFoundException")
      expect(error).toMatchObject({ status: 404, requestId: emulator.received()[0]!.requestId })
      expectNoSecrets(error, emulator.credentials)

      // An invalid request fails before anything is sent, possibly before `unsafeListRooms` returns.
      emulator.clearReceived()
      const invalid = failureOf(yield* Effect.exit(started(service, { AccountId: account, MaxResults: 500 })))
      expect(invalid._tag).toBe("InvalidRequestError")
      expect(emulator.received()).toHaveLength(0)
    }))

  it.scopedLive("hears the token from the bytes when they say it plainly (a guess), else from the parsed body; decodes and validates the page after either way", () =>
    Effect.gen(function*() {
      // A server that answers every request with the next of these bodies.
      const bodies = [
        "{\"NextToken\":\"plain-1\",\"Rooms\":[{\"RoomId\":\"r-1\"}]}",
        // An escape in the token: the bytes do not say it plainly.
        "{\"NextToken\":\"esc\\/2\",\"Rooms\":[{\"RoomId\":\"r-2\"}]}",
        // A nested key of the same name, first: what the bytes seem to say is wrong, and `done` says so.
        "{\"Rooms\":[{\"RoomId\":\"r-3\",\"Extra\":{\"NextToken\":\"decoy\"}}],\"NextToken\":\"nested-3\"}",
        // The token is plain, the page is not valid: heard, then refused.
        "{\"NextToken\":\"plain-4\",\"Rooms\":[{\"RoomId\":7}]}"
      ]
      let served = 0
      const server = createHttpServer((_request, response) => {
        response.writeHead(200, { "content-type": "application/json", "x-amzn-requestid": `req-${served}` })
        response.end(bodies[served++])
      })
      yield* Effect.acquireRelease(
        Effect.async<void>((resume) => {
          server.listen(0, "127.0.0.1", () => resume(Effect.void))
        }),
        () => Effect.sync(() => server.close())
      )
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      const service = yield* serviceOf(
        HttpChimeRooms.layer({ endpoint: `http://127.0.0.1:${port}` }).pipe(
          Layer.orDie,
          Layer.provide(UndiciHttpClient.layer),
          Layer.provide(Credentials.layerStatic({ accessKeyId: "AKID", secretAccessKey: "secret" }))
        )
      )
      const clock = yield* Effect.clock
      const heardOne = () => {
        const heard: Array<string> = []
        return Effect.map(
          Effect.exit(Effect.async<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError>((resume) => {
            service.unsafeListRooms!({ AccountId: "acc" }, clock, (exit) => {
              heard.push("done")
              resume(exit)
            }, (token) => heard.push(`token ${token}`))
          })),
          (exit) => ({ exit, heard })
        )
      }
      for (const [guess, token] of [["plain-1", "plain-1"], ["esc/2", "esc/2"], ["decoy", "nested-3"]]) {
        const { exit, heard } = yield* heardOne()
        expect(heard).toEqual([`token ${guess}`, "done"])
        expect(Exit.isSuccess(exit) && exit.value.NextToken).toBe(token)
      }
      const { exit, heard } = yield* heardOne()
      expect(heard).toEqual(["token plain-4", "done"])
      expect(failureOf(exit)).toMatchObject({ _tag: "ResponseDecodeError", reason: "InvalidShape", requestId: "req-3" })
    }))

  it.scopedLive("a throw in onNextToken settles the call with that defect, and the layer goes on", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({})
      const service = yield* serviceOf(live(emulator))
      const clock = yield* Effect.clock
      const boom = new Error("onNextToken blew up")
      const exit = yield* Effect.async<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError>((resume) => {
        service.unsafeListRooms!({ AccountId: emulator.accounts[0]! }, clock, resume, () => {
          throw boom
        })
      }).pipe(Effect.timeout("5 seconds"), Effect.exit)
      expect(Exit.isFailure(exit) && Cause.isDie(exit.cause) && Cause.squash(exit.cause)).toBe(boom)
      const exitAfter = yield* Effect.exit(service.listRooms({ AccountId: emulator.accounts[0]! }))
      expect(Exit.isSuccess(exitAfter)).toBe(true)
    }))

  it.scopedLive("declines on another clock, and an abort drops the call without reporting it", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({
        faults: FaultScript.make({ rules: [{ calls: [1], fault: Fault.delay("10 seconds") }] })
      })
      const service = yield* serviceOf(live(emulator))
      const account = emulator.accounts[0]!
      let reported = 0
      expect(service.unsafeListRooms!({ AccountId: account }, Clock.make(), () => reported++)).toBeUndefined()
      const abort = service.unsafeListRooms!({ AccountId: account }, yield* Effect.clock, () => reported++)
      expect(abort).toBeDefined()
      yield* Effect.sleep("50 millis")
      abort!()
      yield* Effect.sleep("100 millis")
      expect(reported).toBe(0)
      expect(emulator.received()).toHaveLength(1)
    }))

  it.scopedLive("only UndiciHttpClient's own client offers it: any other client goes through listRooms", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({})
      for (const [name, client] of clients) {
        const service = yield* serviceOf(live(emulator, client))
        expect(service.unsafeListRooms === undefined, name).toBe(name !== "UndiciHttpClient")
      }
    }))
})
