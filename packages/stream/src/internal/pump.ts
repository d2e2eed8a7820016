/**
 * The pages of one stream run. A pump requests them, one at a time and in order; the consumer
 * only takes what has arrived. A page is requested when the consumer waits for it, or ahead of it
 * while fewer than `prefetch` requested pages are still untaken.
 *
 * Two ways to fetch a page, one behaviour:
 * - the fast one, when the service can start a call without a fiber (`unsafeListRooms`) and the
 *   limiter and budget have synchronous forms: the first attempt is sent at once (when the
 *   limiter grants a permit at once) and its outcome booked in the transport's own callback, where
 *   the next page can be sent before the consumer even hears of this one. Measured, the Effect
 *   runtime between a response and the next request cost more than the floor's whole per-page work.
 * - the general one, for everything else: `fetchPage` in a fiber forked from the consumer's
 *   runtime (its clock, services and fiber refs). A fast first attempt that fails continues there
 *   too, with the policy's retries.
 *
 * The consumer's wake-up has one rule, kept by {@link Pump}'s `notify` alone: a waiting consumer is
 * woken by the next arrival, failure or end; nothing else consumes a wake-up. Any callback may call
 * `notify` at any time, as often as it likes; it resumes the consumer only when `pull` has
 * something to give, and otherwise leaves it waiting for the call that does.
 *
 * Callbacks from a transport run outside any fiber: whatever they throw (a custom limiter, budget
 * or credentials, signing the next request) ends the listing with that defect rather than leaving
 * a page unsettled.
 */
import { ChimeError, type ListRoomsRequest, type ListRoomsResponse } from "@chime-rooms/core"
import * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import type * as MetricLabel from "effect/MetricLabel"
import * as Runtime from "effect/Runtime"
import { monotonicMillis } from "./clock.js"
import { LoopGuard } from "./loopGuard.js"
import { pagesTotal, rateLimitGauge, requestsTotal, roomsTotal, throttlesTotal } from "./metrics.js"
import { type Env, type Fetched, fetchPage, retryAfterFirst, span, telemetry } from "./resilient.js"

/** One page as the consumer gets it. */
export interface PumpedPage {
  readonly output: ListRoomsResponse.ListRoomsOutput
  readonly attempts: number
  readonly pageNumber: number
}

/** What a pump is made of. */
export interface PumpOptions {
  readonly env: Env
  readonly request: ListRoomsRequest.ListRoomsRequest
  readonly maxPages: number | undefined
  readonly prefetch: number
  /** The consumer's runtime, for the fibers of the general way. */
  readonly runtime: Runtime.Runtime<never>
  readonly clock: Clock.Clock
  readonly labels: ReadonlyArray<MetricLabel.MetricLabel>
}

/** A requested page that has arrived: its outcome and the token it was requested with. */
interface Arrival {
  readonly requested: string | undefined
  readonly exit: Exit.Exit<Fetched, ChimeError.ChimeError>
}

/** A requested page not yet handed to `ready`. */
interface Slot {
  readonly requested: string | undefined
  /** Its outcome, once in (pages are handed over in request order). */
  exit: Exit.Exit<Fetched, ChimeError.ChimeError> | undefined
  /** Aborts a call started without a fiber. */
  abort: (() => void) | undefined
  /** The fiber fetching it, when it is fetched in one. */
  fiber: Fiber.RuntimeFiber<Fetched, ChimeError.ChimeError> | undefined
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
  readonly pull: Effect.Effect<PumpedPage | undefined, ChimeError.ChimeError>
  /** Stops the pages in flight and any pending wake-up (the stream's finalizer). */
  readonly stop: Effect.Effect<void>
}

/** The request for the page after `token` (`undefined`: the first page). */
const requestFor = (request: ListRoomsRequest.ListRoomsRequest, token: string | undefined): ListRoomsRequest.ListRoomsRequest => {
  if (token !== undefined) return { ...request, NextToken: token }
  if (request.NextToken === undefined) return request
  const { NextToken: _, ...rest } = request
  return rest
}

/**
 * Calls `f` on the next turn of the event loop, after the I/O callbacks and immediates already
 * queued (so after undici writes a request just dispatched); returns what cancels it.
 */
const onNextTurn = (f: () => void): (() => void) => {
  if (typeof setImmediate !== "function") {
    const timer = setTimeout(f, 0)
    return () => clearTimeout(timer)
  }
  const handle = setImmediate(f)
  return () => clearImmediate(handle)
}

/** Resumes on the next turn of the event loop. */
const nextTurn: Effect.Effect<void> = Effect.async<void>((resume) => Effect.sync(onNextTurn(() => resume(Effect.void))))

