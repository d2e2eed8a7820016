/**
 * Error responses of every form, answered by one loopback server to the AWS SDK for JavaScript
 * (`@aws-sdk/client-chime`, retries off) and to `HttpChimeRooms`: the same name, status, request id
 * and message. Where a response touches one of our deliberate deviations (the http README), the
 * SDK is asked again about the same response with that part taken out (`withoutDeviations`), and
 * gives the reference; on a body that is not JSON, the README's account of the SDK (a
 * `SyntaxError`) is checked on the original.
 */
import { ChimeClient, ListRoomsCommand } from "@aws-sdk/client-chime"
import { ChimeError, ChimeRooms } from "@chime-rooms/core"
import { Credentials, HttpChimeRooms, RestJson1, UndiciHttpClient } from "@chime-rooms/http"
import type { HttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Exit, FastCheck as fc, Layer, Predicate } from "effect"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"

// The SDK warns about Node 20 on every run; the warning says nothing about these tests.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true"

/** One error response, as the server writes it. */
interface Answer {
  readonly status: number
  /** Raw header lines, in order; a name may repeat. */
  readonly headers: ReadonlyArray<readonly [string, string]>
  readonly body: string
}

// ---------------------------------------------------------------------------------------------
// The responses

const modelledStatuses = Object.values(ChimeError.serviceErrors).map((e) => e.status)
const status = fc.oneof(
  fc.constantFrom(...modelledStatuses),
  fc.constantFrom(300, 301, 302, 307, 402, 405, 409, 410, 413, 418, 422, 451, 499, 501, 502, 504, 505, 599)
)

/** What a header value may hold (`node:http` refuses the rest): tab, printable ASCII, Latin-1. */
const headerChar = fc.oneof(
  fc.constantFrom("\t", " ", ",", ":", "#", "."),
  fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c))
)

const bareName = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(...(Object.keys(ChimeError.serviceErrors) as Array<ChimeError.ServiceErrorName>))
  },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "InvalidSignatureException",
      "UnrecognizedClientException",
      "ThrottlingException",
      "ConflictException",
      "AccessDeniedException",
      "Throttled",
      "NotFound",
      "Unknown",
      "ChimeServiceException",
      "x".repeat(200)
    )
  },
  { weight: 2, arbitrary: fc.string({ unit: headerChar, maxLength: 12 }) }
)

/** A name as services dress it: a Smithy namespace before `#`, a Coral URI after `:`. */
const dressedName = fc.tuple(
  fc.option(fc.constantFrom("com.amazonaws.chime#", "aws.protocoltests.restjson#", "a#b#", "#", " ns#"), { nil: "" }),
  bareName,
  fc.option(
    fc.constantFrom(
      ":http://internal.amazon.com/coral/com.amazon.coral.service/",
      ":http://internal.amazon.com/coral/com.amazonaws.chime/",
      ":",
      ":x#y",
      ",Other"
    ),
    { nil: "" }
  ),
  // Blanks that end a header line (undici hands them over, node drops them; they are no part of it).
  fc.constantFrom("", "", " ", "\t ")
).map(([ns, name, suffix, blanks]) => ns + name + suffix + blanks)

const headerName = fc.constantFrom("x-amzn-ErrorType", "X-Amzn-Errortype", "x-amzn-errortype")

const errorTypeHeaders: fc.Arbitrary<ReadonlyArray<readonly [string, string]>> = fc.oneof(
  { weight: 3, arbitrary: fc.constant([]) },
  { weight: 4, arbitrary: fc.tuple(headerName, dressedName).map(([n, v]) => [[n, v] as const]) },
  { weight: 1, arbitrary: fc.tuple(headerName, fc.constantFrom("", " ", "\t")).map(([n, v]) => [[n, v] as const]) },
  // Repeated: node joins the lines with ", ", and so do our clients; one line may also say "A,B".
  // The blanks around each line's value are not part of it, whichever line they end.
  {
    weight: 2,
    arbitrary: fc.array(fc.tuple(headerName, fc.oneof(dressedName, fc.constant(""))), { minLength: 2, maxLength: 3 })
      .map((lines) => lines.map(([n, v]) => [n, v] as const))
  }
)

