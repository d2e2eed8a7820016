/**
 * `pnpm start`: lists every room of an account (see `--help`). Exit codes: 0 done, 1 a service
 * error survived the retries, 2 bad arguments, 130 interrupted (Ctrl-C).
 */
import { Effect, Fiber } from "effect"
import { ExitCode, run, writer } from "./cli/Run.js"

const fiber = Effect.runFork(
  run(process.argv.slice(2), {
    out: writer(process.stdout),
    err: (text) => process.stderr.write(text),
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
// A reader that goes away (`pnpm start | head`) is not an error of ours.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") stop()
})

fiber.addObserver((exit) => {
  process.exitCode = interrupted ? ExitCode.interrupted : exit._tag === "Success" ? exit.value : ExitCode.serviceError
})
