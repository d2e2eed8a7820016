#!/usr/bin/env node
/**
 * The `chime-rooms` command (`chime-rooms --help`): `run` bound to this process. Exit codes: 0 done
 * (or the reader of stdout went away), 1 a service error survived the retries, 2 bad arguments,
 * 130 interrupted (Ctrl-C: the listing prints its summary first; the emulator exits 0).
 *
 * @since 0.1.0
 */
import { Deferred, Effect, Fiber } from "effect"
import { ExitCode, writer } from "../Io.js"
import { run } from "../Run.js"

const stop = Effect.runSync(Deferred.make<void>())
let readerGone = false
const fiber = Effect.runFork(
  run(process.argv.slice(2), {
    out: writer(process.stdout),
    // Once the reader of stdout has gone, the job ends quietly: no progress, no summary.
    err: (text) => {
      if (!readerGone) process.stderr.write(text)
    },
    errIsTty: process.stderr.isTTY === true,
    outIsTty: process.stdout.isTTY === true,
    stop: Deferred.await(stop)
  })
)
let stopping = false
const onSignal = () => {
  // A second Ctrl-C does not wait for the job to wind down.
  if (stopping) process.exit(ExitCode.interrupted)
  stopping = true
  Deferred.unsafeDone(stop, Effect.void)
}
process.on("SIGINT", onSignal)
process.on("SIGTERM", onSignal)
// A reader that goes away (`chime-rooms list | head`) is not an error of ours: the listing stops
// and the job ends with 0.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE" || readerGone) return
  readerGone = true
  Effect.runFork(Fiber.interrupt(fiber))
})
// Progress, summary and errors have nowhere else to go: a closed stderr (`2>&1 | head`) changes
// nothing, where an unhandled `error` event would crash the job with exit code 1.
process.stderr.on("error", () => {})

fiber.addObserver((exit) => {
  process.exitCode = readerGone ? ExitCode.ok : exit._tag === "Success" ? exit.value : ExitCode.serviceError
})
