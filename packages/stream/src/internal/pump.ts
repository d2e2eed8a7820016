/**
 * The pages of one stream run. A pump requests them, one at a time and in order; the consumer
 * only takes what has arrived. A page is requested when the consumer waits for it, or ahead of it
 * while fewer than `prefetch` requested pages are still untaken.
 *
 * Two ways to fetch a page, one behaviour:
 * - the fast one, when the service can start a call without a fiber (`startListRooms`) and the
 *   limiter and budget have synchronous forms: the first attempt is sent at once (when the
 *   limiter grants a permit at once) and its outcome booked in the transport's own callback, where
 *   the next page can be sent before the consumer even hears of this one. Measured, the Effect
 *   runtime between a response and the next request cost more than the floor's whole per-page work.
 * - the general one, for everything else: `fetchPage` in a fiber forked from the consumer's
 *   runtime (its clock, services and fiber refs). A fast first attempt that fails continues there
 *   too, with the policy's retries.
 */
import type { ChimeError, ListRoomsOutput, ListRoomsRequest } from "@chime-rooms/core"
import { isThrottlingError, PaginationLoopError, withResumeToken } from "@chime-rooms/core"
import { Cause, Effect, Exit, Fiber, FiberId, Runtime } from "effect"
import type { Clock, MetricLabel } from "effect"
import { type Env, type Fetched, fetchPage, retryAfterFirst, span } from "./resilient.js"
import { pagesTotal, rateLimitGauge, requestsTotal, roomsTotal, throttlesTotal } from "./metrics.js"

/** One page as the consumer gets it. */
export interface PumpedPage {
  readonly output: ListRoomsOutput
  readonly attempts: number
  readonly pageNumber: number
}

/** A requested page that has arrived: its outcome and the token it was requested with. */
interface Arrival {
  readonly requested: string | undefined
  readonly exit: Exit.Exit<Fetched, ChimeError>
}

/** A requested page not yet handed to `ready`. */
interface Slot {
  readonly requested: string | undefined
  /** Its outcome, once in (pages are handed over in request order). */
  exit: Exit.Exit<Fetched, ChimeError> | undefined
  /** Aborts a call started without a fiber. */
  abort: (() => void) | undefined
  /** The fiber fetching it, when it is fetched in one. */
  fiber: Fiber.RuntimeFiber<Fetched, ChimeError> | undefined
  /** Set when its `NextToken` was booked before it arrived: the state to go back to if it fails. */
  early: EarlyBooking | undefined
}

/**
 * What booking a page's token early changed. Plain data rather than a closure: a closure kept per
 * page was measured to keep each page's data alive through young collections (3.7 MB surviving
 * every scavenge, against 0.25 MB), so that it was promoted and left for full collections.
 */
interface EarlyBooking {
  readonly next: string
  readonly token: string | undefined
  readonly ended: boolean
  readonly requested: number
}

export interface Pump {
  /** The next page; `undefined` once the listing is over. */
  readonly pull: Effect.Effect<PumpedPage | undefined, ChimeError>
  /** Stops the page in flight, if any (the stream's finalizer). */
  readonly stop: Effect.Effect<void>
}

/** The request for the page after `token` (`undefined`: the first page). */
const requestFor = (request: ListRoomsRequest, token: string | undefined): ListRoomsRequest => {
  if (token !== undefined) return { ...request, NextToken: token }
  if (request.NextToken === undefined) return request
  const { NextToken: _, ...rest } = request
  return rest
}

/**
 * Calls `f` on the next turn of the event loop, after the I/O callbacks and immediates already
 * queued (so after undici writes a request just dispatched); returns what cancels it.
 */
const later = (f: () => void): (() => void) => {
  if (typeof setImmediate !== "function") {
    const timer = setTimeout(f, 0)
    return () => clearTimeout(timer)
  }
  const handle = setImmediate(f)
  return () => clearImmediate(handle)
}

/** Resumes on the next turn of the event loop. */
const nextTurn: Effect.Effect<void> = Effect.async<void>((resume) => Effect.sync(later(() => resume(Effect.void))))

/**
 * Lets a request just dispatched reach the wire before the consumer works on a page, even work
 * that never suspends: `yieldNow` lets a forked fetch run up to its request, and one turn of the
 * event loop lets the transport write it (undici writes on a reused keep-alive socket from a
 * `setImmediate`).
 */
const handOver = Effect.zipRight(Effect.yieldNow(), nextTurn)

/** What the fast way needs: a service that starts calls without a fiber, synchronous limiter and budget. */
interface FastParts {
  readonly startListRooms: NonNullable<Env["service"]["startListRooms"]>
  readonly limiter: NonNullable<Env["limiter"]["unsafe"]>
  readonly release: NonNullable<Env["budget"]["unsafeRelease"]>
}