/**
 * Lets a request just dispatched reach the wire before the consumer works on a page, even work
 * that never suspends: `yieldNow` lets a forked fetch run up to its request, and one turn of the
 * event loop lets the transport write it (undici writes on a reused keep-alive socket from a
 * `setImmediate`).
 */
const handOver = Effect.zipRight(Effect.yieldNow(), nextTurn)

/** What the fast way needs: a service that starts calls without a fiber, synchronous limiter and budget. */
interface FastParts {
  readonly unsafeListRooms: NonNullable<Env["service"]["unsafeListRooms"]>
  readonly unsafeReserve: NonNullable<Env["limiter"]["unsafeReserve"]>
  readonly unsafeRefund: NonNullable<Env["limiter"]["unsafeRefund"]>
  readonly unsafeFeedback: NonNullable<Env["limiter"]["unsafeFeedback"]>
  readonly unsafeRelease: NonNullable<Env["budget"]["unsafeRelease"]>
}

/** The fast way's parts, when all are there and no span is to be opened (spans need a fiber). */
const fastParts = (env: Env): FastParts | undefined => {
  const { unsafeListRooms } = env.service
  const { unsafeFeedback, unsafeRefund, unsafeReserve } = env.limiter
  const { unsafeRelease } = env.budget
  return unsafeListRooms !== undefined && unsafeReserve !== undefined && unsafeRefund !== undefined &&
      unsafeFeedback !== undefined && unsafeRelease !== undefined && !env.spans
    ? { unsafeListRooms, unsafeReserve, unsafeRefund, unsafeFeedback, unsafeRelease }
    : undefined
}

/**
 * The state of one run: one record, changed only by the named transitions of {@link makePump}.
 *
 * Its invariant, which every transition keeps: pages move one way, from requested to `inFlight` to
 * `ready` to taken, in request order; `inFlight` holds at most two pages, the second only while the
 * first carries an early booking (its `NextToken` heard before it arrived); `token` is the page to
 * request next unless `ended`; and a consumer waits (`waiter`) only while `pull` has nothing to give.
 */
interface PumpState {
  /** The token of the next page to request. */
  token: string | undefined
  /** No page left to request: the last one arrived, a loop, `maxPages`, or a failure for good. */
  ended: boolean
  /** Set once the stream is over for its consumer: nothing is requested or woken any more. */
  stopped: boolean
  /** The loop that ended the listing, if one did. */
  loopError: ChimeError.PaginationLoopError | undefined
  /** Pages requested, arrived and taken so far. */
  requested: number
  arrived: number
  taken: number
  /** Arrived pages and failures, in request order, for the consumer to take. */
  readonly ready: Array<Arrival>
  /** Requested pages not yet in `ready`, in request order. */
  readonly inFlight: Array<Slot>
  /** The waiting consumer's resumption, while it waits. */
  waiter: (() => void) | undefined
  /** Cancels the pending deferred `notify`, while one is pending. */
  deferred: (() => void) | undefined
}

