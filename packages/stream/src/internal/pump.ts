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
 * The consumer's wake-up has one rule, kept by {@link notify} alone: a waiting consumer is
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
const requestFor = (
  request: ListRoomsRequest.ListRoomsRequest,
  token: string | undefined
): ListRoomsRequest.ListRoomsRequest => {
  if (token !== undefined) return { ...request, NextToken: token }
  if (request.NextToken === undefined) return request
  const { NextToken: _, ...rest } = request
  return rest
}

/**
 * Calls `f` on the next turn of the event loop, after the I/O callbacks and immediates already
 * queued (so after undici writes a request just dispatched); returns what cancels it.
 */
const onNextTurn = (f: () => void): () => void => {
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
 * The state of one run: one record, changed only by the transitions below (`book`, `bookEarly`,
 * `arrive`, `undo`, `startNext`, `take`, `dropFrom`, `fail`, `notify`, `stop`).
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
  /** The tokens followed so far, to tell a loop. */
  readonly guard: LoopGuard
  /** Arrived pages and failures, in request order, for the consumer to take. */
  readonly ready: Array<Arrival>
  /** Requested pages not yet in `ready`, in request order. */
  readonly inFlight: Array<Slot>
  /** The waiting consumer's resumption, while it waits. */
  waiter: (() => void) | undefined
  /** Cancels the pending deferred `notify`, while one is pending. */
  deferred: (() => void) | undefined
}

/** What a run reads and never changes: its options, wired once by {@link makePump}. */
interface PumpEnv {
  readonly resilient: Env
  readonly request: ListRoomsRequest.ListRoomsRequest
  readonly maxPages: number | undefined
  readonly prefetch: number
  readonly clock: Clock.Clock
  readonly labels: ReadonlyArray<MetricLabel.MetricLabel>
  /** The fast way's parts, when it can be taken. */
  readonly fast: FastParts | undefined
  /** Forks in the consumer's runtime. */
  readonly runFork: (
    effect: Effect.Effect<Fetched, ChimeError.ChimeError>
  ) => Fiber.RuntimeFiber<Fetched, ChimeError.ChimeError>
}

/** Sets the rate gauge when the limiter's rate changed. */
const gauge = (env: PumpEnv, changed: number | undefined): void => {
  if (changed !== undefined) rateLimitGauge.unsafeUpdate(changed, env.labels)
}

/** The wake-up rule (see the module's doc): resumes a waiting consumer when `pull` will not wait. */
const notify = (state: PumpState): void => {
  const resume = state.waiter
  if (resume === undefined || (state.ready.length === 0 && state.inFlight.length > 0)) return
  state.waiter = undefined
  resume()
}

/** {@link notify} on the next turn of the event loop, once however often it is asked for. */
const notifyLater = (state: PumpState): void => {
  state.deferred ??= onNextTurn(() => {
    state.deferred = undefined
    notify(state)
  })
}

/** Stops a page in flight, from outside any fiber. */
const cancel = (slot: Slot): void => {
  if (slot.fiber !== undefined) slot.fiber.unsafeInterruptAsFork(FiberId.none)
  else slot.abort?.()
}

/** Drops the pages in flight from the `index`-th on: stops them and forgets them. */
const dropFrom = (state: PumpState, index: number): void => {
  for (const dropped of state.inFlight.splice(index)) cancel(dropped)
}

/**
 * Something threw on `slot`'s way (a transport callback, a fiber observer, starting the call):
 * the page settles with that defect, or, when it had already settled, the listing ends with it
 * after the pages already in. Never an unsettled page, never a swallowed defect.
 */
const fail = (state: PumpState, env: PumpEnv, slot: Slot, defect: unknown): void => {
  if (state.stopped) return
  if (slot.exit === undefined && state.inFlight.includes(slot)) {
    slot.abort?.()
    return arrive(state, env, slot, Exit.die(defect))
  }
  state.ended = true
  dropFrom(state, 0)
  state.ready.push({ requested: slot.requested, exit: Exit.die(defect) })
  notify(state)
}

/** Runs a callback that a transport or a fiber observer calls, outside any fiber (see {@link fail}). */
const guarded = (state: PumpState, env: PumpEnv, slot: Slot, f: () => void): void => {
  try {
    f()
  } catch (defect) {
    fail(state, env, slot, defect)
  }
}

/** Books the token a page brings: the next one to request, or the end (last page, or a loop). */
const book = (state: PumpState, output: ListRoomsResponse.ListRoomsOutput, pageNumber: number): void => {
  const next = output.NextToken
  if (next === undefined) state.ended = true
  else if (state.guard.has(next)) {
    state.ended = true
    const requestId = output.$metadata.requestId
    state.loopError = new ChimeError.PaginationLoopError(
      requestId === undefined ? { pages: pageNumber } : { pages: pageNumber, requestId }
    )
  } else {
    state.guard.add(next)
    state.token = next
  }
}

