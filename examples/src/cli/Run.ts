/**
 * The main job: stream every room of an account to stdout, with live progress and a summary on
 * stderr, against the embedded emulator (default) or the real service (`--live`).
 */
import { ChimeRooms } from "@chime-rooms/core"
import type { ChimeError, ListRoomsRequest } from "@chime-rooms/core"
import {
  Credentials,
  CredentialsChain,
  HttpChimeRooms,
  loadChimeConfigInput,
  makeChimeConfig,
  UndiciHttpClient
} from "@chime-rooms/http"
import { ChimeMetrics, ChimeRateLimiter, ChimeRoomsStream, Resilience } from "@chime-rooms/stream"
import { Dataset, Emulator, type EmulatorError, type EmulatorOptions, Fault, FaultScript } from "@chime-rooms/testing"
import { Cause, Clock, Effect, Either, Exit, Fiber, Layer, Option, Schedule, type Scope, Stream } from "effect"
import { type Options, parseArgs, requestOf, usage, UsageError } from "./Args.js"
import { printable } from "./Printable.js"
import { jsonLine, tableHeader, tableRow } from "./Table.js"

/** Where the job writes: stdout for rooms, stderr for everything else. */
export interface Io {
  readonly out: (text: string) => Effect.Effect<void>
  readonly err: (text: string) => void
  /** Is stderr a terminal (live progress) or a pipe (no progress line)? */
  readonly errIsTty: boolean
}

/** Exit codes, as `--help` lists them. */
export const ExitCode = { ok: 0, serviceError: 1, usage: 2, interrupted: 130 } as const

/**
 * The embedded emulator of `pnpm start`: a few accounts of seeded rooms, a server-side rate
 * limit, and 503s on a few calls so that retries and throttling show in the progress line.
 */
export const embeddedEmulator: EmulatorOptions = {
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
  readonly chime: Layer.Layer<ChimeRooms>
  readonly account: string
}

/** The emulator in this scope, and a client signing for its region. */
const embedded = (options: Options, emulatorOptions: EmulatorOptions) =>
  Effect.map(Emulator.make(emulatorOptions), (emulator): Target => ({
    account: options.account ?? emulator.accounts[0]!,
    chime: HttpChimeRooms.layer({ endpoint: emulator.endpoint, region: emulator.region }).pipe(
      // The emulator's endpoint and region always resolve: a refusal here would be a defect.
      Layer.orDie,
      Layer.provide(Credentials.layerStatic(emulator.credentials)),
      Layer.provide(UndiciHttpClient.layer)
    )
  }))

/**
 * The real service (or `--endpoint`), the AWS default credential chain; the settings as the AWS SDK
 * reads them (environment, then the shared config files' profile), the flags over them. Settings
 * that cannot be read or lead to no endpoint are a usage error, reported before anything is sent.
 */
const live = (options: Options): Effect.Effect<Target, UsageError> =>
  Effect.flatMap(loadChimeConfigInput, (config) =>
    Effect.map(
      makeChimeConfig({
        ...config,
        ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
        ...(options.region === undefined ? {} : { region: options.region })
      }),
      (resolved): Target => ({
        account: options.account!,
        chime: Layer.effect(ChimeRooms, HttpChimeRooms.makeWithConfig(resolved)).pipe(
          Layer.provide(CredentialsChain.layer()),
          Layer.provide(UndiciHttpClient.layer)
        )
      })
    )).pipe(
      Effect.mapError((error) =>
        new UsageError(printable(
          error._tag === "EndpointConfigError"
            ? `No endpoint for this configuration: ${error.message}`
            : `Cannot read the configuration: ${String(error)}`
        ))
      )
    )

const fmt = (n: number) => n.toLocaleString("en-US")
const rateText = (rate: number | undefined) => (rate === undefined ? "unlimited" : `${rate.toFixed(1)} req/s`)

const progressLine = (s: ChimeMetrics.StreamStats, elapsedMs: number) =>
  `pages ${fmt(s.pages)} · rooms ${fmt(s.rooms)} · ${fmt(Math.round(s.rooms / Math.max(elapsedMs / 1000, 0.001)))} rooms/s · ` +
  `retries ${fmt(s.retries)} · throttles ${fmt(s.throttles)} · limiter ${rateText(s.currentRate)}`

const summaryLine = (s: ChimeMetrics.StreamStats, elapsedMs: number) =>
  `${fmt(s.rooms)} rooms in ${fmt(s.pages)} pages · ${fmt(s.requests)} requests · ${fmt(s.retries)} retries · ` +
  `${fmt(s.throttles)} throttles · ${(elapsedMs / 1000).toFixed(2)} s`

