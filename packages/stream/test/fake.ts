/**
 * A small hand-written `ChimeRooms` for unit tests: numbered rooms, fixed page size, tokens that
 * encode the offset, a per-call fault function and a call log. Time (latency) runs on Effect's
 * `Clock`, so `TestClock` drives it.
 *
 * Kept beside `InMemory.layer` for what that layer does not offer: `unsafeListRooms` (the pump's
 * fiberless way, with and without an early `onNextToken`), readable tokens (`tokenAt(offset)`, which
 * the tests expect back as resume tokens; InMemory's are opaque), a fault chosen by any function of
 * (call, token), a `NextToken` rewritten to build loops, and a call that hangs.
 */
import {
  type ChimeError,
  ChimeRooms,
  type ListRoomsRequest,
  type ListRoomsResponse,
  type Room
} from "@chime-rooms/core"
import { Clock, Duration, Effect, Layer } from "effect"

export interface FakeCall {
  readonly call: number
  readonly token: string | undefined
  readonly at: number
}

export interface FakeOptions {
  readonly rooms: number
  readonly pageSize: number
  /** The failure of call `call` (1-based) asking for `token`, if any. */
  readonly fault?: (call: number, token: string | undefined) => ChimeError.ChimeError | undefined
  /** Simulated latency of every call. */
  readonly latency?: Duration.DurationInput
  /** Replace the NextToken a page returns (to build loops). */
  readonly nextToken?: (offset: number, natural: string | undefined) => string | undefined
  /** Runs instead of answering (e.g. `Effect.never` to test interruption). */
  readonly hang?: (call: number) => Effect.Effect<void> | undefined
}

export const roomsOf = (n: number): ReadonlyArray<Room.Room> =>
  Array.from(
    { length: n },
    (_, i) => ({ RoomId: `room-${String(i).padStart(5, "0")}`, AccountId: "acc-1", Name: `secret-${i}` })
  )

export const tokenAt = (offset: number): string => `tok-${offset}`

export const makeFake = (options: FakeOptions) => {
  const all = roomsOf(options.rooms)
  const calls: Array<FakeCall> = []
  const service: ChimeRooms.ChimeRoomsService = {
    listRooms: (request: ListRoomsRequest.ListRoomsRequest) =>
      Effect.gen(function*() {
        const call = calls.length + 1
        calls.push({ call, token: request.NextToken, at: yield* Clock.currentTimeMillis })
        if (options.latency !== undefined) yield* Effect.sleep(Duration.decode(options.latency))
        const hang = options.hang?.(call)
        if (hang !== undefined) yield* hang
        const fault = options.fault?.(call, request.NextToken)
        if (fault !== undefined) return yield* Effect.fail(fault)
        const offset = request.NextToken === undefined ? 0 : Number(request.NextToken.slice(4))
        const size = request.MaxResults ?? options.pageSize
        const end = Math.min(all.length, offset + size)
        const natural = end < all.length ? tokenAt(end) : undefined
        const next = options.nextToken === undefined ? natural : options.nextToken(offset, natural)
        const output: ListRoomsResponse.ListRoomsOutput = {
          Rooms: all.slice(offset, end),
          ...(next === undefined ? {} : { NextToken: next }),
          $metadata: { requestId: `req-${call}`, httpStatusCode: 200 }
        }
        return output
      })
  }
  /**
   * The same calls started without a fiber, as `HttpChimeRooms` offers them: each runs on its own
   * (on the caller's clock) and reports through `done`.
   */
  const unsafeListRooms: NonNullable<ChimeRooms.ChimeRoomsService["unsafeListRooms"]> = (request, clock, done) => {
    let aborted = false
    const interrupt = Effect.runCallback(Effect.withClock(service.listRooms(request), clock), {
      onExit: (exit) => {
        if (!aborted) done(exit)
      }
    })
    return () => {
      aborted = true
      interrupt()
    }
  }
  /**
   * As `HttpChimeRooms` over `UndiciHttpClient`: a page's token is told through `onNextToken` as
   * soon as the page is in, and the page itself is handed over on a later turn of the event loop.
   */
  const unsafeListRoomsEarly: NonNullable<ChimeRooms.ChimeRoomsService["unsafeListRooms"]> = (
    request,
    clock,
    done,
    onNextToken
  ) => {
    let aborted = false
    let later: ReturnType<typeof setImmediate> | undefined
    const interrupt = Effect.runCallback(Effect.withClock(service.listRooms(request), clock), {
      onExit: (exit) => {
        if (aborted) return
        const token = exit._tag === "Success" ? exit.value.NextToken : undefined
        if (token === undefined || onNextToken === undefined) return done(exit)
        onNextToken(token)
        if (aborted) return
        later = setImmediate(() => {
          if (!aborted) done(exit)
        })
      }
    })
    return () => {
      aborted = true
      if (later !== undefined) clearImmediate(later)
      interrupt()
    }
  }
  return {
    all,
    calls,
    service,
    unsafeListRooms,
    layer: Layer.succeed(ChimeRooms.ChimeRooms, service),
    callbackLayer: Layer.succeed(ChimeRooms.ChimeRooms, { ...service, unsafeListRooms }),
    earlyLayer: Layer.succeed(ChimeRooms.ChimeRooms, { ...service, unsafeListRooms: unsafeListRoomsEarly })
  }
}
