/**
 * Many accounts at once under one shared rate limit (`pnpm example:accounts`).
 *
 * Eight accounts are listed concurrently. Every stream is built on the same `Resilience.layer`,
 * so they share one limiter (fixed here at 40 requests/s, below the emulator's 50/s) and one
 * retry budget: together they stay under the server's limit instead of each assuming it has the
 * service to itself.
 */
import { ChimeMetrics, ChimeRateLimiter, ChimeRoomsStream, Resilience } from "@chime-rooms/stream"
import { Dataset, Emulator } from "@chime-rooms/testing"
import { Clock, Console, Effect, Stream } from "effect"
import { chimeFor } from "./shared.js"

const program = Effect.gen(function*() {
  const emulator = yield* Emulator.make({
    dataset: Dataset.generate({ seed: 3, accounts: 8, roomsPerAccount: 600 }),
    rateLimit: { rate: 50, burst: 5 }
  })
  const started = yield* Clock.currentTimeMillis
  const counts = yield* Effect.forEach(
    emulator.accounts,
    (account) => Stream.runCount(ChimeRoomsStream.rooms({ AccountId: account, MaxResults: 50 })),
    { concurrency: "unbounded" }
  ).pipe(
    Effect.tap(() =>
      Effect.flatMap(
        ChimeMetrics.snapshot,
        (s) =>
          Console.log(`${s.requests} requests in all, ${s.throttles} throttled by the server, ${s.retries} retries`)
      )
    ),
    Effect.provide(Resilience.layer({ rateLimiter: ChimeRateLimiter.layerFixed({ rate: 40, burst: 5 }) })),
    Effect.provide(chimeFor(emulator))
  )
  const elapsed = ((yield* Clock.currentTimeMillis) - started) / 1000
  yield* Effect.forEach(emulator.accounts, (account, i) => Console.log(`${account}: ${counts[i]} rooms`))
  yield* Console.log(
    `${counts.reduce((a, b) => a + b, 0)} rooms from ${counts.length} accounts in ${elapsed.toFixed(1)} s`
  )
  if (counts.some((n) => n !== 600)) return yield* Effect.dieMessage("an account came back incomplete")
}).pipe(Effect.scoped)

Effect.runPromise(program).catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`)
  process.exitCode = 1
})
