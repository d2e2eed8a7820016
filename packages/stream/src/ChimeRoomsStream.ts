/**
 * Every room of an account as a `Stream`, page after page: each page is requested only when the
 * consumer pulls (or up to `prefetch` pages ahead), goes through the shared rate limiter, is
 * retried in place on a retryable failure (the stream never restarts), and arrives as one chunk.
 *
 * @since 0.1.0
 */
import type { ChimeError, ChimeRooms, ListRoomsRequest, Room } from "@chime-rooms/core"
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Stream from "effect/Stream"
import type { ChimeRateLimiter } from "./ChimeRateLimiter.js"
import { makePump, type PumpedPage } from "./internal/pump.js"
import { env } from "./internal/resilient.js"
import * as Resilience from "./Resilience.js"
import type { RetryBudget } from "./RetryBudget.js"
import type { RetryPolicy } from "./RetryPolicy.js"

/**
 * One page of rooms.
 *
 * @category models
 * @since 0.1.0
 */
export interface RoomsPage {
  readonly rooms: ReadonlyArray<Room.Room>
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
 * @category models
 * @since 0.1.0
 */
export interface StreamOptions {
  /**
   * Pages requested ahead of the consumer. Default 0: strict backpressure, a page is requested
   * only when the consumer pulls. With N, at most N pages are requested beyond those consumed, and
   * the next request is on the wire while the consumer works on a page (even work that never
   * suspends), which pays when each page's processing takes a while. With 2 or more over
   * `HttpChimeRooms` and `UndiciHttpClient`, the next request leaves from the callback that
   * delivers a page, as soon as its token is in, before the page is parsed; with 3 it can do so
   * even while the page before waits to be taken (measured in `packages/stream/README.md`, "How pages are fetched").
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
 * @category models
 * @since 0.1.0
 */
export type StreamRequirements = ChimeRooms.ChimeRooms | ChimeRateLimiter | RetryBudget

/**
 * A channel that pulls a page each time downstream reads and writes `chunk(page)`. Hand-written
 * rather than `Stream.repeatEffectOption` + `mapConcatChunk`, which wrap every page in an `Option`,
 * a tuple, a one-element chunk and a mapped chunk; dropping those cut the stream's CPU over the
 * plain `listRooms` loop roughly in half (bench/decompose).
 */
const channelOf = <P, A>(
  pull: Effect.Effect<P | undefined, ChimeError.ChimeError>,
  chunk: (page: P) => Chunk.Chunk<A>
): Stream.Stream<A, ChimeError.ChimeError> => {
  const loop: Channel.Channel<Chunk.Chunk<A>, unknown, ChimeError.ChimeError, unknown, unknown, unknown> = Channel
    .flatMap(
      Channel.fromEffect(pull),
      (page) => page === undefined ? Channel.void : Channel.zipRight(Channel.write(chunk(page)), loop)
    )
  return Stream.fromChannel(loop)
}

/** The stream of `chunk(page)` for every page (see `internal/pump.ts` for how pages are fetched). */
const streamOf = <A>(
  request: ListRoomsRequest.ListRoomsRequest,
  options: StreamOptions | undefined,
  chunk: (page: RoomsPage) => Chunk.Chunk<A>
): Stream.Stream<A, ChimeError.ChimeError, StreamRequirements> =>
  Stream.unwrapScoped(
    Effect.gen(function*() {
      const resilience = yield* env(options?.retry)
      const runtime = yield* Effect.runtime<never>()
      const clock = yield* Effect.clock
      const labels = yield* FiberRef.get(FiberRef.currentMetricLabels)
      const pump = makePump({
        env: resilience,
        request,
        maxPages: options?.maxPages,
        prefetch: options?.prefetch ?? 0,
        runtime,
        clock,
        labels
      })
      yield* Effect.addFinalizer(() => pump.stop)
      return channelOf(pump.pull, (pumped) => chunk(roomsPage(pumped)))
    })
  )

const roomsPage = ({ attempts, output, pageNumber }: PumpedPage): RoomsPage => {
  const requestId = output.$metadata.requestId
  const next = output.NextToken
  return {
    rooms: output.Rooms,
    pageNumber,
    attempts,
    ...(requestId === undefined ? {} : { requestId }),
    ...(next === undefined ? {} : { nextToken: next })
  }
}

const pageChunk = (page: RoomsPage): Chunk.Chunk<RoomsPage> => Chunk.of(page)
const roomsChunk = (page: RoomsPage): Chunk.Chunk<Room.Room> => Chunk.unsafeFromArray(page.rooms)

/**
 * The pages of a listing, from `request.NextToken` (or the start) to the last page.
 *
 * Fails with the `ChimeError` of a page that failed for good — carrying `resumeToken`, the token
 * to pass as `NextToken` to resume exactly there (absent when the first page failed) — or with
 * `PaginationLoopError` when the service repeats a `NextToken` (after emitting the page that
 * repeated it).
 *
 * @example
 * ```ts
 * import { ChimeRoomsStream } from "@chime-rooms/stream"
 * import { Console, Stream } from "effect"
 *
 * ChimeRoomsStream.pages({ AccountId: "acc-1", MaxResults: 50 }).pipe(
 *   Stream.runForEach((page) => Console.log(page.pageNumber, page.rooms.length, page.nextToken))
 * )
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const pages = (
  request: ListRoomsRequest.ListRoomsRequest,
  options?: StreamOptions
): Stream.Stream<RoomsPage, ChimeError.ChimeError, StreamRequirements> => streamOf(request, options, pageChunk)

/**
 * The rooms of a listing, each page emitted as one chunk. See {@link pages} for failures.
 *
 * @example
 * ```ts
 * import { ChimeRoomsStream } from "@chime-rooms/stream"
 * import { Effect, Stream } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const all = yield* ChimeRoomsStream.rooms({ AccountId: "acc-1" }).pipe(Stream.runCollect)
 *   return all.length
 * })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const rooms = (
  request: ListRoomsRequest.ListRoomsRequest,
  options?: StreamOptions
): Stream.Stream<Room.Room, ChimeError.ChimeError, StreamRequirements> => streamOf(request, options, roomsChunk)

/**
 * The shared services the streams need besides `ChimeRooms` (adaptive limiter, retry budget,
 * stats); the same as `Resilience.layer`.
 *
 * @example
 * ```ts
 * import { CredentialsChain, HttpChimeRooms, UndiciHttpClient } from "@chime-rooms/http"
 * import { ChimeRoomsStream } from "@chime-rooms/stream"
 * import { Effect, Layer, Stream } from "effect"
 *
 * const http = HttpChimeRooms.layer().pipe(
 *   Layer.provide(UndiciHttpClient.layer),
 *   Layer.provide(CredentialsChain.layer())
 * )
 * ChimeRoomsStream.rooms({ AccountId: "acc-1" }).pipe(
 *   Stream.runCount,
 *   Effect.provide(ChimeRoomsStream.layer()),
 *   Effect.provide(http)
 * )
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = Resilience.layer
