/**
 * Response decoding beside the AWS SDK for JavaScript v3 (`@aws-sdk/client-chime`) on the same
 * bytes: each 200 body is served by a loopback server to the SDK's `ListRoomsCommand` and to
 * `HttpChimeRooms` (its undici fast path; the general path over `fetch` too for the fixed cases),
 * and parsed for core's one-pass decoder and the `ListRoomsResponse` Schema. The SDK throws ⇔ we
 * fail; the SDK succeeds ⇔ we succeed with the same values, except where the SDK hands back a value
 * of the wrong type, where we fail on purpose (the http README's "Deliberate deviations").
 * Timestamps are also held, one by one, to the SDK's own RFC 3339 parser.
 */
import { ChimeClient, ListRoomsCommand } from "@aws-sdk/client-chime"
import { ChimeRooms, ListRoomsResponse, type Room, Timestamp } from "@chime-rooms/core"
import { Credentials, HttpChimeRooms, UndiciHttpClient } from "@chime-rooms/http"
import { FetchHttpClient, type HttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Context, DateTime, Effect, Either, Exit, FastCheck, Layer, Schema } from "effect"
import { createServer } from "node:http"
import { createRequire } from "node:module"

// The SDK warns about Node 20 on every run; the warning says nothing about these tests.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true"

/**
 * The SDK's own RFC 3339 parser: the module its restJson1 deserializer calls for `date-time`
 * members, resolved from the client so that it is the very copy the client runs.
 */
const fromClient = createRequire(createRequire(import.meta.url).resolve("@aws-sdk/client-chime"))
const sdkSerde = fromClient("@smithy/core/serde") as {
  readonly parseRfc3339DateTimeWithOffset: (value: unknown) => Date | undefined
}

const STRING_MEMBERS = ["AccountId", "CreatedBy", "Name", "RoomId"] as const
const TIME_MEMBERS = ["CreatedTimestamp", "UpdatedTimestamp"] as const

// --- timestamps ---------------------------------------------------------------------------------

const pad = (n: number, width: number) => String(n).padStart(width, "0")

const zone = FastCheck.oneof(
  { weight: 3, arbitrary: FastCheck.constantFrom("Z", "z") },
  {
    weight: 2,
    arbitrary: FastCheck.tuple(
      FastCheck.constantFrom("+", "-"),
      FastCheck.oneof(FastCheck.integer({ min: 0, max: 14 }), FastCheck.integer({ min: 0, max: 99 })),
      FastCheck.oneof(FastCheck.constantFrom(0, 30, 45), FastCheck.integer({ min: 0, max: 99 }))
    ).map(([sign, h, m]) => `${sign}${pad(h, 2)}:${pad(m, 2)}`)
  }
)

const fraction = FastCheck.oneof(
  FastCheck.constant(""),
  FastCheck.stringMatching(/^\.\d{1,3}$/),
  FastCheck.stringMatching(/^\.\d{4,24}$/),
  FastCheck.integer({ min: 1, max: 24 }).map((n) => "." + "9".repeat(n))
)

/** Dates the SDK may accept, in every form it reads: either case, any fraction, any offset, second 60, years 00xx. */
const plausibleTimestamp = FastCheck.tuple(
  FastCheck.oneof(
    FastCheck.integer({ min: 1995, max: 2035 }),
    FastCheck.integer({ min: 0, max: 120 }),
    FastCheck.integer({ min: 0, max: 9999 })
  ),
  FastCheck.integer({ min: 1, max: 12 }),
  FastCheck.integer({ min: 1, max: 31 }),
  FastCheck.integer({ min: 0, max: 23 }),
  FastCheck.integer({ min: 0, max: 59 }),
  FastCheck.oneof(
    { weight: 9, arbitrary: FastCheck.integer({ min: 0, max: 59 }) },
    { weight: 1, arbitrary: FastCheck.constant(60) }
  ),
  FastCheck.constantFrom("T", "T", "t"),
  fraction,
  zone
).map(([y, mo, d, h, mi, s, t, f, z]) =>
  `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}${t}${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}${f}${z}`
)