/**
 * Settles `slot` with its outcome: moves every page now complete from `inFlight` to `ready`, in
 * order (booking its token, or ending the listing at a failure), then refills the window.
 */
const arrive = (state: PumpState, env: PumpEnv, slot: Slot, exit: Exit.Exit<Fetched, ChimeError.ChimeError>): void => {
  const { inFlight } = state
  if (!inFlight.includes(slot)) return
  slot.exit = exit
  for (let head = inFlight[0]; head?.exit !== undefined; head = inFlight[0]) {
    const outcome = head.exit
    // An early token is a guess until the page is decoded: a different `NextToken` takes it back.
    if (Exit.isSuccess(outcome) && head.early !== undefined && head.early.next !== outcome.value.output.NextToken) {
      undo(state, head)
    }
    inFlight.shift()
    if (Exit.isSuccess(outcome)) {
      state.arrived++
      // A token booked early is followed from now on (it was checked against the guard then).
      if (head.early === undefined) book(state, outcome.value.output, state.arrived)
      else state.guard.add(head.early.next)
    } else {
      // The listing ends at a page that failed for good: nothing after it is wanted.
      state.ended = true
      dropFrom(state, 0)
    }
    state.ready.push({ requested: head.requested, exit: outcome })
  }
  // With a request now on its way, the consumer hears of this page on the next turn, after the
  // transport has written it.
  if (startAhead(state, env) || inFlight.length > 0) notifyLater(state)
  else notify(state)
}

/** Requests the next page if the window allows (nothing in flight, fewer than `prefetch` ready); whether it did. */
const startAhead = (state: PumpState, env: PumpEnv): boolean => {
  if (state.ended || state.stopped || state.inFlight.length > 0 || state.ready.length >= env.prefetch) return false
  startNext(state, env)
  return true
}

/**
 * Books the token of the page in flight, heard before its rooms are validated: when the window
 * allows, sets `token` to it and requests the next page now, recording in `slot.early` what to
 * go back to if this one then fails or decodes to another token.
 */
const bookEarly = (state: PumpState, env: PumpEnv, slot: Slot, next: string): void => {
  const { inFlight } = state
  if (state.ended || state.stopped || inFlight.length !== 1 || inFlight[0] !== slot) return
  if (state.ready.length + 1 >= env.prefetch || state.guard.has(next)) return
  slot.early = { next, token: state.token, ended: state.ended, requested: state.requested }
  state.token = next
  startNext(state, env)
}

/** Takes back `slot`'s early booking: drops the page it sent, restores `token`, `ended` and `requested`. */
const undo = (state: PumpState, slot: Slot): void => {
  const booking = slot.early
  if (booking === undefined) return
  slot.early = undefined
  dropFrom(state, 1)
  state.token = booking.token
  state.ended = booking.ended
  state.requested = booking.requested
}

/** Continues `slot`'s page in a fiber of the consumer's runtime, which settles it when done. */
const fork = (
  state: PumpState,
  env: PumpEnv,
  slot: Slot,
  effect: Effect.Effect<Fetched, ChimeError.ChimeError>
): void => {
  const fiber = env.runFork(effect)
  slot.fiber = fiber
  slot.abort = undefined
  fiber.addObserver((exit) => guarded(state, env, slot, () => arrive(state, env, slot, exit)))
}

/** Requests the page after `token` (into `inFlight`): the fast way when it can, else in a fiber. */
const startNext = (state: PumpState, env: PumpEnv): void => {
  const { maxPages, request, resilient } = env
  const requestedToken = state.token
  const pageRequest = requestFor(request, requestedToken)
  state.requested++
  if (maxPages !== undefined && state.requested >= maxPages) state.ended = true
  const slot: Slot = {
    requested: requestedToken,
    exit: undefined,
    abort: undefined,
    fiber: undefined,
    early: undefined
  }
  state.inFlight.push(slot)
  try {
    if (env.fast !== undefined && startFast(state, env, env.fast, slot, pageRequest)) return
  } catch (defect) {
    // Starting it threw (a custom limiter, credentials, signing): this page fails, those before it stand.
    return fail(state, env, slot, defect)
  }
  const page = fetchPage(resilient, pageRequest)
  const attributes = resilient.spans
    ? { [telemetry.account]: request.AccountId, [telemetry.page]: state.requested }
    : undefined
  fork(state, env, slot, attributes === undefined ? page : span(resilient, telemetry.pageSpan, attributes, page))
}

/** Sends `slot`'s first attempt without a fiber, when a permit is there at once; whether it did. */
const startFast = (
  state: PumpState,
  env: PumpEnv,
  parts: FastParts,
  slot: Slot,
  pageRequest: ListRoomsRequest.ListRoomsRequest
): boolean => {
  const { clock, labels } = env
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
        guarded(state, env, slot, () => firstAttempt(state, env, parts, slot, pageRequest, exit))
      },
      (next) => guarded(state, env, slot, () => bookEarly(state, env, slot, next))
    )
  } finally {
    // A call that never started (declined, or thrown) used no permit.
    if (abort === undefined) parts.unsafeRefund()
  }
  if (abort === undefined) return false
  env.resilient.metrics?.recordRequest()
  requestsTotal.unsafeUpdate(1, labels)
  if (!settled) slot.abort = abort
  return true
}

