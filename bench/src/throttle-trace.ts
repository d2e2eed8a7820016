/**
 * `node bench/dist/throttle-trace.js [--mode model|aws] [--retry-after]`: one listing of 500 pages
 * (10 rooms each) against an in-process emulator limited to 50 requests/s (burst 5), printing when
 * each throttle came and the limiter's rate, then the total time. The quick way to watch the
 * adaptive limiter. With `--retry-after` the emulator's 429s carry `Retry-After` (whole seconds).
 *
 * @since 0.1.0
 */
import { Credentials, HttpChimeRooms, UndiciHttpClient } from "@chime-rooms/http"
import { ChimeMetrics, ChimeRateLimiter, ChimeRoomsStream, Resilience } from "@chime-rooms/stream"
import { Dataset, Emulator } from "@chime-rooms/testing"
import { Console, Effect, Layer, Stream } from "effect"
import { parseArgs } from "node:util"

const { values } = parseArgs({
  options: { mode: { type: "string", default: "model" }, "retry-after": { type: "boolean", default: false } },
  strict: true
})
const mode = values.mode === "aws" ? "aws" : "model"

const program = Effect.gen(function*() {
  const emulator = yield* Emulator.make({
    dataset: Dataset.generate({ seed: 1, roomsPerAccount: 5000 }),
    rateLimit: { rate: 50, burst: 5, retryAfter: values["retry-after"] },
    recordLimit: 0
  })
  const chime = HttpChimeRooms.layer({ endpoint: emulator.endpoint }).pipe(
    Layer.provide(Credentials.layerStatic(emulator.credentials)),
    Layer.provide(UndiciHttpClient.layer)
  )
  const started = Date.now()
  const at = () => ((Date.now() - started) / 1000).toFixed(2)
  let throttles = 0
  yield* ChimeRoomsStream.pages({ AccountId: emulator.accounts[0]!, MaxResults: 10 }).pipe(
    Stream.tap((page) =>
      Effect.flatMap(ChimeMetrics.snapshot, (s) => {
        if (s.throttles === throttles && page.pageNumber % 50 !== 0) return Effect.void
        throttles = s.throttles
        return Console.log(
          `${at()} s  page ${page.pageNumber}  throttles ${s.throttles}  rate ${
            s.currentRate?.toFixed(1) ?? "unlimited"
          }`
        )
      })
    ),
    Stream.runDrain,
    Effect.provide(Resilience.layer({ rateLimiter: ChimeRateLimiter.layerAdaptive({ mode }) })),
    Effect.provide(chime)
  )
  yield* Console.log(`mode ${mode}: 500 pages in ${at()} s (the limit: 10 s), ${throttles} throttles`)
}).pipe(Effect.scoped)

Effect.runPromise(program).catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`)
  process.exitCode = 1
})