const requestIdHeaders = fc.option(
  fc.uuid().map((id) => [["x-amzn-RequestId", id] as const]),
  { nil: [] as ReadonlyArray<readonly [string, string]> }
)

/**
 * Any JSON value a service could put where a name or a message goes. Numbers stay within the safe
 * integers: past them, on a Node whose `JSON.parse` shows the source text (22 on), the SDK reads a
 * number as a `BigInt` and fails on it.
 */
const oddValue = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.constantFrom(0.5, -0, 1e-7, 7.25),
  fc.constant(null),
  fc.boolean(),
  fc.constant({}),
  fc.constant(["x"]),
  fc.constant([","])
)

const message = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.constantFrom("", "Signature expired? no: credential=AKIDEXAMPLE/20260101", "m".repeat(700))
)

const member: fc.Arbitrary<readonly [string, unknown]> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.tuple(fc.constantFrom("code", "Code", "CODE", "cOdE"), fc.oneof(dressedName, dressedName, oddValue))
  },
  { weight: 2, arbitrary: fc.tuple(fc.constant("__type"), fc.oneof(dressedName, dressedName, oddValue)) },
  {
    weight: 3,
    arbitrary: fc.tuple(fc.constantFrom("message", "Message", "MESSAGE"), fc.oneof(message, message, oddValue))
  },
  { weight: 1, arbitrary: fc.tuple(fc.constant("name"), fc.oneof(bareName, oddValue)) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom("Other", "errorCode", "__typename"), fc.oneof(dressedName, oddValue))
  }
)

/** An object written member by member: a name may repeat (`JSON.parse` keeps its first place and last value). */
const objectBody = fc.array(member, { maxLength: 5 }).map((members) =>
  "{" + members.map(([k, v]) => JSON.stringify(k) + ":" + JSON.stringify(v)).join(",") + "}"
)

const body = fc.oneof(
  { weight: 2, arbitrary: fc.constant("") },
  { weight: 8, arbitrary: objectBody },
  { weight: 1, arbitrary: fc.constantFrom("[]", "\"Throttled\"", "42", "null", "[{\"code\":\"X\"}]", "{ }") },
  // Not JSON to `JSON.parse`: a proxy's page, blanks, a body cut short, JSON after a byte-order mark.
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.constantFrom("<html><body>502 Bad Gateway</body></html>", " ", "{", "{\"code\":\"Cut"),
      objectBody.map((json) => "\uFEFF" + json)
    )
  }
)

/** The request id line goes anywhere among the error type's lines. */
const answer: fc.Arbitrary<Answer> = fc
  .record({ status, errorType: errorTypeHeaders, requestId: requestIdHeaders, body })
  .chain(({ body, errorType, requestId, status }) =>
    fc.nat({ max: errorType.length }).map((at) => ({
      status,
      headers: [...errorType.slice(0, at), ...requestId, ...errorType.slice(at)],
      body
    }))
  )

// ---------------------------------------------------------------------------------------------
// The deviations, taken out

const isNameValue = (u: unknown) => typeof u === "string" || typeof u === "number"

const parsed = (text: string): { readonly json: unknown } | undefined => {
  if (text === "") return undefined
  try {
    return { json: JSON.parse(text) }
  } catch {
    return undefined
  }
}

/**
 * The response as we read it, for the SDK to name: a body that `JSON.parse` refuses is no body
 * (one after a byte-order mark is read, as our UTF-8 decoding drops the mark); a `code` or
 * `__type` that is neither a string nor a number is left out, as are a `message` or `Message`
 * that is not a string, and a `name` member.
 */
