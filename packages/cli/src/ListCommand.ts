/**
 * `chime-rooms list`: streams every room of an account to stdout (a table, JSON lines or CSV), with
 * live progress and a summary on stderr, against the embedded emulator (default) or the real
 * service (`--live`), pacing by a limiter of its own or one shared in Redis (`--redis`) with every
 * worker of the account.
 *
 * @since 0.1.0
 */
import { type ChimeError, ChimeRooms, type ListRoomsRequest, type Room } from "@chime-rooms/core"
import { ChimeConfig, Credentials, CredentialsChain, HttpChimeRooms, UndiciHttpClient } from "@chime-rooms/http"
import { ChimeMetrics, ChimeRateLimiter, ChimeRoomsStream, Resilience } from "@chime-rooms/stream"
import { Dataset, Emulator, Fault, FaultScript } from "@chime-rooms/testing"
import { Command, Options } from "@effect/cli"
import {
  Cause,
  Clock,
  Config,
  ConfigProvider,
  Effect,
  Either,
  Exit,
  Fiber,
  Layer,
  Option,
  Redacted,
  Schedule,
  type Scope,
  Stream
} from "effect"
import { csvHeader, csvLineEnd, csvRow } from "./Csv.js"
import { integer, invalid, positive, valuedNames } from "./internal/flags.js"
import { ExitCode, type Io, Session, UsageError, usageError } from "./Io.js"
import { printable } from "./Printable.js"
import { jsonLine, tableHeader, tableRow } from "./Table.js"

/**
 * How rooms are written to stdout: `table` (fixed-width columns for people), `json` (one room per
 * line in the service's field names) or `csv` (RFC 4180, a header row).
 *
 * @category models
 * @since 0.1.0
 */
export type Format = "table" | "json" | "csv"

/**
 * What `chime-rooms list` was asked to do, every option checked.
 *
 * @category models
 * @since 0.1.0
 */
export interface ListOptions {
  readonly format: Format
  readonly live: boolean
  /** Pages requested ahead of the output (0: strict backpressure). */
  readonly prefetch: number
  readonly account?: string
  readonly memberId?: string
  readonly maxResults?: number
  readonly rate?: number
  readonly endpoint?: string
  readonly region?: string
  readonly profile?: string
  readonly nextToken?: string
  /** With `live`: the Redis whose limiter every worker of the account shares (else {@link redisUrlVariable}). */
  readonly redis?: Redacted.Redacted<string>
  /** With a Redis: who shares the limit (default: the access key id). */
  readonly redisKey?: string
}

/**
 * The environment variable `list --live` reads the Redis URL from when `--redis` is not given.
 *
 * @category constants
 * @since 0.2.0
 */
export const redisUrlVariable = "CHIME_ROOMS_REDIS_URL"

const formats: ReadonlyArray<Format> = ["table", "json", "csv"]

