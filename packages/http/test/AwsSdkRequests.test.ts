/**
 * The request side of the differential suite against the AWS SDK for JavaScript v3
 * (`@aws-sdk/client-chime`): generated `ListRooms` requests go through the SDK's `ChimeClient` and
 * through `HttpChimeRooms` to one loopback server, which records each request line as received
 * (`req.url`, exact bytes) and the signing headers. Both must send the same path and query bytes and,
 * at the same instant with the same credentials, the same `x-amz-date`, credential scope, signed
 * headers, signature and session token.
 *
 * How the two are made comparable:
 *
 * - The same instant. Every case runs under `vi.useFakeTimers({ toFake: ["Date"] })` with the
 *   case's instant set by `vi.setSystemTime`, so `Date.now()` and `new Date()` return it for both:
 *   the SDK signs at `new Date(Date.now() + systemClockOffset)`, and our live clock (both paths) is
 *   `Date.now()`. Timers stay real. The server sends no `Date` header, so the SDK never learns a
 *   clock skew (its offset stays 0) and we never learn one either.
 * - The same signed headers. The SDK adds headers of its own and signs them: `x-amz-user-agent`,
 *   `amz-sdk-invocation-id` and `amz-sdk-request` (its middleware), and `x-amz-content-sha256` (its
 *   `SignatureV4`'s `applyChecksum`, on by default; only S3 needs it). The SDK here removes the first
 *   three with a middleware placed just before its `httpSigningMiddleware`, and is given
 *   `applyChecksum: false`, which its auth config passes to the `SignatureV4` it builds (as it passes
 *   every client setting). Its serialisation, endpoint, signing region and name, clock and signer
 *   stay its own. Both then sign `host;x-amz-date` (`;x-amz-security-token` with a session token)
 *   and the signatures must be identical. The first test shows the SDK's unchanged header set
 *   differs from ours by exactly these four.
 * - Ours four ways: `UndiciHttpClient` as given (the fast path: `internal/fastSign.ts` and
 *   `internal/encode.ts`, through `unsafeListRooms`, which declines rather than falling back to the
 *   general path), and the general path (`SigV4.withSigV4`, smithy's rules written out) over
 *   `UndiciHttpClient` behind `HttpClient.mapRequest`, `NodeHttpClient.layerUndici` and
 *   `FetchHttpClient` (which parses the URL again before sending it).
 *
 * Signatures, secrets and session tokens are compared, never printed: a failure shows the request
 * line, the date, the scope and the signed headers, and whether the signature and token are the SDK's.
 */
import { ChimeClient, ListRoomsCommand } from "@aws-sdk/client-chime"
import type { ChimeClientConfig } from "@aws-sdk/client-chime"
import { type ChimeError, ChimeRooms, type ListRoomsRequest, type ListRoomsResponse } from "@chime-rooms/core"
import { Credentials, HttpChimeRooms, UndiciHttpClient } from "@chime-rooms/http"
import { FetchHttpClient, HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { afterEach, beforeEach, describe, expect, it, vi } from "@effect/vitest"
import { Context, Effect, Either, FastCheck, Layer } from "effect"
import { createServer } from "node:http"
import type { IncomingHttpHeaders } from "node:http"
import type { AddressInfo } from "node:net"

// The SDK warns about Node 20 on every run; the warning says nothing about these tests.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true"

interface Received {
  readonly target: string
  readonly headers: IncomingHttpHeaders
}

interface Recorder {
  readonly origin: string
  readonly received: Array<Received>
  readonly close: () => void
}

/** A loopback server answering every request with an empty page, keeping what it received. */
const recorder = Effect.acquireRelease(
  Effect.async<Recorder>((resume) => {
    const received: Array<Received> = []
    const server = createServer((req, res) => {
      received.push({ target: req.url!, headers: req.headers })
      // No `Date`: the SDK would correct its clock from it, and the clock is what the cases fix.
      res.sendDate = false
      res.writeHead(200, { "content-type": "application/json", "x-amzn-requestid": "req-1" })
      res.end("{\"Rooms\":[]}")
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resume(Effect.succeed({
        origin: `http://127.0.0.1:${port}`,
        received,
        close: () => {
          server.closeAllConnections()
          server.close()
        }
      }))
    })
  }),
  (server) => Effect.sync(server.close)
)

interface PlainCredentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string
}

/**
 * Without and with a session token: secrets with reserved and non-ASCII characters, tokens as STS
 * writes them (`+`, `/`, `=`) and one with blanks (signed collapsed, sent as they are).
 */