/** Fields in and just out of range, other separators and zones. */
const outOfRangeTimestamp = FastCheck.tuple(
  FastCheck.integer({ min: 0, max: 9999 }),
  FastCheck.integer({ min: 0, max: 13 }),
  FastCheck.integer({ min: 0, max: 32 }),
  FastCheck.integer({ min: 0, max: 25 }),
  FastCheck.integer({ min: 0, max: 61 }),
  FastCheck.integer({ min: 0, max: 61 }),
  FastCheck.constantFrom("T", "t", " ", "_"),
  FastCheck.oneof(fraction, FastCheck.constantFrom(".", ",5", ".-1")),
  FastCheck.oneof(zone, FastCheck.constantFrom("", "+0100", "+01", "UTC", " Z", "+1:00", "GMT"))
).map(([y, mo, d, h, mi, s, t, f, z]) =>
  `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}${t}${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}${f}${z}`
)

/** The service's own form, over a wide range of dates. */
const serviceForm = FastCheck.date({
  min: new Date("0100-01-01T00:00:00Z"),
  max: new Date("9999-12-31T23:59:59Z"),
  noInvalidDate: true
}).map((date) => date.toISOString())

/** One character replaced or inserted: other digits (fullwidth, Arabic-Indic), letters, signs. */
const mutated = FastCheck.tuple(
  FastCheck.oneof(plausibleTimestamp, serviceForm),
  FastCheck.nat(),
  FastCheck.boolean(),
  FastCheck.constantFrom("０", "５", "٣", "a", "-", "+", ":", ".", " ", "Z", "z", "T", "t", "0", "9", "\u0000")
).map(([s, at, insert, c]) => {
  const i = at % (s.length + 1)
  return s.slice(0, i) + c + s.slice(insert ? i : i + 1)
})

/** Timestamps of every form, impossible calendar dates included. */
const anyTimestamp = FastCheck.oneof(
  { weight: 4, arbitrary: plausibleTimestamp },
  { weight: 3, arbitrary: outOfRangeTimestamp },
  { weight: 2, arbitrary: serviceForm },
  { weight: 2, arbitrary: mutated },
  { weight: 1, arbitrary: FastCheck.string({ maxLength: 30 }) }
)

/** What the SDK makes of a timestamp: epoch millis, or "refused" where it throws. */
const sdkMillis = (input: string): number | "refused" => {
  try {
    const date = sdkSerde.parseRfc3339DateTimeWithOffset(input)
    return date === undefined ? "refused" : date.getTime()
  } catch {
    return "refused"
  }
}

const decodeTimestamp = Schema.decodeUnknownEither(Timestamp.Timestamp)

/** `undefined` when the reader, the Schema and the SDK agree on `input`; else what each said. */
const disagreement = (input: string): string | undefined => {
  const expected = sdkMillis(input)
  const schema = decodeTimestamp(input)
  const ours = Timestamp.parseIsoMillis(input) ?? "refused"
  const viaSchema = Either.isRight(schema) ? DateTime.toEpochMillis(schema.right) : "refused"
  return ours === expected && viaSchema === expected
    ? undefined
    : `${JSON.stringify(input)}: SDK ${expected}, parseIsoMillis ${ours}, Schema ${viaSchema}`
}

const expectLikeSdk = (inputs: Iterable<string>) => {
  const disagreements: Array<string> = []
  for (const input of inputs) {
    const problem = disagreement(input)
    if (problem !== undefined) disagreements.push(problem)
  }
  expect(disagreements).toEqual([])
}