const fields = {
  account: Options.text("account").pipe(
    Options.withPseudoName("ID"),
    Options.withDescription("The account to list (default: the emulator's first account; required with --live)."),
    Options.optional
  ),
  memberId: Options.text("member-id").pipe(
    Options.withPseudoName("ID"),
    Options.withDescription("Only rooms this user or bot belongs to."),
    Options.optional
  ),
  maxResults: integer("max-results", 1, 99).pipe(
    Options.withDescription("The page size asked of the service, from 1 to 99."),
    Options.optional
  ),
  nextToken: Options.text("next-token").pipe(
    Options.withPseudoName("TOKEN"),
    Options.withDescription("Resume a listing from this token (printed when a listing fails)."),
    Options.optional
  ),
  rate: positive("rate", " of requests per second").pipe(
    Options.withDescription(
      "A fixed rate limit in requests per second (default: adaptive). With a Redis (--redis): the account-wide " +
        "rate, shared by every worker and paced evenly."
    ),
    Options.optional
  ),
  prefetch: integer("prefetch", 0, 100).pipe(
    Options.withDescription("Pages requested ahead of the output, from 0 to 100 (default 0: strict backpressure)."),
    Options.optional
  ),
  format: Options.choice("format", formats).pipe(
    Options.withDescription(
      "table (default), json (one room per line, in the service's field names; nothing else on stdout) " +
        "or csv (RFC 4180 with a header row)."
    ),
    Options.optional
  ),
  json: Options.boolean("json").pipe(Options.withDescription("The same as --format json.")),
  live: Options.boolean("live").pipe(
    Options.withDescription("Use the real service, with the AWS default credential chain (environment first).")
  ),
  endpoint: Options.text("endpoint").pipe(
    Options.withPseudoName("URL"),
    Options.withDescription("With --live: a custom endpoint (for example a separate `chime-rooms emulator`)."),
    Options.optional
  ),
  region: Options.text("region").pipe(
    Options.withPseudoName("REGION"),
    Options.withDescription("With --live: the region (default: AWS_REGION or the AWS profile's, else us-east-1)."),
    Options.optional
  ),
  profile: Options.text("profile").pipe(
    Options.withPseudoName("NAME"),
    Options.withDescription(
      "With --live: the AWS profile (as AWS_PROFILE) for the credentials and the shared config files' settings."
    ),
    Options.optional
  ),
  redis: Options.redacted("redis").pipe(
    Options.withPseudoName("URL"),
    Options.withDescription(
      `With --live: redis://[user:password@]host[:port][/db] (or rediss:// for TLS), where the rate limiter lives ` +
        `that every worker listing the account shares (default: ${redisUrlVariable}; without either, a limiter of ` +
        "this process's own). The URL is never printed."
    ),
    Options.optional
  ),
  redisKey: Options.text("redis-key").pipe(
    Options.withPseudoName("KEY"),
    Options.withDescription(
      "With a Redis: who shares the limit (default: the access key id; set it, for example to the AWS account id, " +
        "when workers sign with temporary credentials, whose access key id changes with every session)."
    ),
    Options.optional
  )
}

const raw = Options.all(fields)

type Raw = typeof raw extends Options.Options<infer A> ? A : never

/** The checks across options, and those `validateSendable` cannot make before the account is known. */
const check = (raw: Raw): Either.Either<ListOptions, string> => {
  const format = Option.getOrUndefined(raw.format)
  if (raw.json && format !== undefined && format !== "json") {
    return Either.left(`--json is --format json: it cannot be given with --format ${format}`)
  }
  const endpoint = Option.getOrUndefined(raw.endpoint)
  if (endpoint !== undefined) {
    if (!raw.live) return Either.left("--endpoint needs --live (without it the embedded emulator is used)")
    if (!URL.canParse(endpoint) || !/^https?:$/.test(new URL(endpoint).protocol)) {
      return Either.left(`--endpoint must be an http(s) URL, got ${JSON.stringify(endpoint)}`)
    }
  }
  if (Option.isSome(raw.region) && !raw.live) return Either.left("--region needs --live")
  if (Option.isSome(raw.profile) && !raw.live) return Either.left("--profile needs --live")
  // The embedded emulator is this process's own: there is no limit to share with anyone.
  if (Option.isSome(raw.redis) && !raw.live) return Either.left("--redis needs --live")
  if (Option.isSome(raw.redisKey) && !raw.live) return Either.left("--redis-key needs --live")
  if (Option.isSome(raw.redisKey) && !/\S/.test(raw.redisKey.value)) {
    return Either.left("--redis-key must contain a non-space character")
  }
  if (Option.isSome(raw.profile) && !/\S/.test(raw.profile.value)) {
    return Either.left("--profile must contain a non-space character")
  }
  const account = Option.getOrUndefined(raw.account)
  if (account !== undefined && !/\S/.test(account)) return Either.left("--account must contain a non-space character")
  if (raw.live && account === undefined) return Either.left("--live needs --account ID")
  // On the wire an empty token is no token: the listing would start over, not resume.
  if (Option.getOrUndefined(raw.nextToken) === "") {
    return Either.left("--next-token must not be empty (leave it out to list from the start)")
  }
  const optional = <K extends keyof ListOptions>(key: K, value: Option.Option<NonNullable<ListOptions[K]>>) =>
    Option.isSome(value) ? { [key]: value.value } : {}
  return Either.right({
    format: raw.json ? "json" : format ?? "table",
    live: raw.live,
    prefetch: Option.getOrElse(raw.prefetch, () => 0),
    ...optional("account", raw.account),
    ...optional("memberId", raw.memberId),
    ...optional("maxResults", raw.maxResults),
    ...optional("rate", raw.rate),
    ...optional("endpoint", raw.endpoint),
    ...optional("region", raw.region),
    ...optional("profile", raw.profile),
    ...optional("nextToken", raw.nextToken),
    ...optional("redis", raw.redis),
    ...optional("redisKey", raw.redisKey)
  })
}

