/**
 * `chime-rooms emulator` (also `pnpm emulator`): a local Amazon Chime `ListRooms` endpoint on
 * 127.0.0.1 that verifies SigV4, until SIGINT or SIGTERM (then exit 0). Its first line on stdout is
 * one JSON object, {@link announcement}: what a client needs to connect. Bad arguments exit 2; an
 * emulator that cannot start (a port taken) exits 1.
 *
 * @since 0.1.0
 */
import { Dataset, Emulator, FaultScript } from "@chime-rooms/testing"
import { Command, Options } from "@effect/cli"
import { Duration, Effect, Either, Option, Redacted } from "effect"
import { integer, invalid, positive, valuedNames } from "./internal/flags.js"
import { ExitCode, Session } from "./Io.js"

/**
 * What `chime-rooms emulator` was asked to run, every option checked.
 *
 * @category models
 * @since 0.1.0
 */
export interface EmulatorCliOptions {
  readonly port: number
  readonly accounts: number
  readonly rooms: number
  readonly members: number
  readonly pageSize: number
  readonly seed: number
  /** The rate limit, if any: 429s past it, with `Retry-After` when `retryAfter`. */
  readonly rateLimit?: { readonly rate: number; readonly burst: number; readonly retryAfter?: true }
  readonly faults: FaultScript.FaultScript
  /** Each `--fault` as given. */
  readonly faultSpecs: ReadonlyArray<string>
  /** Milliseconds; negative puts the emulator's clock behind. */
  readonly clockOffsetMillis: number
  readonly maxSkew: Duration.Duration
  readonly record: number
  /** The signing region requests must be scoped to. */
  readonly region: string
}

const withDefault = <A>(options: Options.Options<A>, fallback: A, description: string) =>
  options.pipe(Options.withDescription(description), Options.withDefault(fallback))

const fields = {
  port: withDefault(integer("port", 0, 65535), 0, "The TCP port (0: any free port)."),
  accounts: withDefault(integer("accounts", 1, 10_000), 1, "Accounts to generate."),
  rooms: withDefault(integer("rooms", 0, 100_000_000), 1000, "Rooms per account."),
  members: withDefault(integer("members", 0, 100_000), 20, "Members per account, for member-id filtering."),
  pageSize: withDefault(integer("page-size", 1, 1_000_000), 10, "Rooms per page when max-results is absent."),
  seed: withDefault(integer("seed", -(2 ** 31), 2 ** 31 - 1), 1, "The data and fault seed."),
  rate: positive("rate", "").pipe(
    Options.withDescription("A rate limit: R requests per second (429 ThrottledClientException past it)."),
    Options.optional
  ),
  burst: integer("burst", 1, 1_000_000).pipe(
    Options.withPseudoName("B"),
    Options.withDescription("The rate limit's burst (default: R rounded up, at least 1)."),
    Options.optional
  ),
  rateRetryAfter: Options.boolean("rate-retry-after").pipe(
    Options.withDescription(
      "The rate limit's 429s carry Retry-After (whole seconds, at least 1); without it they carry none, as " +
        "Chime's model defines them."
    )
  ),
  faults: Options.text("fault").pipe(
    Options.withPseudoName("SPEC"),
    Options.withDescription(
      "Inject faults; repeatable. SPEC is FAULT[@WHEN][:OPTIONS], e.g. 429@5,6:retry-after=2, 503@rate=0.05, " +
        "reset@every=10, slow=200ms@3."
    ),
    Options.repeated
  ),
  clockOffset: withDefault(
    integer("clock-offset", -31_536_000, 31_536_000),
    0,
    "Shift the emulator's clock by S seconds (may be negative)."
  ).pipe(Options.withPseudoName("S")),
  maxSkew: withDefault(integer("max-skew", 1, 31_536_000), 300, "The accepted signature date skew in seconds.").pipe(
    Options.withPseudoName("S")
  ),
  record: withDefault(integer("record", 0, 1_000_000), 1000, "Requests kept for inspection."),
  region: Options.text("region").pipe(
    Options.withPseudoName("REGION"),
    Options.withDescription("The signing region requests must be scoped to."),
    Options.withDefault("us-east-1")
  )
}

const raw = Options.all(fields)

type Raw = typeof raw extends Options.Options<infer A> ? A : never

/** `isValidHostLabel` of `@smithy/core`, as the client checks a region. */
const HOST_LABEL = /^(?!.*-$)(?!-)[a-zA-Z0-9-]{1,63}$/