describe("timestamps beside the AWS SDK's parseRfc3339DateTimeWithOffset", () => {
  it("the issue's cases", () => {
    expectLikeSdk([
      "2019-12-02t23:59:59z",
      "2019-12-02T23:59:59.1234567891234Z",
      "2019-02-30T00:00:00Z",
      "2019-02-29T00:00:00Z",
      "2019-12-02T24:00:00Z",
      "2016-12-31T23:59:60Z",
      "2019-12-31T23:59:59.99999999999999999Z",
      "0000-02-29T00:00:00Z",
      "2019-12-02T00:00:00+99:99"
    ])
  })

  it("every month and day, at the edges of the calendar", () => {
    const inputs: Array<string> = []
    for (const year of [0, 4, 99, 100, 1900, 1970, 2000, 2019, 2020, 2100, 9999]) {
      for (let month = 0; month <= 13; month++) {
        for (let day = 0; day <= 32; day++) inputs.push(`${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T23:59:59.999Z`)
      }
    }
    expectLikeSdk(inputs)
  })

  it("every three-digit fraction, and longer ones", () => {
    const inputs: Array<string> = []
    for (let ms = 0; ms < 1000; ms++) {
      const digits = pad(ms, 3)
      inputs.push(`2019-12-02T22:29:31.${digits}Z`, `2019-12-02T22:29:31.${digits}${String(ms % 10).repeat(7)}z`)
    }
    expectLikeSdk(inputs)
  })

  it("generated timestamps of every form", () => {
    expectLikeSdk(FastCheck.sample(anyTimestamp, 20_000))
  })
})

// --- bodies -------------------------------------------------------------------------------------

const anyJson = FastCheck.jsonValue({ maxDepth: 2 })
const unicode = FastCheck.string({ unit: "binary", maxLength: 24 })

const stringMember = FastCheck.oneof(
  { weight: 36, arbitrary: unicode },
  { weight: 11, arbitrary: FastCheck.constant(null) },
  { weight: 1, arbitrary: anyJson }
)

const timeMember = FastCheck.oneof(
  { weight: 16, arbitrary: FastCheck.oneof(plausibleTimestamp, serviceForm) },
  { weight: 4, arbitrary: FastCheck.constant(null) },
  { weight: 4, arbitrary: anyTimestamp },
  { weight: 1, arbitrary: anyJson }
)

/** Members the model does not know; `__type` makes the SDK copy them (and nulls) into its output. */
const unknownMembers = FastCheck.dictionary(
  FastCheck.oneof(
    FastCheck.constantFrom("__type", "Extra", "roomId", "name", "Rooms", "NextToken"),
    FastCheck.string({ maxLength: 8 })
  ),
  FastCheck.oneof(FastCheck.string({ maxLength: 8 }), anyJson),
  { maxKeys: 2 }
)

const room = FastCheck.oneof(
  {
    weight: 16,
    arbitrary: FastCheck.tuple(
      FastCheck.record({
        AccountId: stringMember,
        CreatedBy: stringMember,
        CreatedTimestamp: timeMember,
        Name: stringMember,
        RoomId: stringMember,
        UpdatedTimestamp: timeMember
      }, { requiredKeys: [] }),
      FastCheck.oneof({ weight: 3, arbitrary: FastCheck.constant({}) }, { weight: 1, arbitrary: unknownMembers })
    ).map(([known, unknown]) => ({ ...unknown, ...known }))
  },
  { weight: 2, arbitrary: FastCheck.constant(null) },
  { weight: 1, arbitrary: anyJson }
)

const page = FastCheck.tuple(
  FastCheck.record({
    NextToken: FastCheck.oneof(
      { weight: 6, arbitrary: FastCheck.string({ minLength: 1, maxLength: 40 }) },
      { weight: 3, arbitrary: FastCheck.constant(null) },
      { weight: 1, arbitrary: FastCheck.constant("") },
      { weight: 1, arbitrary: unicode },
      { weight: 1, arbitrary: anyJson }
    ),
    Rooms: FastCheck.oneof(
      { weight: 12, arbitrary: FastCheck.array(room, { maxLength: 5 }) },
      { weight: 2, arbitrary: FastCheck.constant(null) },
      { weight: 1, arbitrary: anyJson }
    )
  }, { requiredKeys: [] }),
  FastCheck.oneof({ weight: 3, arbitrary: FastCheck.constant({}) }, { weight: 1, arbitrary: unknownMembers })
).map(([known, unknown]) => ({ ...unknown, ...known }))