const withoutDeviations = (a: Answer): Answer => {
  const text = a.body.startsWith("\uFEFF") ? a.body.slice(1) : a.body
  const read = parsed(text)
  if (read === undefined) return { ...a, body: "" }
  if (!Predicate.isRecord(read.json)) return text === a.body ? a : { ...a, body: text }
  const members = Object.entries(read.json)
  const kept = members.filter(([k, v]) =>
    k === "name"
      ? false
      : k.toLowerCase() === "code" || k === "__type"
      ? isNameValue(v)
      : k === "message" || k === "Message"
      ? typeof v === "string"
      : true
  )
  if (text === a.body && kept.length === members.length) return a
  return { ...a, body: JSON.stringify(Object.fromEntries(kept)) }
}

const hasNameSource = (a: Answer): boolean => {
  if (a.headers.some(([n]) => n.toLowerCase() === "x-amzn-errortype")) return true
  const read = parsed(a.body)
  return read !== undefined && Predicate.isRecord(read.json) &&
    Object.keys(read.json).some((k) => k.toLowerCase() === "code" || k === "__type")
}

// ---------------------------------------------------------------------------------------------
// The two clients

interface SdkError {
  readonly name: unknown
  readonly message: unknown
  readonly $fault?: string
  readonly $metadata: { readonly httpStatusCode?: number; readonly requestId?: string }
  /** The response, as the SDK's HTTP handler gave it (a hidden field of every error it throws). */
  readonly $response?: { readonly headers: Record<string, string> }
}

const serve = Effect.acquireRelease(
  Effect.async<{ readonly server: Server; answer: Answer }>((resume) => {
    const state = { server: undefined as unknown as Server, answer: { status: 500, headers: [], body: "" } as Answer }
    state.server = createServer((_req, res) => {
      const { body, headers, status } = state.answer
      res.sendDate = false
      const lines = headers.flatMap(([n, v]) => [n, v])
      // A Buffer, not a string: node sends a string body in one write with the head, the head then
      // encoded as UTF-8 rather than Latin-1, and the bytes of a header would depend on the body.
      const bytes = Buffer.from(body, "utf8")
      res.writeHead(status, [...lines, "Content-Length", String(bytes.length)])
      res.end(bytes)
    })
    state.server.listen(0, "127.0.0.1", () => resume(Effect.succeed(state)))
  }),
  ({ server }) =>
    Effect.async<void>((resume) => {
      server.closeAllConnections()
      server.close(() => resume(Effect.void))
    })
)

const sdkClient = (endpoint: string) =>
  Effect.acquireRelease(
    Effect.sync(() =>
      new ChimeClient({
        endpoint,
        region: "us-east-1",
        maxAttempts: 1,
        credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "differential/secret" }
      })
    ),
    (client) => Effect.sync(() => client.destroy())
  )

/** Our service over `client`, kept for the test's scope. */
const ours = (endpoint: string, client: Layer.Layer<HttpClient.HttpClient>) =>
  Effect.map(
    Layer.build(
      HttpChimeRooms.layer({ endpoint }).pipe(
        Layer.provide(client),
        Layer.provide(Credentials.layerStatic({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "differential/secret" }))
      )
    ),
    (context) => Context.get(context, ChimeRooms.ChimeRooms)
  )

const statusTag = (code: number): ChimeError.ServiceErrorName | undefined =>
  (Object.keys(ChimeError.serviceErrors) as Array<ChimeError.ServiceErrorName>).find((name) =>
    ChimeError.serviceErrors[name].status === code
  )

/**
 * The error a response named `name` must be (`undefined`: nothing named it, or an empty name):
 * the modelled error of that name; else the modelled error of the status, with the name in `code`;
 * else `UnknownServiceError` with the name in `errorName`; else `UnexpectedStatus`.
 */
const expectNamed = (error: ChimeError.ChimeError, status: number, name: string | undefined, context: string) => {
  const byStatus = statusTag(status)
  const fields = error as { readonly code?: string; readonly errorName?: string; readonly reason?: string }
  if (name !== undefined && ChimeError.isServiceErrorName(name)) {
    expect(error._tag, context).toBe(name)
  } else if (byStatus !== undefined) {
    expect(error._tag, context).toBe(byStatus)
    expect(fields.code, context).toBe(name === undefined || name === "" ? undefined : ChimeError.safeExcerpt(name, 128))
  } else if (name !== undefined && name !== "") {
    expect(error._tag, context).toBe("UnknownServiceError")
    expect(fields.errorName, context).toBe(ChimeError.safeExcerpt(name, 128))
  } else {
    expect(error._tag, context).toBe("ResponseDecodeError")
    expect(fields.reason, context).toBe("UnexpectedStatus")
  }
}

