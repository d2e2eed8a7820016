/**
 * Resuming a listing from a checkpoint after a failure (`pnpm example:resume`).
 *
 * The emulator fails one page with `ServiceUnavailableException` more often than the retry
 * policy allows. The stream fails with the error, which carries `resumeToken`: the checkpoint.
 * Listing again from it yields exactly the rooms not yet received: none lost, none repeated.
 */
import type { Room } from "@chime-rooms/core"
import { ChimeRoomsStream, Resilience, RetryPolicy } from "@chime-rooms/stream"
import { Dataset, Emulator, Fault, FaultScript } from "@chime-rooms/testing"
import { Chunk, Console, Effect, Either, Stream } from "effect"
import { chimeFor } from "./shared.js"

const rooms = 1000

const program = Effect.gen(function*() {
  const emulator = yield* Emulator.make({
    dataset: Dataset.generate({ seed: 11, roomsPerAccount: rooms }),
    // Calls 5 to 9 all fail: more than the 3 attempts this example allows one page.
    faults: FaultScript.make({ rules: [{ calls: [5, 6, 7, 8, 9], fault: Fault.unavailable() }] })
  })
  const request = { AccountId: emulator.accounts[0]!, MaxResults: 99 }
  const retry = RetryPolicy.make({ maxAttempts: 3 })
  const received: Array<string> = []
  const save = (chunk: Chunk.Chunk<Room.Room>) =>
    Effect.sync(() => Chunk.forEach(chunk, (room) => received.push(room.RoomId!)))

  const listing = Effect.gen(function*() {
    const first = yield* Effect.either(ChimeRoomsStream.rooms(request, { retry }).pipe(Stream.runForEachChunk(save)))
    if (Either.isRight(first)) return yield* Effect.dieMessage("the scripted failure did not happen")
    const checkpoint = first.left.resumeToken
    yield* Console.log(`failed with ${first.left._tag} after ${received.length} rooms; resuming from the checkpoint`)
    yield* ChimeRoomsStream.rooms({ ...request, NextToken: checkpoint }, { retry }).pipe(Stream.runForEachChunk(save))
  })
  yield* listing.pipe(Effect.provide(Resilience.layer()), Effect.provide(chimeFor(emulator)))

  const distinct = new Set(received).size
  yield* Console.log(`resumed: ${received.length} rooms received, ${distinct} distinct, ${rooms} seeded`)
  if (received.length !== rooms || distinct !== rooms) return yield* Effect.dieMessage("rooms lost or repeated")
}).pipe(Effect.scoped)

Effect.runPromise(program).catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`)
  process.exitCode = 1
})
