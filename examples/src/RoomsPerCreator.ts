/**
 * A user's own program, for the testing example (`examples/test/TestingYourProgram.test.ts`):
 * count an account's rooms per creator, giving up politely if the listing takes too long.
 */
import type { ChimeError } from "@chime-rooms/core"
import { ChimeRoomsStream } from "@chime-rooms/stream"
import { Effect, Stream } from "effect"

/** Rooms per `CreatedBy` of one account; fails with a `ChimeError`, or times out after `limit`. */
export const roomsPerCreator = (accountId: string, limit: `${number} seconds`) =>
  ChimeRoomsStream.rooms({ AccountId: accountId, MaxResults: 99 }).pipe(
    Stream.runFold(new Map<string, number>(), (counts, room) => {
      const creator = room.CreatedBy ?? "(unknown)"
      return counts.set(creator, (counts.get(creator) ?? 0) + 1)
    }),
    Effect.timeoutFail({ duration: limit, onTimeout: () => "TimedOut" as const })
  ) satisfies Effect.Effect<Map<string, number>, ChimeError.ChimeError | "TimedOut", unknown>
