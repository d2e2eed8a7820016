/**
 * `chime-rooms export`: exports every room of one or more accounts into SQLite or PostgreSQL,
 * exactly once and resumable (`@chime-rooms/sql`): each page's rooms and the token after them are
 * committed together, so the same command run again after a failure or a kill goes on from there.
 * Against the embedded emulator (default: every account of it) or the real service (`--live`).
 *
 * @since 0.3.0
 */
import type { ChimeError } from "@chime-rooms/core"
import type { RoomStore, SqlExport, SqlExportError } from "@chime-rooms/sql"
import { Resilience } from "@chime-rooms/stream"
import type { Emulator } from "@chime-rooms/testing"
import { Command, Options } from "@effect/cli"
import type { SqlClient } from "@effect/sql"
import { Cause, Clock, Data, Effect, Either, Exit, Fiber, Layer, Option, Redacted, type Scope } from "effect"
import { resolve } from "node:path"
import { integer, invalid, valuedNames, withHelp } from "./internal/flags.js"
import * as Service from "./internal/service.js"
import { ExitCode, type Io, Session, UsageError, usageError } from "./Io.js"
import { errorLine, requestOf } from "./ListCommand.js"
import { printable } from "./Printable.js"

/**
 * Where the rooms go: a SQLite file (an absolute path) or a PostgreSQL server.
 *
 * @category models
 * @since 0.3.0
 */
export type Database =
  | { readonly _tag: "Sqlite"; readonly file: string }
  | { readonly _tag: "Postgres"; readonly url: Redacted.Redacted<string> }

/**
 * What `chime-rooms export` was asked to do, every option checked.
 *
 * @category models
 * @since 0.3.0
 */
export interface ExportOptions extends Service.ServiceOptions {
  /** The accounts, each once, in the order given; empty: every account of the embedded emulator. */
  readonly accounts: ReadonlyArray<string>
  readonly database: Database
  /** Accounts exported at once. */
  readonly concurrency: number
  /** When another export holds an account: wait for it (else refuse). */
  readonly wait: boolean
  /** Pages requested ahead of the database (default: the export's, 2). */
  readonly prefetch?: number
}

/**
 * The database `export` writes to without `--database`: `chime-rooms.db` in the current directory.
 *
 * @category constants
 * @since 0.3.0
 */
export const defaultDatabase = "sqlite:./chime-rooms.db"

const fields = {
  accounts: Service.accountOption(
    "An account to export; repeatable (default: every account of the embedded emulator; required with --live)."
  ).pipe(Options.repeated),
  database: withHelp(
    Options.redacted("database"),
    "URL",
    `sqlite:PATH (a relative PATH from the current directory) or postgres://[user[:password]@]host[:port]/db ` +
      `(also postgresql://) (default: ${defaultDatabase}). The password is never printed.`
  ).pipe(Options.optional),
  concurrency: integer("concurrency", 1, 64).pipe(
    Options.withDescription(
      "Accounts exported at once, from 1 to 64 (default 1); they share one rate limiter and one database writer."
    ),
    Options.optional
  ),
  wait: Options.boolean("wait").pipe(
    Options.withDescription("When another export holds an account, wait for it to end (default: refuse, exit 1).")
  ),
  prefetch: Service.prefetchOption("database", 2),
  ...Service.serviceFields
}

const raw = Options.all(fields)

type Raw = typeof raw extends Options.Options<infer A> ? A : never

/** `--database`'s value, checked; never quoted back, since it may hold a password. */
const databaseOf = (value: Redacted.Redacted<string>): Either.Either<Database, string> => {
  const text = Redacted.value(value)
  if (text.startsWith("sqlite:")) {
    const path = text.slice("sqlite:".length)
    if (path === "") return Either.left("--database sqlite: needs a path, as in sqlite:./rooms.db")
    return Either.right({ _tag: "Sqlite", file: resolve(path) })
  }
  if (/^postgres(ql)?:\/\//.test(text)) {
    if (!URL.canParse(text)) return Either.left("--database is not a valid postgres:// URL")
    return Either.right({ _tag: "Postgres", url: value })
  }
  return Either.left("--database must be sqlite:PATH, postgres://… or postgresql://…")
}

