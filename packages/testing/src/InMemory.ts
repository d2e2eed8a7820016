/**
 * An in-memory `ChimeRooms`: seeded rooms, the service's paging rules, scripted faults and a log
 * of every call, with no socket. Paging and faults are the very code the emulator runs, so a
 * program tested here meets the same behaviour over HTTP.
 *
 * @since 0.1.0
 */
import { ChimeError, ChimeRooms, ListRoomsRequest, ListRoomsResponse, type Room } from "@chime-rooms/core"
import { Cause, Context, Duration, Effect, Either, Exit, Layer, Option } from "effect"
import * as Dataset from "./Dataset.js"
import type * as Fault from "./Fault.js"
import * as FaultScript from "./FaultScript.js"
import { chimeErrorCode, defaultErrorMessage } from "./internal/errorCodes.js"
import { tokenSecretFromString } from "./internal/pageToken.js"
import { DEFAULT_PAGE_SIZE, isValidPageSize, makePagingState, pageOf } from "./internal/paging.js"

/**
 * How one logged call ended.
 *
 * @category models
 * @since 0.1.0
 */
export type CallOutcome =
  | {
    readonly _tag: "Page"
    /** How many rooms the page held. */
    readonly rooms: number
    /** The page's `NextToken`; absent on the last page. */
    readonly nextToken?: string
  }
  | {
    readonly _tag: "Failure"
    /** The error's tag, for example `ThrottledClientException` or `TransportError`. */
    readonly error: ChimeError.ChimeError["_tag"]
    /** The HTTP status the error carried, when it has one. */
    readonly status?: number
  }
  | { readonly _tag: "Interrupted" }

/**
 * One call the fake service received. Requests that fail client-side validation
 * (`InvalidRequestError`) are never "sent", so they are neither numbered nor logged.
 *
 * @category models
 * @since 0.1.0
 */
export interface CallLogEntry {
  /** The call number (1-based, in arrival order): the number fault rules match on. */
  readonly call: number
  /** The request id the call was answered with (`req-000001`, …). */
  readonly requestId: string
  /** The request as received (validated). */
  readonly request: ListRoomsRequest.ListRoomsRequest
  /** The faults the script applied to this call. */
  readonly faults: ReadonlyArray<Fault.Fault>
  readonly outcome: CallOutcome
}

/**
 * Reading the call log.
 *
 * @category models
 * @since 0.1.0
 */
export interface CallLogService {
  /** Every finished call so far, in the order they finished. */
  readonly entries: Effect.Effect<ReadonlyArray<CallLogEntry>>
  /** Forgets the entries (call numbering continues). */
  readonly clear: Effect.Effect<void>
}

/**
 * The call log of a fake `ChimeRooms`, for assertions.
 *
 * @example
 * ```ts
 * import { ChimeRooms } from "@chime-rooms/core"
 * import { Dataset, Fault, InMemory } from "@chime-rooms/testing"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   yield* Effect.either(ChimeRooms.listRooms({ AccountId: "acc-1" }))
 *   yield* ChimeRooms.listRooms({ AccountId: "acc-1" })
 *   const entries = yield* InMemory.callLogEntries
 *   return entries.map((e) => e.outcome._tag) // ["Failure", "Page"]
 * }).pipe(
 *   Effect.provide(InMemory.layer({
 *     dataset: Dataset.fromRooms({ "acc-1": { rooms: [{ RoomId: "r-1", Name: "Ops" }] } }),
 *     faults: [{ calls: [1], fault: Fault.throttled("1 second") }]
 *   }))
 * )
 * ```
 *
 * @category tags
 * @since 0.1.0
 */
export class CallLog extends Context.Tag("@chime-rooms/testing/CallLog")<CallLog, CallLogService>() {}

/**
 * The entries of the provided log.
 *
 * @category accessors
 * @since 0.1.0
 */
export const callLogEntries: Effect.Effect<ReadonlyArray<CallLogEntry>, never, CallLog> = Effect.flatMap(
  CallLog,
  (log) => log.entries
)

/**
 * A fresh log and the function that appends to it (for fakes built on this one, like the emulator).
 *
 * @category constructors
 * @since 0.1.0
 */
export const unsafeMakeCallLog = (): {
  readonly log: CallLogService
  readonly record: (entry: CallLogEntry) => void
} => {
  const entries: Array<CallLogEntry> = []
  return {
    log: {
      entries: Effect.sync(() => entries.slice()),
      clear: Effect.sync(() => {
        entries.length = 0
      })
    },
    record: (entry) => {
      entries.push(entry)
    }
  }
}

