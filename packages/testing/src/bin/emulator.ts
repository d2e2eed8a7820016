#!/usr/bin/env node
/**
 * `pnpm emulator [--port N] [--accounts N] [--rooms N] [--page-size N] [--rate R --burst B]
 * [--fault SPEC ...] [--seed N] [--region REGION]`: runs the emulator until SIGINT/SIGTERM, then exits 0.
 * Bad arguments: a message on stderr and exit code 2.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Either, Exit, Redacted } from "effect"
import * as Dataset from "../Dataset.js"
import * as Emulator from "../Emulator.js"
import * as FaultScript from "../FaultScript.js"
import { announcement, parseArgs, rateLimitOf, usage } from "../internal/emulatorCli.js"

const parsed = parseArgs(process.argv.slice(2))
if (Either.isLeft(parsed)) {
  process.stderr.write(`emulator: ${parsed.left}\n\n${usage}`)
  process.exit(2)
}
const options = parsed.right
if (options.help) {
  process.stdout.write(usage)
  process.exit(0)
}

const faults = FaultScript.fromSpecs(options.faults, { seed: options.seed })
if (Either.isLeft(faults)) {
  process.stderr.write(`emulator: ${faults.left.message}\n`)
  process.exit(2)
}

const program = Effect.gen(function*() {
  const emulator = yield* Emulator.make({
    port: options.port,
    dataset: Dataset.generate({
      seed: options.seed,
      accounts: options.accounts,
      roomsPerAccount: options.rooms,
      membersPerAccount: options.members
    }),
    pageSize: options.pageSize,
    faults: options.faults.length === 0 ? undefined : faults.right,
    rateLimit: rateLimitOf(options),
    clockOffset: options.clockOffsetMillis,
    maxSkew: options.maxSkew,
    recordLimit: options.record,
    region: options.region
  })
  process.stdout.write(
    announcement({
      endpoint: emulator.endpoint,
      region: emulator.region,
      accounts: emulator.accounts,
      accessKeyId: emulator.credentials.accessKeyId,
      // Printing the generated emulator credentials is the point: clients need them to sign.
      secretAccessKey: Redacted.value(emulator.credentials.secretAccessKey)
    }) + "\n"
  )
  process.stderr.write(
    `emulator: serving ${options.accounts} account(s) x ${options.rooms} rooms on ${emulator.endpoint}; ` +
      `SIGINT or SIGTERM to stop\n`
  )
  return yield* Effect.never
}).pipe(
  Effect.scoped,
  Effect.tapError((error) => Effect.sync(() => process.stderr.write(`emulator: ${error.message}\n`)))
)

NodeRuntime.runMain(program, {
  disableErrorReporting: true,
  // Stopped by a signal (interrupted) is the normal end: exit 0; failing to start: exit 1.
  teardown: (exit, onExit) => onExit(Exit.isFailure(exit) && !Exit.isInterrupted(exit) ? 1 : 0)
})