const check = (raw: Raw): Either.Either<ExportOptions, string> => {
  const blank = raw.accounts.find((account) => !/\S/.test(account))
  if (blank !== undefined) return Either.left("--account must contain a non-space character")
  const service = Service.checkService(raw, raw.accounts[0])
  if (Either.isLeft(service)) return Either.left(service.left)
  const database = databaseOf(Option.getOrElse(raw.database, () => Redacted.make(defaultDatabase)))
  if (Either.isLeft(database)) return Either.left(database.left)
  return Either.right({
    ...service.right,
    accounts: [...new Set(raw.accounts)],
    database: database.right,
    concurrency: Option.getOrElse(raw.concurrency, () => 1),
    wait: raw.wait,
    ...Service.given<Pick<ExportOptions, "prefetch">>({ prefetch: raw.prefetch })
  })
}

/**
 * The options of `export`, checked: a bad one is a validation error of `@effect/cli`.
 *
 * @category commands
 * @since 0.3.0
 */
export const exportOptions: Options.Options<ExportOptions> = raw.pipe(
  Options.mapEffect((raw) => Either.mapLeft(check(raw), invalid))
)

/**
 * The options of `export` that take a value, as `--name`, and those that may be repeated.
 *
 * @category constants
 * @since 0.3.0
 */
export const exportValued: { readonly valued: ReadonlySet<string>; readonly repeatable: ReadonlySet<string> } = {
  valued: valuedNames(["account", "database", "concurrency", "prefetch", ...Service.serviceValued]),
  repeatable: valuedNames(["account"])
}

/**
 * The database as messages name it: a SQLite file's path, a PostgreSQL URL without its password
 * and its query (which may hold one too).
 *
 * @category formatting
 * @since 0.3.0
 */
export const databaseName = (database: Database): string => {
  if (database._tag === "Sqlite") return `sqlite:${database.file}`
  const url = new URL(Redacted.value(database.url))
  url.password = ""
  url.search = ""
  url.hash = ""
  return url.href
}

/** A database's message, with the password taken out should the driver quote it. */
const scrub = (database: Database, message: string): string => {
  if (database._tag === "Sqlite") return printable(message)
  const url = new URL(Redacted.value(database.url))
  const secrets = [url.password, ...url.searchParams.getAll("password")].flatMap((secret) => {
    try {
      return [secret, decodeURIComponent(secret)]
    } catch {
      return [secret]
    }
  }).filter((secret) => secret !== "")
  return printable(secrets.reduce((text, secret) => text.split(secret).join("<password>"), message))
}

/** The database could not be opened or brought up to date: nothing was exported. */
class DatabaseError extends Data.TaggedError("DatabaseError")<{ readonly message: string }> {}

/**
 * The store on `database`, its drivers loaded only now: `list`'s start-up does not pay for them.
 */
const storeOf = (
  database: Database
): Layer.Layer<RoomStore.RoomStore, DatabaseError> => {
  const client: Layer.Layer<SqlClient.SqlClient, string> = database._tag === "Sqlite"
    ? Layer.unwrapEffect(
      Effect.map(Effect.promise(() => import("./internal/sqlite.js")), (sqlite) => sqlite.layer(database.file))
    )
    : Layer.unwrapEffect(
      Effect.map(
        Effect.promise(() => import("@effect/sql-pg")),
        ({ PgClient }) => PgClient.layer({ url: database.url }).pipe(Layer.mapError((error) => error.message))
      )
    )
  return Layer.unwrapEffect(
    Effect.map(Effect.promise(() => import("@chime-rooms/sql")), ({ RoomStore }) =>
      RoomStore.layer().pipe(
        Layer.mapError((error) => error.message),
        Layer.provide(client)
      ))
  ).pipe(
    Layer.mapError((message) =>
      new DatabaseError({
        message: `Cannot open the database ${databaseName(database)}: ${scrub(database, message)}`
      })
    )
  )
}