const CREDENTIALS: ReadonlyArray<PlainCredentials> = [
  { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" },
  { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "s3cr3t ~!*'()/+=%é😀" },
  {
    accessKeyId: "ASIAEXAMPLETEMP00001",
    secretAccessKey: "temporary/secret+key",
    sessionToken: "FwoGZXIvYXdzEJr//////////wEaDN+b64/token="
  },
  {
    accessKeyId: "ASIAEXAMPLETEMP00002",
    secretAccessKey: "x",
    sessionToken: "IQoJb3JpZ2luX2VjE" + "A+/z".repeat(200) + "=="
  },
  { accessKeyId: "ASIAEXAMPLETEMP00003", secretAccessKey: "y", sessionToken: "in  side\tblanks" }
]

/** The SDK's own headers, signed by it and not by us (`user-agent` is never signed). */
const SDK_HEADERS = ["x-amz-user-agent", "amz-sdk-invocation-id", "amz-sdk-request"]

/**
 * The SDK's client for `origin`. `comparable` removes its own headers before signing and turns off
 * `x-amz-content-sha256`, as the module's comment explains.
 */
const sdkClient = (origin: string, credentials: PlainCredentials, comparable: boolean): ChimeClient => {
  const config: ChimeClientConfig = { endpoint: origin, region: "us-east-1", maxAttempts: 1, credentials }
  if (!comparable) return new ChimeClient(config)
  // Not in the client's config type, but the SDK's auth config spreads every setting into `SignatureV4`.
  const client = new ChimeClient({ ...config, applyChecksum: false } as ChimeClientConfig)
  client.middlewareStack.addRelativeTo(
    <A extends { readonly request: unknown }, R>(next: (args: A) => Promise<R>) => (args: A) => {
      const headers = (args.request as { headers: Record<string, string> }).headers
      for (const name of SDK_HEADERS) delete headers[name]
      return next(args)
    },
    { relation: "before", toMiddleware: "httpSigningMiddleware", name: "withoutSdkHeaders" }
  )
  return client
}

const FAST = "UndiciHttpClient (fast path)"

const OURS: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>]> = [
  [FAST, UndiciHttpClient.layer],
  [
    "UndiciHttpClient behind mapRequest",
    Layer.effect(
      HttpClient.HttpClient,
      Effect.map(HttpClient.HttpClient, HttpClient.mapRequest((request) => request))
    ).pipe(Layer.provide(UndiciHttpClient.layer))
  ],
  ["NodeHttpClient.layerUndici", NodeHttpClient.layerUndici],
  ["FetchHttpClient", FetchHttpClient.layer]
]

/** Our service for `origin`, signed for us-east-1 as the SDK's client is. */
const ourService = (origin: string, client: Layer.Layer<HttpClient.HttpClient>, credentials: PlainCredentials) =>
  Effect.map(
    Layer.build(
      HttpChimeRooms.layer({ endpoint: origin, region: "us-east-1" }).pipe(
        Layer.provide(client),
        Layer.provide(Credentials.layerStatic(credentials))
      )
    ),
    (context) => Context.get(context, ChimeRooms.ChimeRooms)
  )

/** One service of ours per client of {@link OURS}, each in the test's scope. */
const ourServices = (origin: string, credentials: PlainCredentials) =>
  Effect.forEach(
    OURS,
    ([name, client]) => Effect.map(ourService(origin, client, credentials), (service) => ({ name, service }))
  )

/** Sends `request` through one of ours: the fast one by `unsafeListRooms`, the others by `listRooms`. */
const sendOurs = (name: string, service: ChimeRooms.ChimeRoomsService, request: ListRoomsRequest.ListRoomsRequest) =>
  name === FAST ? startedPromise(service, request) : Effect.runPromise(service.listRooms(request))

/** The fast path's exchange (`unsafeListRooms`) as a promise; a decline (another path) fails it. */
const startedPromise = (service: ChimeRooms.ChimeRoomsService, request: ListRoomsRequest.ListRoomsRequest) =>
  Effect.runPromise(
    Effect.flatMap(
      Effect.clock,
      (clock) =>
        Effect.async<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError>((resume) => {
          const abort = service.unsafeListRooms?.(request, clock, resume)
          if (abort === undefined) {
            return resume(Effect.dieMessage("the fast path declined the request"))
          }
          return Effect.sync(abort)
        })
    )
  )

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^,]*), SignedHeaders=([^,]*), Signature=([0-9a-f]{64})$/

