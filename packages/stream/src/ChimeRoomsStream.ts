/**
 * Every room of an account as a `Stream`, page after page: each page is requested only when the
 * consumer pulls (or up to `prefetch` pages ahead), goes through the shared rate limiter, is
 * retried in place on a retryable failure (the stream never restarts), and arrives as one chunk.
 *
 * @since 0.1.0
 */
import type { ChimeError, ChimeRooms, ListRoomsRequest, Room } from "@chime-rooms/core"
import { PaginationLoopError, withResumeToken } from "@chime-rooms/core"
import { Channel, Chunk, Effect, Exit, Queue, Stream } from "effect"
import type { ChimeRateLimiter } from "./ChimeRateLimiter.js"
import { count, type Env, env, type Fetched, fetchPage, span } from "./internal/resilient.js"
import { pagesTotal, roomsTotal } from "./internal/metrics.js"
import * as Resilience from "./Resilience.js"
import type { RetryBudget } from "./RetryBudget.js"
import type { RetryPolicy } from "./RetryPolicy.js"

/**
 * One page of rooms.
 *
 * @since 0.1.0
 */
export interface RoomsPage {
  readonly rooms: ReadonlyArray<Room>
  /** `x-amzn-RequestId` of the response that carried the page. */
  readonly requestId?: string
  /** The token to resume the listing *after* this page; absent on the last page. */
  readonly nextToken?: string
  /** 1 for the first page of this stream. */
  readonly pageNumber: number
  /** How many requests this page took (1 when it needed no retry). */
  readonly attempts: number
}

/**
 * Options of {@link pages} and {@link rooms}.
 *
 * @since 0.1.0
 */
export interface StreamOptions {
  /**
   * Pages requested ahead of the consumer. Default 0: strict backpressure, a page is requested
   * only when the consumer pulls. With N, at most N pages are requested beyond those consumed, and
   * the next request is on the wire while the consumer works on a page (even work that never
   * suspends), which pays when each page's processing takes a while.
   */
  readonly prefetch?: number
  /** Stop (successfully) after this many pages. */
  readonly maxPages?: number
  /** The retry policy; default `RetryPolicy.defaultPolicy`. */
  readonly retry?: RetryPolicy
}

/**
 * What the streams require: a `ChimeRooms` and the shared services of `ChimeRoomsStream.layer`
 * (`ChimeMetrics`, when also provided, is recorded into).
 *
 * @since 0.1.0
 */
export type StreamRequirements = ChimeRooms | ChimeRateLimiter | RetryBudget

const requestFor = (request: ListRoomsRequest, token: string | undefined): ListRoomsRequest => {
  if (token !== undefined) return { ...request, NextToken: token }
  if (request.NextToken === undefined) return request
  const { NextToken: _, ...rest } = request
  return rest
}

/**
 * One pull per page (`undefined` once the listing is over); the state lives in the closure, fresh
 * for every run of the stream. No `Option` per pull: the channel below tells the end by `undefined`.
 */
const makePull = (
  e: Env,
  request: ListRoomsRequest,
  maxPages: number | undefined
): Effect.Effect<RoomsPage | undefined, ChimeError> => {
  const start = request.NextToken === "" ? undefined : request.NextToken
  const seen = new Set<string>()
  if (start !== undefined) seen.add(start)
  let token = start
  let pageNumber = 0
  let finished = false
  let loop: PaginationLoopError | undefined
  const done = Effect.succeed(undefined)
  /** Books a page in: loop check, next token, stats; one effect for the two metrics. */
  const onPage = ({ attempts, output }: Fetched): Effect.Effect<RoomsPage> => {
    pageNumber++
    const next = output.NextToken
    const requestId = output.$metadata.requestId
    if (next === undefined) finished = true
    else if (seen.has(next)) {
      loop = new PaginationLoopError(requestId === undefined ? { pages: pageNumber } : { pages: pageNumber, requestId })
    } else {
      seen.add(next)
      token = next
    }
    const rooms = output.Rooms
    e.metrics?.recordPage(rooms.length)
    const page: RoomsPage = {
      rooms,
      pageNumber,
      attempts,
      ...(requestId === undefined ? {} : { requestId }),
      ...(next === undefined ? {} : { nextToken: next })
    }
    return Effect.withFiberRuntime((fiber) => {
      count(fiber, pagesTotal, 1)
      count(fiber, roomsTotal, rooms.length)
      return Effect.succeed(page)
    })
  }
  return Effect.suspend(() => {
    if (loop !== undefined) return Effect.fail(loop)
    if (finished || (maxPages !== undefined && pageNumber >= maxPages)) return done
    const requested = token
    const fetched = span(
      e,
      "ChimeRoomsStream.page",
      { "chime.account": request.AccountId, "chime.page": pageNumber + 1 },
      fetchPage(e, requestFor(request, requested))
    )
    return Effect.matchEffect(fetched, {
      onFailure: (error) => Effect.fail(withResumeToken(error, requested)),
      onSuccess: onPage
    })
  })
}

/**
 * A channel that pulls a page each time downstream reads and writes `chunk(page)`. Hand-written
 * rather than `Stream.repeatEffectOption` + `mapConcatChunk`, which wrap every page in an `Option`,
 * a tuple, a one-element chunk and a mapped chunk; dropping those cut the stream's CPU over the
 * plain `listRooms` loop roughly in half (bench/decompose).
 */
const channelOf = <A>(
  pull: Effect.Effect<RoomsPage | undefined, ChimeError>,
  chunk: (page: RoomsPage) => Chunk.Chunk<A>
): Stream.Stream<A, ChimeError> => {
  const loop: Channel.Channel<Chunk.Chunk<A>, unknown, ChimeError, unknown, unknown, unknown> = Channel.flatMap(
    Channel.fromEffect(pull),
    (page) => page === undefined ? Channel.void : Channel.zipRight(Channel.write(chunk(page)), loop)
  )
  return Stream.fromChannel(loop)
}