/** A fast first attempt's outcome: the limiter's feedback, then `slot` settled, or its retries forked. */
const firstAttempt = (
  state: PumpState,
  env: PumpEnv,
  { unsafeFeedback, unsafeRelease }: FastParts,
  slot: Slot,
  pageRequest: ListRoomsRequest.ListRoomsRequest,
  exit: Exit.Exit<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError>
): void => {
  if (!state.inFlight.includes(slot)) return
  const now = monotonicMillis(env.clock)
  if (Exit.isSuccess(exit)) {
    gauge(env, unsafeFeedback(now, false))
    unsafeRelease(undefined)
    return arrive(state, env, slot, Exit.succeed({ output: exit.value, attempts: 1 }))
  }
  // A page that fails takes back the page its early token sent: the retries may bring another.
  undo(state, slot)
  if (exit.cause._tag !== "Fail") return arrive(state, env, slot, Exit.failCause(exit.cause))
  const error = exit.cause.error
  const throttled = ChimeError.isThrottlingError(error)
  gauge(env, unsafeFeedback(now, throttled))
  if (throttled) {
    env.resilient.metrics?.recordThrottle()
    throttlesTotal.unsafeUpdate(1, env.labels)
  }
  fork(state, env, slot, retryAfterFirst(env.resilient, pageRequest, error))
}

/** Hands an arrival to the consumer (`taken` counted): its page, sending the next one ahead first, or its failure. */
const take = (state: PumpState, env: PumpEnv, arrival: Arrival): Effect.Effect<PumpedPage, ChimeError.ChimeError> => {
  const exit = arrival.exit
  if (Exit.isFailure(exit)) {
    return Effect.failCause(Cause.map(exit.cause, (error) => ChimeError.withResumeToken(error, arrival.requested)))
  }
  state.taken++
  const { attempts, output } = exit.value
  const { labels } = env
  env.resilient.metrics?.recordPage(output.Rooms.length)
  pagesTotal.unsafeUpdate(1, labels)
  roomsTotal.unsafeUpdate(output.Rooms.length, labels)
  const page: PumpedPage = { output, attempts, pageNumber: state.taken }
  return startAhead(state, env) ? Effect.as(handOver, page) : Effect.succeed(page)
}

const done = Effect.succeed(undefined)

/**
 * What `pull` gives without waiting: the next arrival taken, the end, or (nothing in flight) the
 * next page requested and taken if it settled at once; `undefined` when the consumer must wait.
 */
const pullNow = (
  state: PumpState,
  env: PumpEnv
): Effect.Effect<PumpedPage | undefined, ChimeError.ChimeError> | undefined => {
  const arrival = state.ready.shift()
  if (arrival !== undefined) return take(state, env, arrival)
  if (state.inFlight.length === 0) {
    if (state.ended) return state.loopError === undefined ? done : Effect.fail(state.loopError)
    startNext(state, env)
    // A call can settle before it returns (an invalid request).
    const settled = state.ready.shift()
    if (settled !== undefined) return take(state, env, settled)
  }
  return undefined
}

/** Ends the run for its consumer (`stopped`): no wake-up any more, every page in flight stopped. */
const stop = (state: PumpState): Effect.Effect<void> => {
  state.stopped = true
  state.waiter = undefined
  state.deferred?.()
  state.deferred = undefined
  const slots = state.inFlight.splice(0)
  for (const slot of slots) slot.abort?.()
  return Effect.forEach(
    slots,
    (slot) => (slot.fiber === undefined ? Effect.void : Fiber.interrupt(slot.fiber)),
    { discard: true }
  )
}

/** A pump for one listing: its state and environment, and `pull` and `stop` over the transitions above. */
export const makePump = (
  { clock, env: resilient, labels, maxPages, prefetch, request, runtime }: PumpOptions
): Pump => {
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
    guard,
    ready: [],
    inFlight: [],
    waiter: undefined,
    deferred: undefined
  }
  const env: PumpEnv = {
    resilient,
    request,
    maxPages,
    prefetch,
    clock,
    labels,
    fast: fastParts(resilient),
    runFork: Runtime.runFork(runtime)
  }
  const pull: Effect.Effect<PumpedPage | undefined, ChimeError.ChimeError> = Effect.suspend(() =>
    pullNow(state, env) ?? waitForArrival
  )
  /** Waits for {@link notify}, then pulls again. */
  const waitForArrival: Effect.Effect<PumpedPage | undefined, ChimeError.ChimeError> = Effect.async((resume) => {
    state.waiter = () => resume(pull)
    return Effect.sync(() => {
      state.waiter = undefined
    })
  })
  return { pull, stop: Effect.suspend(() => stop(state)) }
}