/**
 * Options of the in-memory `ChimeRooms`.
 *
 * @category models
 * @since 0.1.0
 */
export interface InMemoryOptions {
  /** The rooms to serve. Default `Dataset.generate()` (one account of 100 rooms, seed 1). */
  readonly dataset?: Dataset.Dataset
  /** The page size when a request has no `MaxResults` (default 10; `MaxResults` always wins). */
  readonly pageSize?: number
  /** Faults to inject: a script, or rules run with `seed`. Default: none. */
  readonly faults?: FaultScript.FaultScript | ReadonlyArray<FaultScript.FaultRule>
  /** The seed for `faults` given as rules (`rate` rules). Default `0`. */
  readonly seed?: number
  /**
   * The `NextToken` secret. Default: a fresh random secret per instance, so a token never works on
   * another instance. Pin it to make token strings reproducible across runs.
   */
  readonly tokenSecret?: Uint8Array | string
  /** The prefix of request ids. Default `"req-"` (giving `req-000001`, `req-000002`, …). */
  readonly requestIdPrefix?: string
}

const requestIdOf = (prefix: string, call: number): string => `${prefix}${String(call).padStart(6, "0")}`

/** The typed error a client would report for each failing fault. */
const errorOf = (fault: Fault.FailingFault, requestId: string): ChimeError.ChimeError => {
  switch (fault._tag) {
    case "ServiceError":
      return ChimeError.makeServiceError(fault.name, {
        code: chimeErrorCode[fault.name],
        message: fault.message ?? defaultErrorMessage[fault.name],
        status: ChimeError.serviceErrors[fault.name].status,
        requestId,
        ...(fault.retryAfter === undefined ? {} : { retryAfter: fault.retryAfter })
      })
    case "Transport":
      return new ChimeError.TransportError({
        reason: "ConnectionReset",
        message: "The connection was reset before a response arrived (injected fault)"
      })
    case "Reset":
      return new ChimeError.TransportError({
        reason: "BodyCutShort",
        message: "The connection was reset in the middle of the response body (injected fault)",
        requestId
      })
    case "TruncatedJson":
      return new ChimeError.ResponseDecodeError({
        reason: "TruncatedJson",
        message: "The response body ended before its JSON was complete (injected fault)",
        status: 200,
        requestId
      })
    case "InvalidJson":
      return new ChimeError.ResponseDecodeError({
        reason: "InvalidJson",
        message: "The response body is not JSON (injected fault)",
        status: 200,
        requestId
      })
    case "Html502":
      return new ChimeError.ResponseDecodeError({
        reason: "UnexpectedStatus",
        message: "Unexpected HTTP status 502 with a non-JSON body (injected fault)",
        status: 502,
        requestId,
        excerpt: ChimeError.safeExcerpt(
          "<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>"
        )
      })
  }
}

const outcomeOf = (exit: Exit.Exit<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError>): CallOutcome => {
  if (Exit.isSuccess(exit)) {
    const page = exit.value
    return page.NextToken === undefined
      ? { _tag: "Page", rooms: page.Rooms.length }
      : { _tag: "Page", rooms: page.Rooms.length, nextToken: page.NextToken }
  }
  const failure = Cause.failureOption(exit.cause)
  if (Option.isSome(failure)) {
    const error = failure.value
    return "status" in error
      ? { _tag: "Failure", error: error._tag, status: error.status }
      : { _tag: "Failure", error: error._tag }
  }
  return { _tag: "Interrupted" }
}