/** Generated bodies: mostly pages, sometimes any JSON at all. */
const body = FastCheck.oneof({ weight: 12, arbitrary: page }, { weight: 1, arbitrary: anyJson }).map((value) =>
  JSON.stringify(value)
)

/** A page in plain values, the form both outcomes are compared in. */
interface PlainPage {
  readonly NextToken?: string
  readonly Rooms: ReadonlyArray<Readonly<Record<string, string | number>>>
}

type Outcome =
  | { readonly _tag: "Page"; readonly page: PlainPage }
  | { readonly _tag: "Failed"; readonly reason?: string }

const plainToken = (token: unknown): { NextToken?: string } =>
  // An empty token, like none, ends the listing: the SDK's paginator stops on it too.
  typeof token === "string" && token !== "" ? { NextToken: token } : {}

/**
 * The SDK's output in plain values: a `null` room dropped (the SDK keeps it in the list), a
 * `null` member dropped (the SDK copies one in beside `__type`), unknown members left out.
 */
const plainOfSdk = (output: { readonly NextToken?: unknown; readonly Rooms?: unknown }): PlainPage => ({
  ...plainToken(output.NextToken),
  Rooms: ((output.Rooms ?? []) as ReadonlyArray<Record<string, unknown> | null>).filter((r) => r !== null).map((r) => {
    const out: Record<string, string | number> = {}
    for (const key of STRING_MEMBERS) if (r[key] != null) out[key] = r[key] as string
    for (const key of TIME_MEMBERS) if (r[key] != null) out[key] = (r[key] as Date).getTime()
    return out
  })
})

const plainOfOurs = (
  decoded: { readonly NextToken?: string | undefined; readonly Rooms: ReadonlyArray<Room.Room> }
): PlainPage => ({
  ...plainToken(decoded.NextToken),
  Rooms: decoded.Rooms.map((r) => {
    const out: Record<string, string | number> = {}
    for (const key of STRING_MEMBERS) if (r[key] !== undefined) out[key] = r[key]
    for (const key of TIME_MEMBERS) if (r[key] !== undefined) out[key] = DateTime.toEpochMillis(r[key])
    return out
  })
})

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * Where the SDK hands back a value of the wrong type rather than failing: a body that is not an
 * object (it reads an empty page), a `NextToken` that is not a string, `Rooms` that is not a list,
 * a room that is not an object (kept as it is; an array reads as an empty room), a string member
 * that is not a string. We fail there, on purpose.
 */
const sdkPassesWrongType = (json: unknown): boolean => {
  if (!isObject(json)) return true
  if (json.NextToken != null && typeof json.NextToken !== "string") return true
  const rooms = json.Rooms
  if (rooms == null) return false
  if (!Array.isArray(rooms)) return true
  return rooms.some((r) =>
    r !== null && (!isObject(r) || STRING_MEMBERS.some((k) => r[k] != null && typeof r[k] !== "string"))
  )
}

const parseJson = (text: string): { readonly json: unknown } | undefined => {
  try {
    return { json: JSON.parse(text) }
  } catch {
    return undefined
  }
}

const decodePage = Schema.decodeUnknownEither(ListRoomsResponse.ListRoomsResponse)