describe("error responses: the AWS SDK and HttpChimeRooms on the same bytes", () => {
  it.scopedLive(
    "name, status, request id and message agree (deviations as the README lists them)",
    () =>
      Effect.gen(function*() {
        const served = yield* serve
        const endpoint = `http://127.0.0.1:${(served.server.address() as AddressInfo).port}`
        const sdk = yield* sdkClient(endpoint)
        // Our own client: its fast path hands an error response to the general decoding.
        const rooms = yield* ours(endpoint, UndiciHttpClient.layer)
        const askSdk = async (a: Answer): Promise<SdkError> => {
          served.answer = a
          try {
            await sdk.send(new ListRoomsCommand({ AccountId: "a" }))
          } catch (error) {
            return error as SdkError
          }
          throw new Error("the SDK took an error response for a page")
        }
        const askUs = async (a: Answer): Promise<ChimeError.ChimeError> => {
          served.answer = a
          const exit = await Effect.runPromiseExit(rooms.listRooms({ AccountId: "a" }))
          if (Exit.isFailure(exit) && exit.cause._tag === "Fail") return exit.cause.error
          throw new Error(`HttpChimeRooms did not fail with a ChimeError: ${String(exit)}`)
        }
        const counts = { named: 0, unnamed: 0, notJson: 0, deviations: 0 }

        yield* Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(answer, async (a) => {
              const asRead = withoutDeviations(a)
              const deviates = asRead !== a
              const original = await askSdk(a)
              const reference = deviates ? await askSdk(asRead) : original
              if (deviates) counts.deviations++
              if (parsed(a.body) === undefined && a.body !== "") {
                // README: the SDK fails on a body that is not JSON, whatever the header says.
                expect(original.name).toBe("SyntaxError")
                counts.notJson++
              }
              // Without a name, the SDK says `Unknown`; with an empty one, `""`; with
              // `ChimeServiceException` (its own base class), none.
              const sdkName = reference.name
              const named = hasNameSource(asRead)
              if (!named) expect(sdkName).toBe("Unknown")
              const name = !named ? undefined : sdkName === undefined ? "ChimeServiceException" : sdkName
              if (typeof name !== "string" && name !== undefined) {
                throw new Error(`an SDK name that is no string: ${String(name)}`)
              }
              if (name === undefined || name === "") counts.unnamed++
              else counts.named++

              // Our rule on its own, on the headers as node handed them to the SDK.
              const headers = reference.$response?.headers ?? {}
              expect(RestJson1.resolveErrorName(headers, parsed(asRead.body)?.json), JSON.stringify(a)).toBe(name)

              const error = await askUs(a)
              const context = `${JSON.stringify(a)} -> ${JSON.stringify(error)}`
              expectNamed(error, a.status, name, context)
              const fields = error as {
                readonly status?: number
                readonly requestId?: string
                readonly message: string
              }
              expect(fields.status, context).toBe(reference.$metadata.httpStatusCode)
              expect(fields.requestId, context).toBe(reference.$metadata.requestId)
              const sdkMessage = reference.message
              const sdkSaysOne = typeof sdkMessage === "string" && sdkMessage !== "UnknownError"
              if (error._tag !== "ResponseDecodeError" && sdkSaysOne) {
                expect(fields.message, context).toBe(ChimeError.safeExcerpt(sdkMessage, 512))
              }
            }),
            { numRuns: 100 }
          )
        )
        // Every kind of case came up.
        expect(counts.named).toBeGreaterThan(20)
        expect(counts.unnamed).toBeGreaterThan(5)
        expect(counts.notJson).toBeGreaterThan(3)
        expect(counts.deviations).toBeGreaterThan(10)
      }),
    60_000
  )
})