/**
 * A one-line account of an error that survived the retries: its name, request id and message, the
 * service's text made {@link printable}.
 */
export const errorLine = (error: ChimeError): string => {
  const requestId = "requestId" in error && error.requestId !== undefined ? error.requestId : "none"
  return printable(`Error: ${error._tag} (request id ${requestId}): ${error.message}`)
}

/** The line that tells how to go on after a failure; the token is the service's text, made printable. */
const resumeLine = (error: ChimeError): string =>
  error.resumeToken === undefined
    ? "No page was received: run the same command again to retry."
    : `Resume with: --next-token ${printable(error.resumeToken)}`

const usageError = (io: Io, error: UsageError) => {
  io.err(`${error.message}\nRun with --help to see the options.\n`)
  return ExitCode.usage
}

/** Lists the rooms of `target` to `io`, returning the exit code. Interruption prints the summary too. */
const list = (
  io: Io,
  options: Options,
  request: ListRoomsRequest,
  target: Target,
  rateLimiter: Layer.Layer<ChimeRateLimiter.ChimeRateLimiter>
) =>
  Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    const elapsed = Effect.map(Clock.currentTimeMillis, (now) => now - started)
    const clearLine = io.errIsTty ? "\r\u001b[K" : ""

    if (!options.json) yield* io.out(`${tableHeader()}\n`)
    const listing = ChimeRoomsStream.pages(request).pipe(
      Stream.runForEach((page) =>
        page.rooms.length === 0
          ? Effect.void
          : io.out(page.rooms.map(options.json ? jsonLine : tableRow).join("\n") + "\n")
      )
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
    const exit = yield* Effect.exit(Effect.onInterrupt(listing, () => summary))
    if (Exit.isSuccess(exit)) {
      yield* summary
      return ExitCode.ok
    }
    yield* summary
    const failure = Cause.failureOption(exit.cause)
    if (Option.isNone(failure)) return yield* Effect.failCause(exit.cause)
    const error = failure.value
    io.err(`${errorLine(error)}\n${resumeLine(error)}\n`)
    return ExitCode.serviceError
  }).pipe(Effect.provide(Resilience.layer({ rateLimiter })), Effect.provide(target.chime))

/**
 * Runs the main job for `argv`, returning its exit code. `emulatorOptions` replaces the embedded
 * emulator's set-up (tests use it to script failures).
 */
export const run = (
  argv: ReadonlyArray<string>,
  io: Io,
  emulatorOptions: EmulatorOptions = embeddedEmulator
): Effect.Effect<number> =>
  Effect.gen(function*() {
    const parsed = parseArgs(argv)
    if (Either.isLeft(parsed)) return usageError(io, parsed.left)
    const options = parsed.right
    if (options.help) {
      yield* io.out(`${usage}\n`)
      return ExitCode.ok
    }
    const rateLimiter = options.rate === undefined
      ? ChimeRateLimiter.layerAdaptive()
      : ChimeRateLimiter.layerFixed({ rate: options.rate, burst: Math.max(1, Math.floor(options.rate)) })
    const acquire: Effect.Effect<Target, EmulatorError | UsageError, Scope.Scope> = options.live
      ? live(options)
      : embedded(options, emulatorOptions)
    return yield* Effect.scoped(
      Effect.flatMap(acquire, (target) => {
        // Checked before the client's layer is built and anything is sent.
        const request = requestOf(options, target.account)
        return Either.isLeft(request)
          ? Effect.sync(() => usageError(io, request.left))
          : list(io, options, request.right, target, rateLimiter)
      }).pipe(Effect.catchTag("UsageError", (error) => Effect.sync(() => usageError(io, error))))
    )
  }).pipe(
    Effect.catchAllCause((cause) =>
      Effect.sync(() => {
        if (Cause.isInterruptedOnly(cause)) return ExitCode.interrupted
        // A defect's text may quote the service: each line made printable, the lines kept.
        io.err(`Unexpected failure: ${Cause.pretty(cause).split("\n").map(printable).join("\n")}\n`)
        return ExitCode.serviceError
      })
    )
  )

/** Writes to a Node stream, waiting for `drain` when the reader is slower (backpressure from a pipe). */
export const writer = (stream: NodeJS.WritableStream) => (text: string): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    if (stream.write(text)) resume(Effect.void)
    else stream.once("drain", () => resume(Effect.void))
  })

