#!/usr/bin/env node
/**
 * `pnpm start`: lists every room of an account (see `--help`). Exit codes: 0 done (or the reader
 * of stdout went away), 1 a service error survived the retries, 2 bad arguments, 130 interrupted
 * (Ctrl-C).
 */
import { Effect, Fiber } from "effect"
import { ExitCode, run, writer } from "../Run.js"

let readerGone = false
const fiber = Effect.runFork(
  run(process.argv.slice(2), {
    out: writer(process.stdout),
    // Once the reader of stdout has gone, the job ends quietly: no progress, no summary.
    err: (text) => {
      if (!readerGone) process.stderr.write(text)
    },
    errIsTty: process.stderr.isTTY === true
  })
)
let interrupted = false
const stop = () => {
  if (interrupted) process.exit(ExitCode.interrupted)
  interrupted = true
  Effect.runFork(Fiber.interrupt(fiber))
}
process.once("SIGINT", stop)
process.once("SIGTERM", stop)
// A reader that goes away (`pnpm start | head`) is not an error of ours: the listing stops and the
// job ends with 0.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE" || readerGone) return
  readerGone = true
  Effect.runFork(Fiber.interrupt(fiber))
})
// Progress, summary and errors have nowhere else to go: a closed stderr (`2>&1 | head`) changes
// nothing, where an unhandled `error` event would crash the job with exit code 1.
process.stderr.on("error", () => {})

fiber.addObserver((exit) => {
  process.exitCode = interrupted
    ? ExitCode.interrupted
    : readerGone
    ? ExitCode.ok
    : exit._tag === "Success"
    ? exit.value
    : ExitCode.serviceError
})