/**
 * The options of `list`, checked: a bad one is a validation error of `@effect/cli`.
 *
 * @category commands
 * @since 0.1.0
 */
export const listOptions: Options.Options<ListOptions> = raw.pipe(
  Options.mapEffect((raw) => Either.mapLeft(check(raw), invalid))
)

/**
 * The options of `list` that take a value, as `--name`.
 *
 * @category constants
 * @since 0.1.0
 */
export const listValued: ReadonlySet<string> = valuedNames([
  "account",
  "member-id",
  "max-results",
  "next-token",
  "rate",
  "prefetch",
  "format",
  "endpoint",
  "region",
  "profile",
  "redis",
  "redis-key"
])

/** The option each request member comes from, to name it in a refusal. */
const flagOf: Record<string, string> = {
  AccountId: "--account",
  MaxResults: "--max-results",
  MemberId: "--member-id",
  NextToken: "--next-token"
}

/**
 * The request `options` ask for on `account`, checked as the client checks it before sending
 * (`HttpChimeRooms.validateSendable`: the service's rules, and what a URL cannot carry such as an
 * account `.` or `..`), so that a request that could never be sent is a usage error naming its
 * option, before any request.
 *
 * @category validation
 * @since 0.1.0
 */
export const requestOf = (
  options: ListOptions,
  account: string
): Either.Either<ListRoomsRequest.ListRoomsRequest, UsageError> =>
  Either.mapLeft(
    HttpChimeRooms.validateSendable({
      AccountId: account,
      ...(options.maxResults === undefined ? {} : { MaxResults: options.maxResults }),
      ...(options.memberId === undefined ? {} : { MemberId: options.memberId }),
      ...(options.nextToken === undefined ? {} : { NextToken: options.nextToken })
    }),
    (error) => new UsageError({ message: `${flagOf[error.field] ?? error.field} ${error.rule}` })
  )

/**
 * The embedded emulator of `chime-rooms list`: a few accounts of seeded rooms, a server-side rate
 * limit, and 503s on a few calls so that retries and throttling show in the progress line.
 *
 * @category constants
 * @since 0.1.0
 */
export const embeddedEmulator: Emulator.EmulatorOptions = {
  dataset: Dataset.generate({ seed: 2026, accounts: 3, roomsPerAccount: 2500, membersPerAccount: 40 }),
  pageSize: 50,
  // A fixed token secret: a `--next-token` printed by one run is honoured by the next run's emulator.
  tokenSecret: "chime-rooms embedded emulator",
  rateLimit: { rate: 25, burst: 5 },
  faults: FaultScript.make({
    seed: 2026,
    rules: [{ calls: [4, 17, 18], fault: Fault.unavailable() }, { calls: [30], fault: Fault.unavailable("1 second") }]
  })
}

interface Target {
  /** The client; it signs with `credentials`, which a Redis limiter also reads its default key from. */
  readonly chime: Layer.Layer<ChimeRooms.ChimeRooms, never, Credentials.Credentials>
  readonly credentials: Layer.Layer<Credentials.Credentials>
  /** The endpoint the client calls: half of what names a shared limit. */
  readonly endpoint: string
  readonly account: string
}

