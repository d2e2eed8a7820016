/**
 * Every room of an account into a database, exactly once, surviving being killed: each page's rooms
 * and the token that follows it are committed in one transaction, and an export that starts again
 * resumes from the last token committed. An export started after one finished begins a new snapshot;
 * rows its listing no longer returns keep the earlier snapshot's number and time last seen.
 *
 * @since 0.3.0
 */
import type { ChimeError } from "@chime-rooms/core"
import { ChimeRoomsStream, type RetryPolicy } from "@chime-rooms/stream"
import * as Effect from "effect/Effect"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import { type Checkpoint, type ClaimOptions, RoomStore, type Session } from "./RoomStore.js"
import type { SqlExportError } from "./SqlExportError.js"

/**
 * What to export: an account, and the page size to ask for. No member filter and no token: an
 * export takes every room, and its token comes from the checkpoint.
 *
 * @category models
 * @since 0.3.0
 */
export interface ExportRequest {
  readonly AccountId: string
  /** The page size asked of the service, 1 to 99 (the service's default when absent). */
  readonly MaxResults?: number
}

/**
 * Options of {@link exportRooms}: how the account is claimed, and how the listing runs.
 *
 * @category models
 * @since 0.3.0
 */
export interface ExportOptions extends ClaimOptions {
  /** Pages requested ahead of the database (`ChimeRoomsStream` `prefetch`); default 2. */
  readonly prefetch?: number
  /** The retry policy of the listing. */
  readonly retry?: RetryPolicy.RetryPolicy
}

/**
 * What an export did, once its snapshot is done.
 *
 * @category models
 * @since 0.3.0
 */
export interface ExportSummary {
  readonly accountId: string
  readonly snapshot: number
  /** Whether it went on with a snapshot that an earlier export had begun. */
  readonly resumed: boolean
  /** Pages of the snapshot, those of earlier runs included. */
  readonly pages: number
  /** Rooms of the snapshot with a `RoomId` (a room listed twice counts twice). */
  readonly rooms: number
  /** Rooms of the snapshot without a `RoomId`: counted, not stored. */
  readonly unkeyed: number
  /** Rows of the account seen in this snapshot. */
  readonly stored: number
  /** Rows of the account last seen in an earlier snapshot: rooms the service no longer lists. */
  readonly notSeen: number
  readonly startedAt: Date
  readonly finishedAt: Date
}

/**
 * A sink of the pages of `session`'s listing: queues each for the store's writer, and once the
 * stream ends, waits for them to be committed and returns the checkpoint after them. Pages must be
 * those of `session.nextToken`'s listing, in order.
 *
 * @example
 * ```ts
 * import { RoomStore, SqlExport } from "@chime-rooms/sql"
 * import { ChimeRoomsStream } from "@chime-rooms/stream"
 * import { Effect, Stream } from "effect"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const store = yield* RoomStore.RoomStore
 *   const session = yield* store.claim("acc-1")
 *   return yield* ChimeRoomsStream.pages({ AccountId: "acc-1", NextToken: session.nextToken }).pipe(
 *     Stream.run(SqlExport.sink(session))
 *   )
 * }))
 * ```
 *
 * @category sinks
 * @since 0.3.0
 */
export const sink = (
  session: Session
): Sink.Sink<Checkpoint, ChimeRoomsStream.RoomsPage, never, SqlExportError, RoomStore> =>
  Sink.unwrap(
    Effect.map(RoomStore, (store) =>
      Sink.forEach((page: ChimeRoomsStream.RoomsPage) => store.write(session, page)).pipe(
        Sink.mapEffect(() => store.flush(session))
      ))
  )

/**
 * Exports every room of `request.AccountId`: claims the account (resuming its unfinished snapshot,
 * or beginning a new one), lists from the checkpoint's token into the store, and returns the
 * summary once the last page is committed. A failure leaves the checkpoint at the last page
 * committed: the same call resumes there.
 *
 * @example
 * ```ts
 * import { RoomStore, SqlExport } from "@chime-rooms/sql"
 * import { ChimeRoomsStream } from "@chime-rooms/stream"
 * import { Effect } from "effect"
 *
 * const program = SqlExport.exportRooms({ AccountId: "acc-1", MaxResults: 99 }).pipe(
 *   Effect.tap((summary) => Effect.log(`${summary.stored} rooms, ${summary.notSeen} no longer listed`)),
 *   Effect.provide(ChimeRoomsStream.layer())
 * )
 * ```
 *
 * @category exports
 * @since 0.3.0
 */
export const exportRooms = (
  request: ExportRequest,
  options: ExportOptions = {}
): Effect.Effect<
  ExportSummary,
  ChimeError.ChimeError | SqlExportError,
  ChimeRoomsStream.StreamRequirements | RoomStore
> =>
  Effect.scoped(Effect.gen(function*() {
    const store = yield* RoomStore
    const session = yield* store.claim(request.AccountId, options)
    const checkpoint = yield* ChimeRoomsStream.pages(
      {
        AccountId: request.AccountId,
        ...(request.MaxResults === undefined ? {} : { MaxResults: request.MaxResults }),
        ...(session.nextToken === undefined ? {} : { NextToken: session.nextToken })
      },
      { prefetch: options.prefetch ?? 2, ...(options.retry === undefined ? {} : { retry: options.retry }) }
    ).pipe(Stream.run(sink(session)))
    const { notSeen, seen } = yield* store.census(request.AccountId, session.snapshot)
    return {
      accountId: request.AccountId,
      snapshot: session.snapshot,
      resumed: session.resumed,
      pages: checkpoint.pages,
      rooms: checkpoint.rooms,
      unkeyed: checkpoint.unkeyed,
      stored: seen,
      notSeen,
      startedAt: checkpoint.startedAt,
      finishedAt: checkpoint.finishedAt ?? checkpoint.updatedAt
    }
  }))
