/**
 * `chime-rooms list`: streams every room of an account to stdout (a table, JSON lines or CSV), with
 * live progress and a summary on stderr, against the embedded emulator (default) or the real
 * service (`--live`), pacing by a limiter of its own or one shared in Redis (`--redis`) with every
 * worker of the account.
 *
 * @since 0.1.0
 */
import type { ChimeError, ListRoomsRequest, Room } from "@chime-rooms/core"
import { HttpChimeRooms } from "@chime-rooms/http"
import { ChimeMetrics, ChimeRoomsStream, Resilience } from "@chime-rooms/stream"
import { Dataset, type Emulator, Fault, FaultScript } from "@chime-rooms/testing"
import { Command, Options } from "@effect/cli"
import { Cause, Clock, Effect, Either, Exit, Fiber, Layer, Option, type Scope, Stream } from "effect"
import { csvHeader, csvLineEnd, csvRow } from "./Csv.js"
import { invalid, valuedNames, withHelp } from "./internal/flags.js"
import * as Service from "./internal/service.js"
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
export interface ListOptions extends Service.ServiceOptions {
  readonly format: Format
  /** Pages requested ahead of the output (0: strict backpressure). */
  readonly prefetch: number
  readonly account?: string
  readonly memberId?: string
  readonly nextToken?: string
}

/**
 * The environment variable `list --live` reads the Redis URL from when `--redis` is not given.
 *
 * @category constants
 * @since 0.2.0
 */
export const redisUrlVariable: typeof Service.redisUrlVariable = Service.redisUrlVariable

const formats: ReadonlyArray<Format> = ["table", "json", "csv"]

const fields = {
  account: Service.accountOption(
    "The account to list (default: the emulator's first account; required with --live)."
  ).pipe(Options.optional),
  memberId: withHelp(Options.text("member-id"), "ID", "Only rooms this user or bot belongs to.").pipe(Options.optional),
  nextToken: withHelp(
    Options.text("next-token"),
    "TOKEN",
    "Resume a listing from this token (printed when a listing fails)."
  ).pipe(Options.optional),
  prefetch: Service.prefetchOption("output", 0),
  format: Options.choice("format", formats).pipe(
    Options.withDescription(
      "table (default), json (one room per line, in the service's field names; nothing else on stdout) " +
        "or csv (RFC 4180 with a header row)."
    ),
    Options.optional
  ),
  json: Options.boolean("json").pipe(Options.withDescription("The same as --format json.")),
  ...Service.serviceFields
}

const raw = Options.all(fields)

type Raw = typeof raw extends Options.Options<infer A> ? A : never

/** The checks across options, and those `validateSendable` cannot make before the account is known. */
const check = (raw: Raw): Either.Either<ListOptions, string> => {
  const format = Option.getOrUndefined(raw.format)
  if (raw.json && format !== undefined && format !== "json") {
    return Either.left(`--json is --format json: it cannot be given with --format ${format}`)
  }
  const account = Option.getOrUndefined(raw.account)
  if (account !== undefined && !/\S/.test(account)) return Either.left("--account must contain a non-space character")
  const service = Service.checkService(raw, account)
  if (Either.isLeft(service)) return Either.left(service.left)
  // On the wire an empty token is no token: the listing would start over, not resume.
  if (Option.getOrUndefined(raw.nextToken) === "") {
    return Either.left("--next-token must not be empty (leave it out to list from the start)")
  }
  return Either.right({
    ...service.right,
    format: raw.json ? "json" : format ?? "table",
    prefetch: Option.getOrElse(raw.prefetch, () => 0),
    ...Service.given<Pick<ListOptions, "account" | "memberId" | "nextToken">>({
      account: raw.account,
      memberId: raw.memberId,
      nextToken: raw.nextToken
    })
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
  "next-token",
  "prefetch",
  "format",
  ...Service.serviceValued
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
  options: Pick<ListOptions, "maxResults" | "memberId" | "nextToken">,
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

const summaryLine = (s: ChimeMetrics.StreamStats, elapsedMs: number) =>
  `${fmt(s.rooms)} rooms in ${fmt(s.pages)} pages · ${fmt(s.requests)} requests · ${fmt(s.retries)} retries · ` +
  `${fmt(s.throttles)} throttles · ${Service.seconds(elapsedMs)}`

const fmt = Service.fmt

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
  target: Service.Target,
  rateLimiter: Service.Limiter
) =>
  Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    const elapsed = Effect.map(Clock.currentTimeMillis, (now) => now - started)
    const writer = writers[options.format]

    if (writer.header !== "") yield* io.out(writer.header)
    const listing = ChimeRoomsStream.pages(request, { prefetch: options.prefetch }).pipe(
      Stream.runForEach((page) => page.rooms.length === 0 ? Effect.void : io.out(writer.page(page.rooms)))
    )
    const progressFiber = yield* Effect.fork(Service.progress(io, elapsed))
    const summary = Effect.gen(function*() {
      yield* Fiber.interrupt(progressFiber)
      const [s, ms] = yield* Effect.zip(ChimeMetrics.snapshot, elapsed)
      io.err(`${Service.clearLine(io)}${summaryLine(s, ms)}\n`)
    })
    // `None`: stopped by the user before the listing ended.
    const outcome = yield* Effect.onInterrupt(
      Effect.raceFirst(Effect.asSome(Effect.exit(listing)), Effect.as(io.stop ?? Effect.never, Option.none())),
      () => summary
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

/**
 * Runs `list` with checked `options` in the current {@link Session}, returning the exit code.
 *
 * @category commands
 * @since 0.1.0
 */
export const list = (options: ListOptions): Effect.Effect<number, never, Session> =>
  Effect.flatMap(Session, ({ embeddedEmulator, io }) => {
    const acquire: Effect.Effect<
      { readonly target: Service.Target; readonly account: string },
      Emulator.EmulatorError | UsageError,
      Scope.Scope
    > = options.live
      ? Effect.map(Service.live(options), (target) => ({ target, account: options.account! }))
      : Effect.map(Service.embedded(embeddedEmulator), ({ accounts, target }) => ({
        target,
        account: options.account ?? accounts[0]!
      }))
    return Effect.scoped(
      Effect.flatMap(acquire, ({ account, target }) =>
        Effect.flatMap(Service.redisOf(options), (redis) => {
          // Checked before the client's layer is built and anything is sent.
          const request = requestOf(options, account)
          if (Either.isLeft(request)) return Effect.sync(() => usageError(io, request.left))
          return listTo(io, options, request.right, target, Service.limiterOf(options, target, redis)).pipe(
            // The limiter could not be built (nothing was sent): a URL that is not one is a usage
            // error naming where it came from; a Redis that cannot be reached, a service error.
            Effect.catchAll((error) =>
              Effect.sync(() =>
                Service.isRedisUsageError(error, redis)
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