/** The emulator in this scope, and a client signing for its region. */
const embedded = (options: ListOptions, emulatorOptions: Emulator.EmulatorOptions) =>
  Effect.map(Emulator.make(emulatorOptions), (emulator): Target => ({
    account: options.account ?? emulator.accounts[0]!,
    endpoint: emulator.endpoint,
    credentials: Credentials.layerStatic(emulator.credentials),
    chime: HttpChimeRooms.layer({ endpoint: emulator.endpoint, region: emulator.region }).pipe(
      // The emulator's endpoint and region always resolve: a refusal here would be a defect.
      Layer.orDie,
      Layer.provide(UndiciHttpClient.layer)
    )
  }))

/**
 * The real service (or `--endpoint`), the AWS default credential chain; the settings as the AWS SDK
 * reads them (environment, then the shared config files' profile: `--profile`, else `AWS_PROFILE`),
 * the flags over them. Settings that cannot be read or lead to no endpoint are a usage error,
 * reported before anything is sent.
 */
const live = (options: ListOptions): Effect.Effect<Target, UsageError> => {
  const config = options.profile === undefined
    ? ChimeConfig.loadInput
    : Effect.withConfigProvider(
      ChimeConfig.loadInput,
      ConfigProvider.fromMap(new Map([["AWS_PROFILE", options.profile]])).pipe(
        ConfigProvider.orElse(() => ConfigProvider.fromEnv())
      )
    )
  return Effect.flatMap(config, (input) =>
    Effect.map(
      ChimeConfig.make({
        ...input,
        ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
        ...(options.region === undefined ? {} : { region: options.region })
      }),
      (resolved): Target => ({
        account: options.account!,
        endpoint: resolved.endpoint,
        credentials: CredentialsChain.layer(options.profile === undefined ? undefined : { profile: options.profile }),
        chime: Layer.effect(ChimeRooms.ChimeRooms, HttpChimeRooms.make(resolved)).pipe(
          Layer.provide(UndiciHttpClient.layer)
        )
      })
    )).pipe(
      Effect.mapError((error) =>
        new UsageError({
          message: printable(
            error._tag === "EndpointConfigError"
              ? `No endpoint for this configuration: ${error.message}`
              : `Cannot read the configuration: ${String(error)}`
          )
        })
      )
    )
}

const fmt = (n: number) => n.toLocaleString("en-US")
const rateText = (rate: number | undefined) => (rate === undefined ? "unlimited" : `${rate.toFixed(1)} req/s`)

const progressLine = (s: ChimeMetrics.StreamStats, elapsedMs: number) =>
  `pages ${fmt(s.pages)} · rooms ${fmt(s.rooms)} · ` +
  `${fmt(Math.round(s.rooms / Math.max(elapsedMs / 1000, 0.001)))} rooms/s · ` +
  `retries ${fmt(s.retries)} · throttles ${fmt(s.throttles)} · limiter ${rateText(s.currentRate)}`

const summaryLine = (s: ChimeMetrics.StreamStats, elapsedMs: number) =>
  `${fmt(s.rooms)} rooms in ${fmt(s.pages)} pages · ${fmt(s.requests)} requests · ${fmt(s.retries)} retries · ` +
  `${fmt(s.throttles)} throttles · ${(elapsedMs / 1000).toFixed(2)} s`

/**
 * A one-line account of an error that survived the retries: its name, request id and message, the
 * service's text made printable.
 *
 * @category formatting
 * @since 0.1.0
 */
export const errorLine = (error: ChimeError.ChimeError): string => {
  const requestId = "requestId" in error && error.requestId !== undefined ? error.requestId : "none"
  return printable(`Error: ${error._tag} (request id ${requestId}): ${error.message}`)
}

/** The line that tells how to go on after a failure; the token is the service's text, made printable. */
const resumeLine = (error: ChimeError.ChimeError): string =>
  error.resumeToken === undefined
    ? "No page was received: run the same command again to retry."
    : `Resume with: --next-token ${printable(error.resumeToken)}`