/** The fast way's parts, when all are there and no span is to be opened (spans need a fiber). */
const fastParts = (e: Env): FastParts | undefined => {
  const startListRooms = e.service.startListRooms
  const limiter = e.limiter.unsafe
  const release = e.budget.unsafeRelease
  return startListRooms !== undefined && limiter !== undefined && release !== undefined && !e.spans
    ? { startListRooms, limiter, release }
    : undefined
}

export const makePump = (
  e: Env,
  request: ListRoomsRequest,
  maxPages: number | undefined,
  prefetch: number,
  runtime: Runtime.Runtime<never>,
  clock: Clock.Clock,
  labels: ReadonlyArray<MetricLabel.MetricLabel>
): Pump => {
  const first = request.NextToken === "" ? undefined : request.NextToken
  const seen = new Set<string>()
  if (first !== undefined) seen.add(first)
  let token = first
  /** No page left to request: the last one arrived, a loop, `maxPages`, or a failure for good. */
  let ended = false
  let loop: PaginationLoopError | undefined
  let requested = 0
  let arrived = 0
  let taken = 0
  const ready: Array<Arrival> = []
  /** Requested pages not yet in `ready`, in request order: one, or two when the first one's token came early. */
  const inFlight: Array<Slot> = []
  let waiter: (() => void) | undefined

  const fast = fastParts(e)
  const runFork = Runtime.runFork(runtime)

  const gauge = (changed: number | undefined): void => {
    if (changed !== undefined) rateLimitGauge.unsafeUpdate(changed, labels)
  }

  /** Learns the token a page brings: the next one to request, or the end (last page, or a loop). */
  const book = (output: ListRoomsOutput, pageNumber: number): void => {
    const next = output.NextToken
    if (next === undefined) ended = true
    else if (seen.has(next)) {
      ended = true
      const requestId = output.$metadata.requestId
      loop = new PaginationLoopError(requestId === undefined ? { pages: pageNumber } : { pages: pageNumber, requestId })
    } else {
      seen.add(next)
      token = next
    }
  }

  /** A page's outcome is in: hands over every page now complete, in order, then refills the window. */
  const arrive = (slot: Slot, exit: Exit.Exit<Fetched, ChimeError>): void => {
    if (!inFlight.includes(slot)) return
    slot.exit = exit
    for (let head = inFlight[0]; head?.exit !== undefined; head = inFlight[0]) {
      const outcome = head.exit
      // An early token is a guess until the page is decoded: a different `NextToken` takes it back.
      if (Exit.isSuccess(outcome) && head.early !== undefined && head.early.next !== outcome.value.output.NextToken) {
        undo(head)
      }
      inFlight.shift()
      if (Exit.isSuccess(outcome)) {
        arrived++
        if (head.early === undefined) book(outcome.value.output, arrived)
      } else {
        // The listing ends at a page that failed for good: nothing after it is wanted.
        ended = true
        for (const later of inFlight.splice(0)) cancel(later)
      }
      ready.push({ requested: head.requested, exit: outcome })
    }
    if (startAhead() || inFlight.length > 0) later(wake)
    else wake()
  }

  const wake = (): void => {
    const w = waiter
    waiter = undefined
    w?.()
  }

  /** Sends the next page if the window allows; whether it did. */
  const startAhead = (): boolean => {
    if (ended || inFlight.length > 0 || ready.length >= prefetch) return false
    startNext()
    return true
  }

  /**
   * The token of the page in flight, heard before its rooms are validated: when the window allows,
   * the next page is sent now, and taken back if this one then fails or decodes to another token.
   */
  const early = (slot: Slot, next: string): void => {
    if (ended || inFlight.length !== 1 || inFlight[0] !== slot || ready.length + 1 >= prefetch || seen.has(next)) return
    slot.early = { next, token, ended, requested }
    seen.add(next)
    token = next
    startNext()
  }

  /** Takes back an early booking (the page failed, or brought another token): the page it sent is stopped. */
  const undo = (slot: Slot): void => {
    const booking = slot.early
    if (booking === undefined) return
    slot.early = undefined
    for (const later of inFlight.splice(1)) cancel(later)
    seen.delete(booking.next)
    token = booking.token
    ended = booking.ended
    requested = booking.requested
  }

  /** Stops a page in flight, from outside any fiber. */
  const cancel = (slot: Slot): void => {
    if (slot.fiber !== undefined) slot.fiber.unsafeInterruptAsFork(FiberId.none)
    else slot.abort?.()
  }

  /** Continues a page in a fiber of the consumer's runtime. */
  const fork = (slot: Slot, effect: Effect.Effect<Fetched, ChimeError>): void => {
    const fiber = runFork(effect)
    slot.fiber = fiber
    slot.abort = undefined
    fiber.addObserver((exit) => arrive(slot, exit))
  }

  const startNext = (): void => {
    const requestedToken = token
    const pageRequest = requestFor(request, requestedToken)
    requested++
    if (maxPages !== undefined && requested >= maxPages) ended = true
    const slot: Slot = { requested: requestedToken, exit: undefined, abort: undefined, fiber: undefined, early: undefined }
    inFlight.push(slot)
    if (fast !== undefined && startFast(fast, slot, pageRequest)) return
    fork(slot, span(e, "ChimeRoomsStream.page", { "chime.account": request.AccountId, "chime.page": requested }, fetchPage(e, pageRequest)))
  }

  /** Sends a page's first attempt without a fiber, when a permit is there at once; whether it did. */
  const startFast = (parts: FastParts, slot: Slot, pageRequest: ListRoomsRequest): boolean => {
    const { limiter } = parts
    if (limiter.reserve(clock.unsafeCurrentTimeMillis()) > 0) {
      // Not at once: the general way waits for its own permit.
      limiter.refund()
      return false
    }
    let settled = false
    const abort = parts.startListRooms(
      pageRequest,
      clock,
      (exit) => {
        settled = true
        firstAttempt(parts, slot, pageRequest, exit)
      },
      (next) => early(slot, next)
    )
    if (abort === undefined) {
      limiter.refund()
      return false
    }
    e.metrics?.recordRequest()
    requestsTotal.unsafeUpdate(1, labels)
    if (!settled) slot.abort = abort
    return true
  }

  /** The feedback of a fast first attempt, then its page, or its retries in a fiber. */
  const firstAttempt = (
    { limiter, release }: FastParts,
    slot: Slot,
    pageRequest: ListRoomsRequest,
    exit: Exit.Exit<ListRoomsOutput, ChimeError>
  ): void => {
    if (!inFlight.includes(slot)) return
    const now = clock.unsafeCurrentTimeMillis()
    if (Exit.isSuccess(exit)) {
      gauge(limiter.feedback(now, false))
      release(undefined)
      return arrive(slot, Exit.succeed({ output: exit.value, attempts: 1 }))
    }
    // A page that fails takes back the page its early token sent: the retries may bring another.
    undo(slot)
    if (exit.cause._tag !== "Fail") return arrive(slot, Exit.failCause(exit.cause))
    const error = exit.cause.error
    const throttled = isThrottlingError(error)
    gauge(limiter.feedback(now, throttled))
    if (throttled) {
      e.metrics?.recordThrottle()
      throttlesTotal.unsafeUpdate(1, labels)
    }
    fork(slot, retryAfterFirst(e, pageRequest, error))
  }

  /** Hands an arrival to the consumer: its page (sending the next one ahead first), or its failure. */
  const take = (arrival: Arrival): Effect.Effect<PumpedPage, ChimeError> => {
    const exit = arrival.exit
    if (Exit.isFailure(exit)) return Effect.failCause(Cause.map(exit.cause, (error) => withResumeToken(error, arrival.requested)))
    taken++
    const { attempts, output } = exit.value
    e.metrics?.recordPage(output.Rooms.length)
    pagesTotal.unsafeUpdate(1, labels)
    roomsTotal.unsafeUpdate(output.Rooms.length, labels)
    const page: PumpedPage = { output, attempts, pageNumber: taken }
    return startAhead() ? Effect.as(handOver, page) : Effect.succeed(page)
  }

  const waitForArrival = Effect.async<PumpedPage, ChimeError>((resume) => {
    waiter = () => {
      const arrival = ready.shift()
      if (arrival !== undefined) resume(take(arrival))
    }
    return Effect.sync(() => {
      waiter = undefined
    })
  })

  const done = Effect.succeed(undefined)
  const pull: Effect.Effect<PumpedPage | undefined, ChimeError> = Effect.suspend(() => {
    const arrival = ready.shift()
    if (arrival !== undefined) return take(arrival)
    if (inFlight.length === 0) {
      if (ended) return loop === undefined ? done : Effect.fail(loop)
      startNext()
      // A call can settle before it returns (an invalid request).
      const settled = ready.shift()
      if (settled !== undefined) return take(settled)
    }
    return waitForArrival
  })

  const stop = Effect.suspend(() => {
    const slots = inFlight.splice(0)
    for (const slot of slots) slot.abort?.()
    return Effect.forEach(slots, (slot) => (slot.fiber === undefined ? Effect.void : Fiber.interrupt(slot.fiber)), { discard: true })
  })

  return { pull, stop }
}