/** What became of one account. */
type Outcome =
  | { readonly _tag: "Done"; readonly summary: SqlExport.ExportSummary }
  | { readonly _tag: "Failed" }

/** An account's line (`note`: its snapshot), or the total's (`note`: the accounts). */
const summaryLine = (
  name: string,
  s: Pick<SqlExport.ExportSummary, "stored" | "unkeyed" | "notSeen" | "pages">,
  ms: number,
  note: string
) =>
  `${name}: ${Service.fmt(s.stored)} rooms stored (${note}) · ${Service.fmt(s.unkeyed)} without RoomId · ` +
  `${Service.fmt(s.notSeen)} no longer listed · ${Service.fmt(s.pages)} pages · ${Service.seconds(ms)}`

/** The lines an account's failure prints. */
const failureLines = (error: ChimeError.ChimeError | SqlExportError.SqlExportError): string => {
  switch (error._tag) {
    case "ExportBusyError":
      return `${printable(error.message)}\nRun it again once that export ends, or pass --wait.`
    case "ExportStoreError":
    case "ExportLeaseLostError":
      return printable(error.message)
    default:
      return `${errorLine(error)}\nRun the same command again to resume from the checkpoint.`
  }
}

/**
 * Exports `accounts` of `target` into the store, `concurrency` at once, one limiter for all;
 * returns the exit code. Stopped (`io.stop`), it prints the summaries so far and returns 130.
 */
const exportTo = (
  io: Io,
  options: ExportOptions,
  accounts: ReadonlyArray<string>,
  target: Service.Target,
  rateLimiter: Service.Limiter
) =>
  Effect.gen(function*() {
    const { SqlExport } = yield* Effect.promise(() => import("@chime-rooms/sql"))
    const started = yield* Clock.currentTimeMillis
    const elapsed = Effect.map(Clock.currentTimeMillis, (now) => now - started)
    const progressFiber = yield* Effect.fork(Service.progress(io, elapsed))
    const line = (text: string) => io.err(`${Service.clearLine(io)}${text}\n`)
    const one = (account: string) =>
      Effect.gen(function*() {
        const begun = yield* Clock.currentTimeMillis
        const exit = yield* Effect.exit(SqlExport.exportRooms(
          { AccountId: account, ...(options.maxResults === undefined ? {} : { MaxResults: options.maxResults }) },
          {
            onBusy: options.wait ? "wait" : "fail",
            onWait: (busy) => Effect.sync(() => line(`${printable(busy.message)}; waiting for it to end`)),
            ...(options.prefetch === undefined ? {} : { prefetch: options.prefetch })
          }
        ))
        const name = printable(account)
        if (Exit.isSuccess(exit)) {
          const summary = exit.value
          const ms = (yield* Clock.currentTimeMillis) - begun
          line(summaryLine(name, summary, ms, `snapshot ${summary.snapshot}${summary.resumed ? ", resumed" : ""}`))
          return { _tag: "Done", summary } as Outcome
        }
        // Only failures are an account's: a defect or an interruption goes on up.
        const failure = Cause.failureOrCause(exit.cause)
        if (Either.isRight(failure)) return yield* Effect.failCause(failure.right)
        line(`${name}: ${failureLines(failure.left)}`)
        return { _tag: "Failed" } as Outcome
      })
    const outcomes: Array<Outcome> = []
    const all = Effect.forEach(accounts, (account) => Effect.map(one(account), (o) => void outcomes.push(o)), {
      concurrency: options.concurrency,
      discard: true
    })
    const stopped = yield* Effect.raceFirst(Effect.as(all, false), Effect.as(io.stop ?? Effect.never, true))
    yield* Fiber.interrupt(progressFiber)
    const done = outcomes.flatMap((o) => (o._tag === "Done" ? [o] : []))
    if (stopped) line(`Stopped: ${done.length} of ${accounts.length} accounts done; the same command resumes the rest.`)
    if (accounts.length > 1) {
      const sum = (key: "stored" | "unkeyed" | "notSeen" | "pages") => done.reduce((n, o) => n + o.summary[key], 0)
      const failed = outcomes.length - done.length
      line(summaryLine(
        "total",
        { stored: sum("stored"), unkeyed: sum("unkeyed"), notSeen: sum("notSeen"), pages: sum("pages") },
        yield* elapsed,
        `${done.length} of ${accounts.length} accounts${failed > 0 ? `, ${failed} failed` : ""}`
      ))
    }
    if (stopped) return ExitCode.interrupted
    return done.length === accounts.length ? ExitCode.ok : ExitCode.serviceError
  }).pipe(
    // The client and the limiter sign and key with the same credentials, resolved once.
    Effect.provide(
      Layer.merge(Resilience.layer({ rateLimiter }), target.chime).pipe(Layer.provide(target.credentials))
    )
  )

