/**
 * Where the command writes, what stops it, and how it ends: stdout for rooms (and the help),
 * stderr for everything else. The bin binds it to the process; tests capture it.
 *
 * @since 0.1.0
 */
import type { Emulator } from "@chime-rooms/testing"
import { Context, Data, Effect } from "effect"

/**
 * The command's view of the process.
 *
 * @category models
 * @since 0.1.0
 */
export interface Io {
  /** Writes to stdout; completes once the reader has room for more (backpressure from a pipe). */
  readonly out: (text: string) => Effect.Effect<void>
  readonly err: (text: string) => void
  /** Is stderr a terminal (live progress, coloured messages) or a pipe (neither)? */
  readonly errIsTty: boolean
  /** Is stdout a terminal (coloured help) or a pipe (plain text)? Default `false`. */
  readonly outIsTty?: boolean | undefined
  /**
   * Completes when the user asks the job to stop (SIGINT, SIGTERM): the listing stops, prints its
   * summary and ends with {@link ExitCode}`.interrupted`; the emulator ends with `ok`. Default: never.
   */
  readonly stop?: Effect.Effect<void> | undefined
}

/**
 * The exit codes, as `--help` lists them: 0 done, 1 a service error survived the retries (or the
 * emulator could not start), 2 bad arguments or configuration, 130 interrupted.
 *
 * @category constants
 * @since 0.1.0
 */
export const ExitCode = { ok: 0, serviceError: 1, usage: 2, interrupted: 130 } as const

/**
 * A command line that cannot be run; the command prints `message` and exits with code 2.
 *
 * @category errors
 * @since 0.1.0
 */
export class UsageError extends Data.TaggedError("UsageError")<{ readonly message: string }> {}

/**
 * What a command's handler reads: the process, the embedded emulator's set-up, and where it puts
 * its exit code.
 *
 * @category models
 * @since 0.1.0
 */
export interface Session {
  readonly io: Io
  /** The emulator `list` starts when not `--live`. */
  readonly embeddedEmulator: Emulator.EmulatorOptions
  readonly exit: (code: number) => Effect.Effect<void>
}

/**
 * The {@link Session} of the running command.
 *
 * @since 0.1.0
 */
export const Session: Context.Tag<Session, Session> = Context.GenericTag<Session>("@chime-rooms/cli/Session")

/**
 * Prints a {@link UsageError} as every argument error is printed, returning its exit code.
 *
 * @category utils
 * @since 0.1.0
 */
export const usageError = (io: Io, error: UsageError): number => {
  io.err(`${error.message}\n${helpHint}\n`)
  return ExitCode.usage
}

/**
 * The line that follows every argument error.
 *
 * @category constants
 * @since 0.1.0
 */
export const helpHint = "Run with --help to see the options."

/**
 * Writes to a Node stream, waiting for `drain` when the reader is slower (backpressure from a pipe).
 *
 * @category constructors
 * @since 0.1.0
 */
export const writer = (stream: NodeJS.WritableStream) => (text: string): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    if (stream.write(text)) resume(Effect.void)
    else stream.once("drain", () => resume(Effect.void))
  })