export const makePump = ({ clock, env, labels, maxPages, prefetch, request, runtime }: PumpOptions): Pump => {
  const first = request.NextToken === "" ? undefined : request.NextToken
  const guard = new LoopGuard()
  if (first !== undefined) guard.add(first)
  const state: PumpState = {
    token: first,
    ended: false,
    stopped: false,
    loopError: undefined,
    requested: 0,
    arrived: 0,
    taken: 0,
    ready: [],
    inFlight: [],
    waiter: undefined,
    deferred: undefined
  }
  const { inFlight, ready } = state

  const fast = fastParts(env)
  const runFork = Runtime.runFork(runtime)

  const gauge = (changed: number | undefined): void => {
    if (changed !== undefined) rateLimitGauge.unsafeUpdate(changed, labels)
  }

  /** The wake-up rule (see the module's doc): resumes a waiting consumer when `pull` will not wait. */
  const notify = (): void => {
    const resume = state.waiter
    if (resume === undefined || (ready.length === 0 && inFlight.length > 0)) return
    state.waiter = undefined
    resume()
  }

  /** {@link notify} on the next turn of the event loop, once however often it is asked for. */
  const notifyLater = (): void => {
    state.deferred ??= onNextTurn(() => {
      state.deferred = undefined
      notify()
    })
  }

  /** Stops every page in flight from the `index`-th on, and forgets them. */
  const dropFrom = (index: number): void => {
    for (const dropped of inFlight.splice(index)) cancel(dropped)
  }

  /**
   * Something threw on `slot`'s way (a transport callback, a fiber observer, starting the call):
   * the page settles with that defect, or, when it had already settled, the listing ends with it
   * after the pages already in. Never an unsettled page, never a swallowed defect.
   */
  const fail = (slot: Slot, defect: unknown): void => {
    if (state.stopped) return
    if (slot.exit === undefined && inFlight.includes(slot)) {
      slot.abort?.()
      return arrive(slot, Exit.die(defect))
    }
    state.ended = true
    dropFrom(0)
    ready.push({ requested: slot.requested, exit: Exit.die(defect) })
    notify()
  }

  /** Runs a callback that a transport or a fiber observer calls, outside any fiber (see {@link fail}). */
  const guarded = (slot: Slot, f: () => void): void => {
    try {
      f()
    } catch (defect) {
      fail(slot, defect)
    }
  }

  /** Learns the token a page brings: the next one to request, or the end (last page, or a loop). */
  const book = (output: ListRoomsResponse.ListRoomsOutput, pageNumber: number): void => {
    const next = output.NextToken
    if (next === undefined) state.ended = true
    else if (guard.has(next)) {
      state.ended = true
      const requestId = output.$metadata.requestId
      state.loopError = new ChimeError.PaginationLoopError(
        requestId === undefined ? { pages: pageNumber } : { pages: pageNumber, requestId }
      )
    } else {
      guard.add(next)
      state.token = next
    }
  }

  /** A page's outcome is in: hands over every page now complete, in order, then refills the window. */
  const arrive = (slot: Slot, exit: Exit.Exit<Fetched, ChimeError.ChimeError>): void => {
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
        state.arrived++
        // A token booked early is followed from now on (it was checked against the guard then).
        if (head.early === undefined) book(outcome.value.output, state.arrived)
        else guard.add(head.early.next)
      } else {
        // The listing ends at a page that failed for good: nothing after it is wanted.
        state.ended = true
        dropFrom(0)
      }
      ready.push({ requested: head.requested, exit: outcome })
    }
    // With a request now on its way, the consumer hears of this page on the next turn, after the
    // transport has written it.
    if (startAhead() || inFlight.length > 0) notifyLater()
    else notify()
  }

  /** Sends the next page if the window allows; whether it did. */
  const startAhead = (): boolean => {
    if (state.ended || state.stopped || inFlight.length > 0 || ready.length >= prefetch) return false
    startNext()
    return true
  }

  /**
   * The token of the page in flight, heard before its rooms are validated: when the window allows,
   * the next page is sent now, and taken back if this one then fails or decodes to another token.
   */
  const bookEarly = (slot: Slot, next: string): void => {
    if (state.ended || state.stopped || inFlight.length !== 1 || inFlight[0] !== slot) return
    if (ready.length + 1 >= prefetch || guard.has(next)) return
    slot.early = { next, token: state.token, ended: state.ended, requested: state.requested }
    state.token = next
    startNext()
  }

  /** Takes back an early booking (the page failed, or brought another token): the page it sent is stopped. */
  const undo = (slot: Slot): void => {
    const booking = slot.early
    if (booking === undefined) return
    slot.early = undefined
    dropFrom(1)
    state.token = booking.token
    state.ended = booking.ended
    state.requested = booking.requested
  }

  /** Stops a page in flight, from outside any fiber. */
  const cancel = (slot: Slot): void => {
    if (slot.fiber !== undefined) slot.fiber.unsafeInterruptAsFork(FiberId.none)
    else slot.abort?.()
  }

  /** Continues a page in a fiber of the consumer's runtime. */
  const fork = (slot: Slot, effect: Effect.Effect<Fetched, ChimeError.ChimeError>): void => {
    const fiber = runFork(effect)
    slot.fiber = fiber
    slot.abort = undefined
    fiber.addObserver((exit) => guarded(slot, () => arrive(slot, exit)))
  }

  /** Requests the page after `token`: the fast way when it can, else in a fiber. */
  const startNext = (): void => {
    const requestedToken = state.token
    const pageRequest = requestFor(request, requestedToken)
    state.requested++
    if (maxPages !== undefined && state.requested >= maxPages) state.ended = true
    const slot: Slot = { requested: requestedToken, exit: undefined, abort: undefined, fiber: undefined, early: undefined }
    inFlight.push(slot)
    try {
      if (fast !== undefined && startFast(fast, slot, pageRequest)) return
    } catch (defect) {
      // Starting it threw (a custom limiter, credentials, signing): this page fails, those before it stand.
      return fail(slot, defect)
    }
    const page = fetchPage(env, pageRequest)
    const attributes = env.spans
      ? { [telemetry.account]: request.AccountId, [telemetry.page]: state.requested }
      : undefined
    fork(slot, attributes === undefined ? page : span(env, telemetry.pageSpan, attributes, page))
  }

  /** Sends a page's first attempt without a fiber, when a permit is there at once; whether it did. */
  const startFast = (parts: FastParts, slot: Slot, pageRequest: ListRoomsRequest.ListRoomsRequest): boolean => {
    if (parts.unsafeReserve(monotonicMillis(clock)) > 0) {
      // Not at once: the general way waits for its own permit.
      parts.unsafeRefund()
      return false
    }
    let settled = false
    let abort: (() => void) | undefined
    try {
      abort = parts.unsafeListRooms(
        pageRequest,
        clock,
        (exit) => {
          settled = true
          guarded(slot, () => firstAttempt(parts, slot, pageRequest, exit))
        },
        (next) => guarded(slot, () => bookEarly(slot, next))
      )
    } finally {
      // A call that never started (declined, or thrown) used no permit.
      if (abort === undefined) parts.unsafeRefund()
    }
    if (abort === undefined) return false
    env.metrics?.recordRequest()
    requestsTotal.unsafeUpdate(1, labels)
    if (!settled) slot.abort = abort
    return true
  }

  /** The feedback of a fast first attempt, then its page, or its retries in a fiber. */
  const firstAttempt = (
    { unsafeFeedback, unsafeRelease }: FastParts,
    slot: Slot,
    pageRequest: ListRoomsRequest.ListRoomsRequest,
    exit: Exit.Exit<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError>
  ): void => {
    if (!inFlight.includes(slot)) return
    const now = monotonicMillis(clock)
    if (Exit.isSuccess(exit)) {
      gauge(unsafeFeedback(now, false))
      unsafeRelease(undefined)
      return arrive(slot, Exit.succeed({ output: exit.value, attempts: 1 }))
    }
    // A page that fails takes back the page its early token sent: the retries may bring another.
    undo(slot)
    if (exit.cause._tag !== "Fail") return arrive(slot, Exit.failCause(exit.cause))
    const error = exit.cause.error
    const throttled = ChimeError.isThrottlingError(error)
    gauge(unsafeFeedback(now, throttled))
    if (throttled) {
      env.metrics?.recordThrottle()
      throttlesTotal.unsafeUpdate(1, labels)
    }
    fork(slot, retryAfterFirst(env, pageRequest, error))
  }

  /** Hands an arrival to the consumer: its page (sending the next one ahead first), or its failure. */
  const take = (arrival: Arrival): Effect.Effect<PumpedPage, ChimeError.ChimeError> => {
    const exit = arrival.exit
    if (Exit.isFailure(exit)) {
      return Effect.failCause(Cause.map(exit.cause, (error) => ChimeError.withResumeToken(error, arrival.requested)))
    }
    state.taken++
    const { attempts, output } = exit.value
    env.metrics?.recordPage(output.Rooms.length)
    pagesTotal.unsafeUpdate(1, labels)
    roomsTotal.unsafeUpdate(output.Rooms.length, labels)
    const page: PumpedPage = { output, attempts, pageNumber: state.taken }
    return startAhead() ? Effect.as(handOver, page) : Effect.succeed(page)
  }

  const done = Effect.succeed(undefined)
  const pull: Effect.Effect<PumpedPage | undefined, ChimeError.ChimeError> = Effect.suspend(() => {
    const arrival = ready.shift()
    if (arrival !== undefined) return take(arrival)
    if (inFlight.length === 0) {
      if (state.ended) return state.loopError === undefined ? done : Effect.fail(state.loopError)
      startNext()
      // A call can settle before it returns (an invalid request).
      const settled = ready.shift()
      if (settled !== undefined) return take(settled)
    }
    return waitForArrival
  })

  /** Waits for {@link notify}, then pulls again. */
  const waitForArrival: Effect.Effect<PumpedPage | undefined, ChimeError.ChimeError> = Effect.async((resume) => {
    state.waiter = () => resume(pull)
    return Effect.sync(() => {
      state.waiter = undefined
    })
  })

  const stop = Effect.suspend(() => {
    state.stopped = true
    state.waiter = undefined
    state.deferred?.()
    state.deferred = undefined
    const slots = inFlight.splice(0)
    for (const slot of slots) slot.abort?.()
    return Effect.forEach(
      slots,
      (slot) => (slot.fiber === undefined ? Effect.void : Fiber.interrupt(slot.fiber)),
      { discard: true }
    )
  })

  return { pull, stop }
}