/** What is compared of a request: secrets only as whether they equal the reference's. */
const view = (received: Received | undefined, reference: Received | undefined) => {
  const auth = AUTHORIZATION.exec(String(received?.headers.authorization))
  const referenceAuth = AUTHORIZATION.exec(String(reference?.headers.authorization))
  return {
    target: received?.target,
    host: received?.headers.host,
    date: received?.headers["x-amz-date"],
    credential: auth?.[1],
    signedHeaders: auth?.[2],
    signatureAsReference: auth !== null && referenceAuth !== null && auth[3] === referenceAuth[3],
    tokenAsReference: received?.headers["x-amz-security-token"] === reference?.headers["x-amz-security-token"]
  }
}

/**
 * Fails, naming the client and showing both views whole, when `received` is not as `reference`
 * (fast-check would otherwise show a truncated diff).
 */
const same = (client: string, received: Received | undefined, reference: Received | undefined): void => {
  const ours = view(received, reference)
  const sdk = view(reference, reference)
  if (JSON.stringify(ours) !== JSON.stringify(sdk)) {
    throw new Error(`${client} sends another request than the SDK: ${JSON.stringify({ ours, sdk })}`)
  }
}

/** Characters chosen for trouble, and any code point (astral included, never a lone surrogate). */
const unit = FastCheck.oneof(
  FastCheck.constantFrom(..."abcxyzABCXYZ0189"),
  FastCheck.constantFrom(..."/?#%&=+ ~*'!()"),
  FastCheck.constantFrom(..."-._:;@,$[]\"<>\\^`{|}", "\u0000", "\t", "\n", "\r", "\u007f"),
  FastCheck.constantFrom("é", "ß", "中", "\u00a0", "\u0301", "\u2028", "\ufeff", "😀", "𝄞", "\u{10ffff}"),
  FastCheck.string({ unit: "binary", minLength: 1, maxLength: 1 })
)
const text = (minLength: number, maxLength: number) => FastCheck.string({ unit, minLength, maxLength })

/** Requests core accepts and one URL can carry (see "deliberate deviations" below for the rest). */
const request: FastCheck.Arbitrary<ListRoomsRequest.ListRoomsRequest> = FastCheck.record({
  AccountId: text(1, 24).filter((s) => /\S/.test(s) && s !== "." && s !== ".."),
  MaxResults: FastCheck.integer({ min: 1, max: 99 }),
  MemberId: text(0, 30),
  NextToken: FastCheck.oneof(text(0, 60), FastCheck.base64String({ maxLength: 400 }))
}, { requiredKeys: ["AccountId"] })

/** Which of {@link CREDENTIALS}: the failure report shows the index, not the secret. */
const credentialsIndex = FastCheck.nat(CREDENTIALS.length - 1)

const DAY = 86_400_000
/** 2000..2100 at any millisecond, and instants within 1.5 s of midnight (the signing key changes). */
const instant = FastCheck.oneof(
  FastCheck.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }),
  FastCheck.tuple(FastCheck.integer({ min: 10_957, max: 47_482 }), FastCheck.integer({ min: -1500, max: 1500 })).map((
    [day, millis]
  ) => day * DAY + millis)
)

