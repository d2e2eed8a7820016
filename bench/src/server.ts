/**
 * The emulator as a child process of the harness, so its CPU is not the client's. Prints one JSON
 * line (`endpoint`, `account`, `accessKey`, `secret`) once it listens, and runs until the pipe on
 * its stdin closes (the harness ended or died) or it is signalled.
 *
 * Signatures are not verified (`verifySignatures: false`), so the unsigned floor can be served by
 * the same server as the signing clients; and nothing is recorded (`recordLimit: 0`) unless `--record N`.
 * With `--record`, a line `stats` on stdin prints the emulator's own count of what it received since
 * the last `stats` (one JSON line: `requests`, `throttled`, `firstMs`, `lastMs`) and forgets it.
 *
 * Usage: `node bench/dist/server.js --rooms N [--page-size 99] [--rate R --burst B [--retry-after]] [--seed S]
 * [--record N]` (`--retry-after`: the limit's 429s carry `Retry-After`, which Chime's model does not define).
 *
 * @since 0.1.0
 */
import { Dataset, Emulator } from "@chime-rooms/testing"
import { Effect, Redacted } from "effect"
import { fstatSync } from "node:fs"
import { parseArgs } from "node:util"

const { values } = parseArgs({
  options: {
    rooms: { type: "string", default: "100000" },
    "page-size": { type: "string", default: "99" },
    rate: { type: "string" },
    burst: { type: "string", default: "1" },
    "retry-after": { type: "boolean", default: false },
    seed: { type: "string", default: "7" },
    record: { type: "string", default: "0" }
  },
  strict: true
})

const program = Effect.gen(function*() {
  const emulator = yield* Emulator.make({
    dataset: Dataset.generate({ seed: Number(values.seed), accounts: 1, roomsPerAccount: Number(values.rooms) }),
    pageSize: Number(values["page-size"]),
    verifySignatures: false,
    recordLimit: Number(values.record),
    ...(values.rate === undefined
      ? {}
      : { rateLimit: { rate: Number(values.rate), burst: Number(values.burst), retryAfter: values["retry-after"] } })
  })
  process.stdout.write(
    JSON.stringify({
      endpoint: emulator.endpoint,
      account: emulator.accounts[0],
      accessKey: emulator.credentials.accessKeyId,
      // Throwaway key of a local emulator, handed to child clients on their command line.
      secret: Redacted.value(emulator.credentials.secretAccessKey)
    }) + "\n"
  )
  // A pipe on stdin is the harness (Node's child_process gives a socket pair, a shell a FIFO): its
  // end means the harness is gone. Otherwise (a shell's `/dev/null` or terminal) run until signalled.
  yield* Effect.async<void>((resume) => {
    const stdin = fstatSync(0)
    if (!stdin.isFIFO() && !stdin.isSocket()) return
    process.stdin.once("end", () => resume(Effect.void))
    process.stdin.once("close", () => resume(Effect.void))
    let input = ""
    process.stdin.on("data", (data: Buffer) => {
      input += data.toString("utf8")
      for (let nl = input.indexOf("\n"); nl !== -1; nl = input.indexOf("\n")) {
        const command = input.slice(0, nl).trim()
        input = input.slice(nl + 1)
        if (command !== "stats") continue
        const received = emulator.received()
        emulator.clearReceived()
        process.stdout.write(
          JSON.stringify({
            requests: received.length,
            throttled: received.filter((r) => r.outcome?.status === 429).length,
            firstMs: received[0]?.time ?? null,
            lastMs: received.at(-1)?.time ?? null
          }) + "\n"
        )
      }
    })
    process.stdin.resume()
  })
})

await Effect.runPromise(Effect.scoped(program))
process.exit(0)