/**
 * Builds one instance: the service and its call log.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  options: InMemoryOptions = {}
): Effect.Effect<{ readonly service: ChimeRooms.ChimeRoomsService; readonly log: CallLogService }> =>
  Effect.suspend(() => {
    const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE
    if (!isValidPageSize(pageSize)) return Effect.dieMessage("InMemory.make: pageSize must be a positive integer")
    const dataset = options.dataset ?? Dataset.generate()
    const secret = typeof options.tokenSecret === "string"
      ? tokenSecretFromString(options.tokenSecret)
      : options.tokenSecret
    const state = makePagingState({ dataset, pageSize, secret })
    const script = options.faults === undefined
      ? FaultScript.empty
      : "decide" in options.faults
      ? options.faults
      : FaultScript.make({ seed: options.seed ?? 0, rules: options.faults })
    const prefix = options.requestIdPrefix ?? "req-"
    const { log, record } = unsafeMakeCallLog()
    let calls = 0

    const answer = (
      request: ListRoomsRequest.ListRoomsRequest,
      requestId: string,
      repeatToken: boolean
    ): Effect.Effect<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError> => {
      const result = pageOf(state, request, { repeatToken })
      if (result._tag === "Error") {
        return Effect.fail(ChimeError.makeServiceError(result.name, {
          code: chimeErrorCode[result.name],
          message: result.message,
          status: ChimeError.serviceErrors[result.name].status,
          requestId
        }))
      }
      const rooms: Array<Room.RoomEncoded> = result.indices.map((i) => dataset.room(result.accountId, i))
      const decoded = ListRoomsResponse.decode(
        result.nextToken === undefined ? { Rooms: rooms } : { NextToken: result.nextToken, Rooms: rooms }
      )
      // Only a hand-written fixture with a bad timestamp gets here; the message names no value.
      if (Either.isLeft(decoded)) {
        return Effect.fail(
          new ChimeError.ResponseDecodeError({
            reason: "InvalidShape",
            message: `The dataset holds a room the service could not send: ${decoded.left}`,
            status: 200,
            requestId
          })
        )
      }
      return Effect.succeed({ ...decoded.right, $metadata: { requestId, httpStatusCode: 200 } })
    }

    const listRooms = (
      input: ListRoomsRequest.ListRoomsRequest
    ): Effect.Effect<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError> =>
      Effect.suspend(() => {
        const validated = ListRoomsRequest.validate(input)
        if (Either.isLeft(validated)) return Effect.fail(validated.left)
        const request = validated.right
        const call = ++calls
        const requestId = requestIdOf(prefix, call)
        const plan = script.plan(call)
        // A slow body only delays the answer here; the emulator trickles it out on the wire.
        const wait = Duration.sum(plan.delay, plan.slow)
        const outcome: Effect.Effect<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError> =
          plan.failure === undefined
            ? answer(request, requestId, plan.repeatToken)
            : Effect.fail(errorOf(plan.failure, requestId))
        return (Duration.isZero(wait) ? outcome : Effect.zipRight(Effect.sleep(wait), outcome)).pipe(
          Effect.onExit((exit) =>
            Effect.sync(() => record({ call, requestId, request, faults: plan.faults, outcome: outcomeOf(exit) }))
          )
        )
      })

    return Effect.succeed({ service: { listRooms }, log })
  })

/**
 * The in-memory `ChimeRooms` and its call log, as a layer.
 *
 * Paging: `MaxResults` 1..99 (else `BadRequestException`), 10 rooms a page when absent (see
 * `pageSize`), `MemberId` filters to the member's rooms (an unknown member has none), and the last
 * page has no `NextToken`. Tokens are opaque and tamper-evident: forged, modified, stale (another
 * dataset or instance) or foreign (another account or member filter) tokens get
 * `BadRequestException`; an unknown account gets `NotFoundException`.
 *
 * Faults ({@link FaultScript}) are decided by call number: service errors carry the scripted
 * `retryAfter`; `Delay` and `Slow` sleep on Effect's `Clock` (so `TestClock.adjust` drives them);
 * `Transport` fails with `TransportError` `ConnectionReset`; `RepeatToken` answers with a
 * `NextToken` leading back to the same page; `Reset` is a `TransportError` `BodyCutShort`;
 * `TruncatedJson` and `InvalidJson` are `ResponseDecodeError`s of those reasons; `Html502` a
 * `ResponseDecodeError` `UnexpectedStatus` with status 502.
 *
 * Request ids are `req-000001`, `req-000002`, … in arrival order.
 *
 * @example
 * ```ts
 * import { Dataset, Fault, InMemory } from "@chime-rooms/testing"
 *
 * const layer = InMemory.layer({
 *   dataset: Dataset.generate({ seed: 1, roomsPerAccount: 250 }),
 *   faults: [{ calls: [2], fault: Fault.throttled("1 second") }]
 * })
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options: InMemoryOptions = {}): Layer.Layer<ChimeRooms.ChimeRooms | CallLog> =>
  Layer.effectContext(
    Effect.map(
      make(options),
      ({ log, service }) => Context.make(ChimeRooms.ChimeRooms, service).pipe(Context.add(CallLog, log))
    )
  )