/** Resumes on the next turn of the event loop, after the I/O callbacks and immediates already queued. */
const nextTurn: Effect.Effect<void> = Effect.async<void>((resume) => {
  if (typeof setImmediate !== "function") {
    const timer = setTimeout(() => resume(Effect.void), 0)
    return Effect.sync(() => clearTimeout(timer))
  }
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

/**
 * Runs `pull` in a background fiber at most `n` pages ahead of the consumer: the producer takes a
 * permit before each request, and the consumer gives one back when it takes a page.
 *
 * The hand-over is what makes the next request overlap the consumer's work on this page, even
 * when that work never suspends (CPU-bound work on each chunk), which would otherwise keep the
 * thread until the next pull:
 * - giving the permit back wakes the waiting producer in one scheduler hop (a `Semaphore` takes
 *   two, and the producer would then run only after the consumer);
 * - `yieldNow` lets it run up to its request;
 * - one turn of the event loop lets the transport write it: undici writes a request on a reused
 *   keep-alive socket from a `setImmediate`.
 * Measured (`bench/README.md`, "Prefetch"): 100 pages from an emulator that answers in ~25 ms,
 * 10 ms of synchronous work per page: 2.6 s with `prefetch: 1`, 3.5 s without, and 3.5 s with
 * `prefetch: 1` before this hand-over (a `Semaphore`, no yield).
 */
const prefetched = <A>(
  pull: Effect.Effect<RoomsPage | undefined, ChimeError>,
  n: number,
  chunk: (page: RoomsPage) => Chunk.Chunk<A>
): Stream.Stream<A, ChimeError> =>
  Stream.unwrapScoped(
    Effect.gen(function*() {
      const queue = yield* Queue.unbounded<Exit.Exit<RoomsPage | undefined, ChimeError>>()
      let permits = n
      let waiting: (() => void) | undefined
      const take = Effect.async<void>((resume) => {
        if (permits > 0) {
          permits--
          return resume(Effect.void)
        }
        waiting = () => {
          permits--
          resume(Effect.void)
        }
        return Effect.sync(() => {
          waiting = undefined
        })
      })
      const giveBack = Effect.sync(() => {
        permits++
        const wake = waiting
        waiting = undefined
        wake?.()
      })
      const producer: Effect.Effect<void> = take.pipe(
        Effect.zipRight(Effect.exit(pull)),
        Effect.flatMap((exit) =>
          Effect.zipRight(
            Queue.offer(queue, exit),
            Exit.isSuccess(exit) && exit.value !== undefined ? producer : Effect.void
          )
        )
      )
      yield* Effect.forkScoped(producer)
      const handOver = Effect.zipRight(giveBack, Effect.zipRight(Effect.yieldNow(), nextTurn))
      return channelOf(Queue.take(queue).pipe(Effect.flatMap((exit) => Effect.zipRight(handOver, exit))), chunk)
    })
  )

/** The stream of `chunk(page)` for every page, with or without prefetch. */
const streamOf = <A>(
  request: ListRoomsRequest,
  options: StreamOptions | undefined,
  chunk: (page: RoomsPage) => Chunk.Chunk<A>
): Stream.Stream<A, ChimeError, StreamRequirements> =>
  Stream.unwrap(
    Effect.map(env(options?.retry), (e) => {
      const prefetch = options?.prefetch ?? 0
      return Stream.suspend(() => {
        const pull = makePull(e, request, options?.maxPages)
        return prefetch > 0 ? prefetched(pull, prefetch, chunk) : channelOf(pull, chunk)
      })
    })
  )

const pageChunk = (page: RoomsPage): Chunk.Chunk<RoomsPage> => Chunk.of(page)
const roomsChunk = (page: RoomsPage): Chunk.Chunk<Room> => Chunk.unsafeFromArray(page.rooms)

/**
 * The pages of a listing, from `request.NextToken` (or the start) to the last page.
 *
 * Fails with the `ChimeError` of a page that failed for good — carrying `resumeToken`, the token
 * to pass as `NextToken` to resume exactly there (absent when the first page failed) — or with
 * `PaginationLoopError` when the service repeats a `NextToken` (after emitting the page that
 * repeated it).
 *
 * @example
 * ChimeRoomsStream.pages({ AccountId: "acc-1", MaxResults: 50 }).pipe(
 *   Stream.runForEach((page) => Console.log(page.pageNumber, page.rooms.length, page.nextToken))
 * )
 * @since 0.1.0
 */
export const pages = (
  request: ListRoomsRequest,
  options?: StreamOptions
): Stream.Stream<RoomsPage, ChimeError, StreamRequirements> => streamOf(request, options, pageChunk)

/**
 * The rooms of a listing, each page emitted as one chunk. See {@link pages} for failures.
 *
 * @example
 * const all = yield* ChimeRoomsStream.rooms({ AccountId: "acc-1" }).pipe(Stream.runCollect)
 * @since 0.1.0
 */
export const rooms = (
  request: ListRoomsRequest,
  options?: StreamOptions
): Stream.Stream<Room, ChimeError, StreamRequirements> => streamOf(request, options, roomsChunk)

/**
 * The shared services the streams need besides `ChimeRooms` (adaptive limiter, retry budget,
 * stats); the same as `Resilience.layer`.
 *
 * @example
 * ChimeRoomsStream.rooms(request).pipe(Stream.runCount, Effect.provide(ChimeRoomsStream.layer()), Effect.provide(HttpChimeRooms.layer))
 * @since 0.1.0
 */
export const layer = Resilience.layer