/** What stdout gets: the text before the first room, and a page of rooms. */
const writers: Record<Format, { readonly header: string; readonly page: (rooms: ReadonlyArray<Room.Room>) => string }> =
  {
    table: { header: `${tableHeader()}\n`, page: (rooms) => rooms.map(tableRow).join("\n") + "\n" },
    json: { header: "", page: (rooms) => rooms.map(jsonLine).join("\n") + "\n" },
    csv: {
      header: csvHeader() + csvLineEnd,
      page: (rooms) => rooms.map(csvRow).join(csvLineEnd) + csvLineEnd
    }
  }

/**
 * Lists the rooms of `target` to `io`, returning the exit code. Stopped (`io.stop`) or interrupted,
 * it prints the summary first.
 */
const listTo = (
  io: Io,
  options: ListOptions,
  request: ListRoomsRequest.ListRoomsRequest,
  target: Target,
  rateLimiter: Limiter
) =>
  Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    const elapsed = Effect.map(Clock.currentTimeMillis, (now) => now - started)
    const clearLine = io.errIsTty ? "\r\u001b[K" : ""
    const writer = writers[options.format]

    if (writer.header !== "") yield* io.out(writer.header)
    const listing = ChimeRoomsStream.pages(request, { prefetch: options.prefetch }).pipe(
      Stream.runForEach((page) => page.rooms.length === 0 ? Effect.void : io.out(writer.page(page.rooms)))
    )
    const progress = io.errIsTty
      ? Effect.repeat(
        Effect.flatMap(Effect.zip(ChimeMetrics.snapshot, elapsed), ([s, ms]) =>
          Effect.sync(() => io.err(`${clearLine}${progressLine(s, ms)}`))),
        Schedule.spaced("150 millis")
      )
      : Effect.never
    const progressFiber = yield* Effect.fork(progress)
    const summary = Effect.gen(function*() {
      yield* Fiber.interrupt(progressFiber)
      const [s, ms] = yield* Effect.zip(ChimeMetrics.snapshot, elapsed)
      io.err(`${clearLine}${summaryLine(s, ms)}\n`)
    })
    // `None`: stopped by the user before the listing ended.
    const outcome = yield* Effect.onInterrupt(
      Effect.raceFirst(Effect.asSome(Effect.exit(listing)), Effect.as(io.stop ?? Effect.never, Option.none())),
      () =>
        summary
    )
    yield* summary
    if (Option.isNone(outcome)) return ExitCode.interrupted
    const exit = outcome.value
    if (Exit.isSuccess(exit)) return ExitCode.ok
    const failure = Cause.failureOption(exit.cause)
    if (Option.isNone(failure)) return yield* Effect.failCause(exit.cause)
    const error = failure.value
    return failed(io, error)
  }).pipe(
    // The client and the limiter sign and key with the same credentials, resolved once.
    Effect.provide(
      Layer.merge(Resilience.layer({ rateLimiter }), target.chime).pipe(Layer.provide(target.credentials))
    )
  )

/** Prints an error that ends the listing, and how to go on; returns its exit code. */
const failed = (io: Io, error: ChimeError.ChimeError): number => {
  io.err(`${errorLine(error)}\n${resumeLine(error)}\n`)
  return ExitCode.serviceError
}

/** The rate limiter of a listing: one of this process's own, or one in Redis (whose layer may fail). */
type Limiter = Layer.Layer<
  ChimeRateLimiter.ChimeRateLimiter,
  ChimeError.RateLimiterError | ChimeError.CredentialsError,
  Credentials.Credentials
>

/** Where the shared limiter lives, and which setting said so (to name it in a refusal). */
interface Redis {
  readonly url: Redacted.Redacted<string>
  readonly source: string
}

/**
 * The Redis of a `--live` listing: `--redis`, else {@link redisUrlVariable} (empty is unset). The
 * embedded emulator is this process's own: its listing never shares a limit.
 */
const redisOf = (options: ListOptions): Effect.Effect<Option.Option<Redis>, UsageError> => {
  if (!options.live) return Effect.succeed(Option.none())
  if (options.redis !== undefined) return Effect.succeed(Option.some({ url: options.redis, source: "--redis" }))
  return Config.option(Config.redacted(redisUrlVariable)).pipe(
    Effect.map(Option.filter((url) => Redacted.value(url) !== "")),
    Effect.mapError(() => new UsageError({ message: `Cannot read ${redisUrlVariable}` })),
    Effect.flatMap((url) =>
      Option.isNone(url) && options.redisKey !== undefined
        ? Effect.fail(new UsageError({ message: `--redis-key needs --redis (or ${redisUrlVariable})` }))
        : Effect.succeed(Option.map(url, (url) => ({ url, source: redisUrlVariable })))
    )
  )
}

