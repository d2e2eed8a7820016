/**
 * "List every room" with plain Effect and `@effect/platform`'s `FetchHttpClient`, no chime-rooms: the
 * baseline of the bundle-size table. It does the job the library's program does, the way a careful
 * user would write it by hand: configuration through `Config`, a minimal SigV4 signature on every
 * attempt (`node:crypto`, the `host` / `x-amz-date` / `x-amz-security-token` headers of a GET
 * without a body), `HttpClient.retryTransient` with jittered exponential backoff, the response
 * decoded by a `Schema` (timestamps as `DateTimeUtc`), and `Stream.paginateChunkEffect` over
 * `NextToken`. What it leaves out is what the library adds on top: the endpoint rules and shared
 * config files, credential providers and refresh, clock-skew correction, Retry-After, the rate
 * limiter and retry budget, typed service errors and metrics. Reads `AWS_ENDPOINT_URL_CHIME`,
 * `AWS_REGION`, the credential variables and `CHIME_ACCOUNT_ID`; runs against the emulator.
 *
 * @since 0.1.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Chunk, Config, Effect, Option, Redacted, Schedule, Schema, Stream } from "effect"
import { createHash, createHmac } from "node:crypto"

const Room = Schema.Struct({
  AccountId: Schema.optional(Schema.String),
  CreatedBy: Schema.optional(Schema.String),
  CreatedTimestamp: Schema.optional(Schema.DateTimeUtc),
  Name: Schema.optional(Schema.Redacted(Schema.String)),
  RoomId: Schema.optional(Schema.String),
  UpdatedTimestamp: Schema.optional(Schema.DateTimeUtc)
})

const ListRoomsResponse = Schema.Struct({
  NextToken: Schema.optional(Schema.NullOr(Schema.String)),
  Rooms: Schema.optional(Schema.NullOr(Schema.Array(Schema.NullOr(Room))))
})

const config = Config.all({
  accountId: Config.string("CHIME_ACCOUNT_ID"),
  endpoint: Config.withDefault(Config.string("AWS_ENDPOINT_URL_CHIME"), "https://chime.us-east-1.amazonaws.com"),
  region: Config.withDefault(Config.string("AWS_REGION"), "us-east-1"),
  accessKeyId: Config.string("AWS_ACCESS_KEY_ID"),
  secretAccessKey: Config.redacted("AWS_SECRET_ACCESS_KEY"),
  sessionToken: Config.option(Config.redacted("AWS_SESSION_TOKEN"))
})

type Settings = Config.Config.Success<typeof config>

const hmac = (key: string | Buffer, data: string): Buffer => createHmac("sha256", key).update(data).digest()
const sha256 = (data: string): string => createHash("sha256").update(data).digest("hex")
// RFC 3986 unreserved characters stay; SigV4 wants everything else percent-encoded.
const encode = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

/** SigV4 for a GET without a body: signs `host`, `x-amz-date` and the session token if any. */
const sign = (settings: Settings, request: HttpClientRequest.HttpClientRequest) => {
  const url = new URL(request.url)
  const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, "")
  const day = date.slice(0, 8)
  const headers: Record<string, string> = { host: url.host, "x-amz-date": date }
  if (Option.isSome(settings.sessionToken)) {
    headers["x-amz-security-token"] = Redacted.value(settings.sessionToken.value)
  }
  const names = Object.keys(headers).sort()
  const canonical = [
    "GET",
    // Non-S3 SigV4 encodes the (already encoded) path once more.
    url.pathname.split("/").map(encode).join("/"),
    [...url.searchParams].map(([k, v]) => `${encode(k)}=${encode(v)}`).sort().join("&"),
    names.map((n) => `${n}:${headers[n]}\n`).join(""),
    names.join(";"),
    sha256("")
  ].join("\n")
  const scope = `${day}/${settings.region}/chime/aws4_request`
  const toSign = ["AWS4-HMAC-SHA256", date, scope, sha256(canonical)].join("\n")
  const key = ["chime", "aws4_request"].reduce(
    (k, part) => hmac(k, part),
    hmac(hmac(`AWS4${Redacted.value(settings.secretAccessKey)}`, day), settings.region)
  )
  const signature = createHmac("sha256", key).update(toSign).digest("hex")
  // fetch sends `host` itself.
  const { host: _host, ...sent } = headers
  return HttpClientRequest.setHeaders(request, {
    ...sent,
    authorization: `AWS4-HMAC-SHA256 Credential=${settings.accessKeyId}/${scope}, ` +
      `SignedHeaders=${names.join(";")}, Signature=${signature}`
  })
}

const program = Effect.gen(function*() {
  const settings = yield* config
  const client = (yield* HttpClient.HttpClient).pipe(
    HttpClient.mapRequest((request) => sign(settings, request)),
    HttpClient.filterStatusOk,
    HttpClient.retryTransient({
      schedule: Schedule.exponential("100 millis").pipe(Schedule.jittered, Schedule.upTo("20 seconds")),
      times: 8
    })
  )
  const page = (token: string | undefined) =>
    client.get(
      `${settings.endpoint}/accounts/${encode(settings.accountId)}/rooms?max-results=99` +
        (token === undefined ? "" : `&next-token=${encode(token)}`)
    ).pipe(
      Effect.flatMap(HttpClientResponse.schemaBodyJson(ListRoomsResponse)),
      Effect.map((body) =>
        [
          Chunk.unsafeFromArray((body.Rooms ?? []).filter((room) => room !== null)),
          Option.fromNullable(body.NextToken || undefined)
        ] as const
      )
    )
  const count = yield* Stream.runCount(Stream.paginateChunkEffect(undefined as string | undefined, page))
  process.stdout.write(`${count} rooms\n`)
})

await program.pipe(Effect.provide(FetchHttpClient.layer), Effect.runPromise)