/**
 * Runs `export` with checked `options` in the current {@link Session}, returning the exit code.
 *
 * @category commands
 * @since 0.3.0
 */
export const exportAccounts = (options: ExportOptions): Effect.Effect<number, never, Session> =>
  Effect.flatMap(Session, ({ embeddedEmulator, io }) => {
    const acquire: Effect.Effect<
      { readonly target: Service.Target; readonly accounts: ReadonlyArray<string> },
      Emulator.EmulatorError | UsageError,
      Scope.Scope
    > = options.live
      ? Effect.map(Service.live(options), (target) => ({ target, accounts: options.accounts }))
      : Effect.map(Service.embedded(embeddedEmulator), ({ accounts, target }) => ({
        target,
        accounts: options.accounts.length > 0 ? options.accounts : accounts
      }))
    return Effect.scoped(Effect.gen(function*() {
      const { accounts, target } = yield* acquire
      // Checked before anything is opened or sent.
      for (const account of accounts) {
        const request = requestOf(options, account)
        if (Either.isLeft(request)) return yield* request.left
      }
      const redis = yield* Service.redisOf(options)
      const store = yield* Layer.build(storeOf(options.database))
      return yield* exportTo(io, options, accounts, target, Service.limiterOf(options, target, redis)).pipe(
        Effect.provide(store),
        Effect.catchAll((error) =>
          Effect.sync(() => {
            if (Service.isRedisUsageError(error, redis)) {
              return usageError(io, new UsageError({ message: printable(`${redis.value.source}: ${error.message}`) }))
            }
            io.err(`${errorLine(error)}\n`)
            return ExitCode.serviceError
          })
        )
      )
    })).pipe(
      Effect.catchTags({
        UsageError: (error) => Effect.sync(() => usageError(io, error)),
        DatabaseError: (error) =>
          Effect.sync(() => {
            io.err(`${error.message}\n`)
            return ExitCode.serviceError
          })
      })
    )
  }).pipe(
    // An embedded emulator that cannot start is a defect of ours: reported as one, exit 1.
    Effect.orDie
  )

/**
 * The `export` subcommand.
 *
 * @category commands
 * @since 0.3.0
 */
export const exportCommand = Command.make(
  "export",
  { options: exportOptions },
  ({ options }) =>
    Effect.flatMap(exportAccounts(options), (code) => Effect.flatMap(Session, (session) => session.exit(code)))
).pipe(
  Command.withDescription(
    "Exports every room of one or more Amazon Chime accounts into SQLite or PostgreSQL, exactly once: each " +
      "page's rooms and the token after them are committed together, so the same command run again after a " +
      "failure or a kill resumes from the checkpoint, and a run after a finished one begins a new snapshot. " +
      "Nothing on stdout; live progress (when stderr is a terminal) and one summary line per account on stderr. " +
      "Without --live it starts the embedded emulator and exports each of its accounts. Exit codes: 0 done, " +
      "1 an account failed (a service error survived the retries, another export holds it, or the database " +
      "failed or cannot be opened; the other accounts still finish), 2 bad arguments or configuration, " +
      "130 interrupted."
  )
)