/**
 * The limiter: `--rate` fixed or the default adaptive one, this process's own or (with a Redis)
 * shared by every worker calling `target` with the same key. A shared fixed rate is paced evenly
 * (a burst of 1): N workers at once would otherwise spend a burst N times faster than one does.
 */
const limiterOf = (options: ListOptions, target: Target, redis: Option.Option<Redis>): Limiter =>
  Option.match(redis, {
    onNone: () =>
      options.rate === undefined
        ? ChimeRateLimiter.layerAdaptive()
        : ChimeRateLimiter.layerFixed({ rate: options.rate, burst: Math.max(1, Math.floor(options.rate)) }),
    onSome: ({ url }) =>
      // Loaded only when used: Redis's client would add to every start-up (measured: 1.3 s to 1.2 s for --version).
      Layer.unwrapEffect(Effect.map(Effect.promise(() => import("@chime-rooms/redis")), ({ RedisRateLimiter }) =>
        RedisRateLimiter.layer({
          url,
          endpoint: target.endpoint,
          ...(options.redisKey === undefined ? {} : { key: options.redisKey }),
          mode: options.rate === undefined ? { kind: "adaptive" } : { kind: "fixed", rate: options.rate, burst: 1 }
        })))
  })

/**
 * Runs `list` with checked `options` in the current {@link Session}, returning the exit code.
 *
 * @category commands
 * @since 0.1.0
 */
export const list = (options: ListOptions): Effect.Effect<number, never, Session> =>
  Effect.flatMap(Session, ({ embeddedEmulator, io }) => {
    const acquire: Effect.Effect<Target, Emulator.EmulatorError | UsageError, Scope.Scope> = options.live
      ? live(options)
      : embedded(options, embeddedEmulator)
    return Effect.scoped(
      Effect.flatMap(acquire, (target) =>
        Effect.flatMap(redisOf(options), (redis) => {
          // Checked before the client's layer is built and anything is sent.
          const request = requestOf(options, target.account)
          if (Either.isLeft(request)) return Effect.sync(() => usageError(io, request.left))
          return listTo(io, options, request.right, target, limiterOf(options, target, redis)).pipe(
            // The limiter could not be built (nothing was sent): a URL that is not one is a usage
            // error naming where it came from; a Redis that cannot be reached, a service error.
            Effect.catchAll((error) =>
              Effect.sync(() =>
                error._tag === "RateLimiterError" && error.reason === "Configuration" && Option.isSome(redis)
                  ? usageError(io, new UsageError({ message: printable(`${redis.value.source}: ${error.message}`) }))
                  : failed(io, error)
              )
            )
          )
        })).pipe(Effect.catchTag("UsageError", (error) => Effect.sync(() => usageError(io, error))))
    )
  }).pipe(
    // An embedded emulator that cannot start is a defect of ours: reported as one, exit 1.
    Effect.orDie
  )

/**
 * The `list` subcommand.
 *
 * @category commands
 * @since 0.1.0
 */
export const listCommand = Command.make(
  "list",
  { options: listOptions },
  ({ options }) => Effect.flatMap(list(options), (code) => Effect.flatMap(Session, (session) => session.exit(code)))
).pipe(
  Command.withDescription(
    "Lists every room of an Amazon Chime account as a stream: rooms on stdout, live progress (when stderr is a " +
      "terminal) and a summary on stderr. Without --live it starts an embedded emulator (seeded rooms, a " +
      "server-side rate limit and a few injected 503s) and lists from it. Exit codes: 0 done, 1 a service error " +
      "survived the retries (the rooms received are printed first, then the error and the token to resume from), " +
      "2 bad arguments or configuration, 130 interrupted."
  )
)
