/**
 * The `chime-rooms` command: its subcommands on `@effect/cli` (help, validation and shell
 * completions come from it), run in-process on an {@link Io} and ending with an exit code, which
 * `@effect/cli`'s own runner does not give: 0 done, 1 a service error survived the retries, 2 bad
 * arguments (a validation error of `@effect/cli` too), 130 interrupted.
 *
 * @since 0.1.0
 */
import type { Emulator } from "@chime-rooms/testing"
import { CliConfig, Command, ValidationError } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Cause, Console, Effect, Either, Exit, Layer, Ref } from "effect"
import { Console as NodeConsole } from "node:console"
import { Writable } from "node:stream"
import { format } from "node:util"
import { emulatorCommand, emulatorValued } from "./EmulatorCommand.js"
import { exportCommand, exportValued } from "./ExportCommand.js"
import { normalize } from "./internal/argv.js"
import { ExitCode, helpHint, type Io, Session, usageError } from "./Io.js"
import { embeddedEmulator, listCommand, listValued } from "./ListCommand.js"
import { printable } from "./Printable.js"

/**
 * The version `--version` prints: the package's.
 *
 * @category constants
 * @since 0.1.0
 */
export const version = "0.1.0"

/**
 * The `chime-rooms` command with its subcommands `list`, `export` and `emulator`.
 *
 * @category commands
 * @since 0.1.0
 */
export const command = Command.make("chime-rooms").pipe(
  Command.withDescription(
    "Lists every room of an Amazon Chime account (list), exports rooms into SQLite or PostgreSQL (export), or " +
      "runs a local emulator (emulator)."
  ),
  Command.withSubcommands([listCommand, exportCommand, emulatorCommand])
)

const cli = Command.run(command, { name: "chime-rooms", version })

// Names are matched exactly, as `internal/argv.ts` matches them.
const cliConfig = CliConfig.layer({ isCaseSensitive: true })

// `@effect/cli` styles its help and messages with ANSI escapes wherever they go.
// eslint-disable-next-line no-control-regex
const SGR = /\u001b\[[0-9;]*m/g

/**
 * `Console` for `@effect/cli`: `log` (help, version, completions) to stdout, the rest to stderr,
 * styled only on a terminal, each message ending in one line end.
 */
const consoleOf = (io: Io): Console.Console => {
  const text = (tty: boolean, args: ReadonlyArray<unknown>) => {
    const message = format(...args).replace(/\n+$/, "")
    return `${tty ? message : message.replace(SGR, "")}\n`
  }
  const toErr = (...args: ReadonlyArray<unknown>) => Effect.sync(() => io.err(text(io.errIsTty, args)))
  // What writes through `unsafe` (loggers) is never a room: all of it to stderr.
  const toStderr = new Writable({ write: (chunk, _, done) => (io.err(String(chunk)), done()) })
  const unsafe = new NodeConsole(toStderr, toStderr)
  return {
    [Console.TypeId]: Console.TypeId,
    assert: (condition, ...args) => (condition ? Effect.void : toErr(...args)),
    clear: Effect.void,
    count: () => Effect.void,
    countReset: () => Effect.void,
    debug: toErr,
    dir: (item) => toErr(item),
    dirxml: toErr,
    error: toErr,
    group: () => Effect.void,
    groupEnd: Effect.void,
    info: toErr,
    log: (...args) => io.out(text(io.outIsTty === true, args)),
    table: (data) => toErr(data),
    time: () => Effect.void,
    timeEnd: () => Effect.void,
    timeLog: (_, ...args) => toErr(...args),
    trace: toErr,
    warn: toErr,
    unsafe
  }
}

/**
 * Runs `chime-rooms` with `argv` (without `node` and the script) on `io`, returning its exit code.
 * `embedded` replaces the embedded emulator's set-up of `list` (tests use it to script failures).
 *
 * @example
 * ```ts
 * import { Io, Run } from "@chime-rooms/cli"
 *
 * const io: Io.Io = { out: Io.writer(process.stdout), err: (text) => process.stderr.write(text), errIsTty: false }
 * const exitCode = Run.run(["list", "--format", "csv"], io) // Effect<0 | 1 | 2 | 130>
 * ```
 *
 * @category commands
 * @since 0.1.0
 */
export const run = (
  argv: ReadonlyArray<string>,
  io: Io,
  embedded: Emulator.EmulatorOptions = embeddedEmulator
): Effect.Effect<number> =>
  Effect.gen(function*() {
    const args = normalize(argv, { list: { valued: listValued }, export: exportValued, emulator: emulatorValued })
    if (Either.isLeft(args)) return usageError(io, args.left)
    const code = yield* Ref.make<number>(ExitCode.ok)
    const session: Session = { io, embeddedEmulator: embedded, exit: (n) => Ref.set(code, n) }
    const exit = yield* cli(["node", "chime-rooms", ...args.right]).pipe(
      Effect.provideService(Session, session),
      Effect.provide(Layer.merge(NodeContext.layer, cliConfig)),
      Effect.withConsole(consoleOf(io)),
      Effect.exit
    )
    if (Exit.isFailure(exit)) {
      const failure = Cause.failureOption(exit.cause)
      // `@effect/cli` has printed what is wrong.
      if (failure._tag === "Some" && ValidationError.isValidationError(failure.value)) {
        io.err(`${helpHint}\n`)
        return ExitCode.usage
      }
      return yield* Effect.failCause(exit.cause)
    }
    return yield* Ref.get(code)
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