describe("response bodies beside the AWS SDK's ListRoomsCommand", () => {
  it.scopedLive("same outcome on the same bytes: the issue's cases and generated bodies", () =>
    Effect.gen(function*() {
      let served: Buffer = Buffer.alloc(0)
      const server = createServer((request, response) => {
        request.resume()
        response.writeHead(200, { "content-type": "application/json", "x-amzn-requestid": "req-differential" })
        response.end(served)
      })
      yield* Effect.acquireRelease(
        Effect.async<void>((resume) => {
          server.listen(0, "127.0.0.1", () => resume(Effect.void))
        }),
        () => Effect.sync(() => server.close())
      )
      const address = server.address()
      const endpoint = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`
      const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "differential-secret" }
      const sdk = yield* Effect.acquireRelease(
        Effect.sync(() => new ChimeClient({ endpoint, region: "us-east-1", maxAttempts: 1, credentials })),
        (client) => Effect.sync(() => client.destroy())
      )
      const serviceOver = (client: Layer.Layer<HttpClient.HttpClient>) =>
        Effect.map(
          Layer.build(
            HttpChimeRooms.layer({ endpoint }).pipe(
              Layer.provide(client),
              Layer.provide(Credentials.layerStatic(credentials))
            )
          ),
          (context) => Context.get(context, ChimeRooms.ChimeRooms)
        )
      // Our undici client takes HttpChimeRooms' fast path; fetch, the general one.
      const ours: ReadonlyArray<readonly [string, ChimeRooms.ChimeRoomsService]> = [
        ["undici", yield* serviceOver(UndiciHttpClient.layer)],
        ["fetch", yield* serviceOver(FetchHttpClient.layer)]
      ]

      /** The SDK's output, or `undefined` where it throws. */
      const sdkOutput = async (): Promise<{ readonly NextToken?: unknown; readonly Rooms?: unknown } | undefined> => {
        try {
          return await sdk.send(new ListRoomsCommand({ AccountId: "acc" }))
        } catch {
          return undefined
        }
      }
      const ourOutcome = async (service: ChimeRooms.ChimeRoomsService): Promise<Outcome> => {
        const exit = await Effect.runPromiseExit(service.listRooms({ AccountId: "acc" }))
        if (Exit.isSuccess(exit)) return { _tag: "Page", page: plainOfOurs(exit.value) }
        const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
        const reason = error?._tag === "ResponseDecodeError" ? error.reason : `not a decode error: ${error?._tag}`
        return { _tag: "Failed", reason }
      }

      /**
       * Serves `text` to the SDK and to us (through undici, and through fetch too when `everyPath`:
       * it is slower); checks ours against the SDK's and returns which kind of outcome it was.
       */
      const compare = async (text: string, everyPath: boolean): Promise<Outcome["_tag"] | "Deviation"> => {
        served = Buffer.from(text, "utf8")
        const theirs = await sdkOutput()
        const parsed = parseJson(text)
        const deviation = theirs !== undefined && parsed !== undefined && sdkPassesWrongType(parsed.json)
        const expected: Outcome = theirs === undefined
          ? { _tag: "Failed" }
          : deviation
          ? { _tag: "Failed", reason: "InvalidShape" }
          : { _tag: "Page", page: plainOfSdk(theirs) }
        for (const [name, service] of everyPath ? ours : ours.slice(0, 1)) {
          const got = await ourOutcome(service)
          if (expected._tag === "Page") expect([name, text, got]).toEqual([name, text, expected])
          else if (expected.reason !== undefined) expect([name, text, got]).toEqual([name, text, expected])
          else {
            const decodeFailure = got._tag === "Failed" && got.reason?.startsWith("not") === false
            expect([name, text, got._tag, decodeFailure]).toEqual([name, text, "Failed", true])
          }
        }
        if (parsed !== undefined) {
          // Core, on the parsed body: the one-pass decoder and the Schema say what the wire path said.
          const fast = ListRoomsResponse.decode(parsed.json)
          const schema = decodePage(parsed.json)
          const expectedCore = expected._tag === "Page" ? Either.right(expected.page) : "fails"
          const plain = (decoded: Either.Either<ListRoomsResponse.ListRoomsResponse, unknown>) =>
            Either.isRight(decoded) ? Either.right(plainOfOurs(decoded.right)) : "fails"
          expect([text, plain(fast)]).toEqual([text, expectedCore])
          expect([text, plain(schema)]).toEqual([text, expectedCore])
        }
        return deviation ? "Deviation" : expected._tag
      }

      const cases = yield* Effect.promise(async () => {
        const outcomes: Array<Outcome["_tag"] | "Deviation"> = []
        for (
          const text of [
            // Nulls: members, Rooms, a room in the list.
            "{\"NextToken\":null,\"Rooms\":[{\"RoomId\":\"r-1\",\"Name\":null,\"CreatedTimestamp\":null}]}",
            "{\"NextToken\":null,\"Rooms\":null}",
            "{\"Rooms\":[null,{\"RoomId\":\"r-2\"},null]}",
            // Unknown members, and the SDK's `__type` copy.
            "{\"Rooms\":[{\"RoomId\":\"r-3\",\"Extra\":{\"a\":[1]},\"__type\":\"Room\",\"Name\":null}],\"Other\":true}",
            // Timestamps the SDK accepts and refuses.
            "{\"Rooms\":[{\"CreatedTimestamp\":\"2019-12-02t23:59:59z\"," +
            "\"UpdatedTimestamp\":\"2019-12-02T23:59:59.1234567891Z\"}]}",
            "{\"Rooms\":[{\"CreatedTimestamp\":\"2016-12-31T23:59:60Z\"}]}",
            "{\"Rooms\":[{\"CreatedTimestamp\":\"2019-02-30T00:00:00Z\"}]}",
            "{\"Rooms\":[{\"CreatedTimestamp\":\"2019-02-29T00:00:00Z\"}]}",
            "{\"Rooms\":[{\"CreatedTimestamp\":\"2019-12-02T24:00:00Z\"}]}",
            "{\"Rooms\":[{\"UpdatedTimestamp\":1575325771}]}",
            // Wrong types the SDK passes on.
            "{\"Rooms\":[{\"Name\":5}]}",
            "{\"NextToken\":5}",
            "{\"Rooms\":\"none\"}",
            "{\"Rooms\":[[]]}",
            "[]",
            "5",
            // Not JSON, empty, null.
            "",
            " ",
            "null",
            "{\"Rooms\":[{\"RoomId\":\"r-1\"}"
          ]
        ) outcomes.push(await compare(text, true))
        return outcomes
      })
      expect(cases).toEqual([
        ...["Page", "Page", "Page", "Page", "Page", "Page", "Failed", "Failed", "Failed", "Failed"],
        ...["Deviation", "Deviation", "Deviation", "Deviation", "Deviation", "Deviation"],
        ...["Page", "Failed", "Failed", "Failed"]
      ])

      // A UTF-8 byte order mark: the SDK's JSON.parse refuses it; we skip it, as fetch's text() does.
      served = Buffer.from("\ufeff{\"Rooms\":[{\"RoomId\":\"r-1\"}]}", "utf8")
      expect(yield* Effect.promise(sdkOutput)).toBeUndefined()
      for (const [name, service] of ours) {
        expect([name, yield* Effect.promise(() => ourOutcome(service))]).toEqual([
          name,
          { _tag: "Page", page: { Rooms: [{ RoomId: "r-1" }] } }
        ])
      }

      const tally = { Page: 0, Failed: 0, Deviation: 0 }
      yield* Effect.promise(() =>
        FastCheck.assert(
          FastCheck.asyncProperty(body, async (text) => {
            tally[await compare(text, false)]++
          }),
          { numRuns: 150 }
        )
      )
      // Every kind of outcome is exercised, not only failures.
      expect(tally.Page).toBeGreaterThan(50)
      expect(tally.Failed).toBeGreaterThan(12)
      expect(tally.Deviation).toBeGreaterThan(10)
    }), { timeout: 60_000 })
})