const check = (o: Raw): Either.Either<EmulatorCliOptions, string | FaultScript.FaultSpecError> => {
  if (!HOST_LABEL.test(o.region)) {
    return Either.left(`--region needs a region name (letters, digits, dashes), got ${JSON.stringify(o.region)}`)
  }
  if (Option.isSome(o.burst) && Option.isNone(o.rate)) return Either.left("--burst needs --rate")
  if (o.rateRetryAfter && Option.isNone(o.rate)) return Either.left("--rate-retry-after needs --rate")
  return Either.map(FaultScript.fromSpecs(o.faults, { seed: o.seed }), (faults) => ({
    port: o.port,
    accounts: o.accounts,
    rooms: o.rooms,
    members: o.members,
    pageSize: o.pageSize,
    seed: o.seed,
    ...Option.match(o.rate, {
      onNone: () => ({}),
      onSome: (rate) => ({
        rateLimit: {
          rate,
          burst: Option.getOrElse(o.burst, () => Math.max(1, Math.ceil(rate))),
          ...(o.rateRetryAfter ? { retryAfter: true as const } : {})
        }
      })
    }),
    faults,
    faultSpecs: o.faults,
    clockOffsetMillis: o.clockOffset * 1000,
    maxSkew: Duration.seconds(o.maxSkew),
    record: o.record,
    region: o.region
  }))
}

/**
 * The options of `emulator`, checked: a bad one is a validation error of `@effect/cli`.
 *
 * @category commands
 * @since 0.1.0
 */
export const emulatorOptions: Options.Options<EmulatorCliOptions> = raw.pipe(
  Options.mapEffect((o) => Either.mapLeft(check(o), (e) => invalid(typeof e === "string" ? e : e.message)))
)

/**
 * The options of `emulator` that take a value, as `--name`, and those that may be repeated.
 *
 * @category constants
 * @since 0.1.0
 */
export const emulatorValued: { readonly valued: ReadonlySet<string>; readonly repeatable: ReadonlySet<string> } = {
  valued: valuedNames([
    "port",
    "accounts",
    "rooms",
    "members",
    "page-size",
    "seed",
    "rate",
    "burst",
    "fault",
    "clock-offset",
    "max-skew",
    "record",
    "region"
  ]),
  repeatable: valuedNames(["fault"])
}

/**
 * The first line on stdout: everything a client needs to connect (the generated credentials
 * included, on purpose), keys in this order.
 *
 * @example
 * ```ts
 * import { EmulatorCommand } from "@chime-rooms/cli"
 *
 * EmulatorCommand.announcement({
 *   endpoint: "http://127.0.0.1:4566",
 *   region: "us-east-1",
 *   accounts: ["a"],
 *   accessKeyId: "AK…",
 *   secretAccessKey: "…"
 * })
 * // '{"endpoint":"http://127.0.0.1:4566","region":"us-east-1","accounts":["a"],"credentials":{…}}'
 * ```
 *
 * @category formatting
 * @since 0.1.0
 */
export const announcement = (info: {
  readonly endpoint: string
  readonly region: string
  readonly accounts: ReadonlyArray<string>
  readonly accessKeyId: string
  readonly secretAccessKey: string
}): string =>
  JSON.stringify({
    endpoint: info.endpoint,
    region: info.region,
    accounts: info.accounts,
    credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey }
  })

/**
 * Runs the emulator of `options` in the current {@link Session} until it is stopped (exit code 0),
 * or returns 1 when it cannot start.
 *
 * @category commands
 * @since 0.1.0
 */
export const emulator = (options: EmulatorCliOptions): Effect.Effect<number, never, Session> =>
  Effect.flatMap(Session, ({ io }) =>
    Effect.gen(function*() {
      const running = yield* Emulator.make({
        port: options.port,
        dataset: Dataset.generate({
          seed: options.seed,
          accounts: options.accounts,
          roomsPerAccount: options.rooms,
          membersPerAccount: options.members
        }),
        pageSize: options.pageSize,
        faults: options.faultSpecs.length === 0 ? undefined : options.faults,
        rateLimit: options.rateLimit,
        clockOffset: options.clockOffsetMillis,
        maxSkew: options.maxSkew,
        recordLimit: options.record,
        region: options.region
      })
      yield* io.out(
        announcement({
          endpoint: running.endpoint,
          region: running.region,
          accounts: running.accounts,
          accessKeyId: running.credentials.accessKeyId,
          // Printing the generated emulator credentials is the point: clients need them to sign.
          secretAccessKey: Redacted.value(running.credentials.secretAccessKey)
        }) + "\n"
      )
      io.err(
        `emulator: serving ${options.accounts} account(s) x ${options.rooms} rooms on ${running.endpoint}; ` +
          `SIGINT or SIGTERM to stop\n`
      )
      // Stopped by the user is the normal end.
      yield* io.stop ?? Effect.never
      return ExitCode.ok
    }).pipe(
      Effect.scoped,
      Effect.catchTag("EmulatorError", (error) =>
        Effect.sync(() => {
          io.err(`emulator: ${error.message}\n`)
          return ExitCode.serviceError
        }))
    ))

/**
 * The `emulator` subcommand.
 *
 * @category commands
 * @since 0.1.0
 */
export const emulatorCommand = Command.make(
  "emulator",
  { options: emulatorOptions },
  ({ options }) => Effect.flatMap(emulator(options), (code) => Effect.flatMap(Session, (session) => session.exit(code)))
).pipe(
  Command.withDescription(
    "A local Amazon Chime ListRooms endpoint on 127.0.0.1 that verifies SigV4. The first line on stdout is one " +
      "JSON object: endpoint, region, accounts, credentials. Runs until SIGINT or SIGTERM, then exits 0."
  )
)