describe("requests as the AWS SDK sends them", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["Date"] })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it.scopedLive("the SDK signs four headers of its own besides ours; without them the signatures are equal", () =>
    Effect.gen(function*() {
      const server = yield* recorder
      vi.setSystemTime(Date.UTC(2026, 1, 3, 4, 5, 6, 789))
      const credentials = CREDENTIALS[2]!
      const request = { AccountId: "a b", MemberId: "m", NextToken: "t+/=", MaxResults: 7 }
      const ours = yield* ourService(server.origin, UndiciHttpClient.layer, credentials)
      for (const comparable of [false, true]) {
        const sdk = sdkClient(server.origin, credentials, comparable)
        yield* Effect.promise(() => sdk.send(new ListRoomsCommand(request)))
        sdk.destroy()
      }
      yield* Effect.promise(() => startedPromise(ours, request))
      const [plain, comparable, fast] = server.received
      expect(view(plain, fast)).toEqual({
        target: "/accounts/a%20b/rooms?max-results=7&member-id=m&next-token=t%2B%2F%3D",
        host: server.origin.slice("http://".length),
        date: "20260203T040506Z",
        credential: "ASIAEXAMPLETEMP00001/20260203/us-east-1/chime/aws4_request",
        signedHeaders: "amz-sdk-invocation-id;amz-sdk-request;host;x-amz-content-sha256;x-amz-date;" +
          "x-amz-security-token;x-amz-user-agent",
        signatureAsReference: false,
        tokenAsReference: true
      })
      expect(view(comparable, fast)).toEqual({
        ...view(plain, fast),
        signedHeaders: "host;x-amz-date;x-amz-security-token",
        signatureAsReference: true
      })
      expect(view(fast, fast)).toEqual(view(comparable, fast))
    }))

  it.scopedLive(
    "generated requests: the same request line and the same signature, fast path and general path",
    () =>
      Effect.gen(function*() {
        const server = yield* recorder
        const sdks = CREDENTIALS.map((credentials) => sdkClient(server.origin, credentials, true))
        yield* Effect.addFinalizer(() => Effect.sync(() => sdks.forEach((sdk) => sdk.destroy())))
        // One long-lived service per client and credentials: caches (signing key per day) see every instant.
        const ours = yield* Effect.forEach(CREDENTIALS, (credentials) => ourServices(server.origin, credentials))
        let compared = 0
        yield* Effect.promise(() =>
          FastCheck.assert(
            FastCheck.asyncProperty(request, credentialsIndex, instant, async (input, which, now) => {
              vi.setSystemTime(now)
              server.received.length = 0
              await sdks[which]!.send(new ListRoomsCommand(input))
              const reference = server.received[0]
              expect(reference?.target.startsWith("/accounts/")).toBe(true)
              for (const { name, service } of ours[which]!) {
                server.received.length = 0
                await sendOurs(name, service, input)
                same(name, server.received[0], reference)
                compared++
              }
            }),
            { seed: 20261202, numRuns: 300 }
          )
        )
        expect(compared).toBe(300 * OURS.length)
      }),
    60_000
  )

  /** What the SDK does with the requests we refuse before sending (the http README gives our reasons). */
  const DEVIATIONS: ReadonlyArray<{
    readonly request: ListRoomsRequest.ListRoomsRequest
    readonly field: string
    /** The request line the SDK sends, or the error it throws (sending nothing). */
    readonly sdk: { readonly sends: string } | { readonly throws: string }
  }> = [
    { request: { AccountId: "." }, field: "AccountId", sdk: { sends: "/accounts/./rooms" } },
    { request: { AccountId: ".." }, field: "AccountId", sdk: { sends: "/accounts/../rooms" } },
    { request: { AccountId: "" }, field: "AccountId", sdk: { sends: "/accounts//rooms" } },
    { request: { AccountId: " \t" }, field: "AccountId", sdk: { sends: "/accounts/%20%09/rooms" } },
    ...[0, 100, 1.5].map((max) => ({
      request: { AccountId: "a", MaxResults: max },
      field: "MaxResults",
      sdk: { sends: `/accounts/a/rooms?max-results=${max}` }
    })),
    {
      request: { AccountId: "a", NextToken: "t".repeat(8193) },
      field: "NextToken",
      sdk: { sends: "/accounts/a/rooms?next-token=" + "t".repeat(8193) }
    },
    { request: { AccountId: "a\ud800" }, field: "AccountId", sdk: { throws: "URIError" } },
    { request: { AccountId: "a", MemberId: "\udc00b" }, field: "MemberId", sdk: { throws: "URIError" } },
    { request: { AccountId: "a", NextToken: "x\ud83d" }, field: "NextToken", sdk: { throws: "URIError" } }
  ]

  it.scopedLive("deliberate deviations: what the SDK sends (or throws at), we refuse, sending nothing", () =>
    Effect.gen(function*() {
      const server = yield* recorder
      vi.setSystemTime(Date.UTC(2026, 1, 3))
      const credentials = CREDENTIALS[0]!
      const sdk = sdkClient(server.origin, credentials, true)
      yield* Effect.addFinalizer(() => Effect.sync(() => sdk.destroy()))
      const ours = yield* ourServices(server.origin, credentials)
      for (const { field, request, sdk: expected } of DEVIATIONS) {
        server.received.length = 0
        const thrown = yield* Effect.promise(() =>
          sdk.send(new ListRoomsCommand(request)).then(() => undefined, (error: Error) => error.name)
        )
        expect("sends" in expected ? { sends: server.received[0]?.target } : { throws: thrown }).toEqual(expected)
        for (const { name, service } of ours) {
          server.received.length = 0
          const outcome = yield* Effect.either(service.listRooms(request))
          const refused = Either.isLeft(outcome) && outcome.left._tag === "InvalidRequestError"
            ? outcome.left.field
            : "sent"
          expect({ name, refused }).toEqual({ name, refused: field })
          expect(server.received).toHaveLength(0)
        }
      }
    }))
})
