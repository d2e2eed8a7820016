/**
 * `SqlExport` on SQLite (libsql, a file in a temporary directory): every room once, resumed after a
 * failure from the committed checkpoint, a new snapshot after a finished one, rooms without a
 * `RoomId` counted, one export of an account at a time.
 */
import type { Room } from "@chime-rooms/core"
import { RoomStore, SqlExport, SqlExportError } from "@chime-rooms/sql"
import { ChimeRoomsStream, RetryPolicy } from "@chime-rooms/stream"
import { Dataset, Fault, InMemory } from "@chime-rooms/testing"
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Stream, TestClock } from "effect"
import { type Database, kinds } from "./databases.js"

const noRetry = RetryPolicy.make({ maxAttempts: 1 })

const roomsOf = (n: number, prefix = "r"): ReadonlyArray<Room.RoomEncoded> =>
  Array.from({ length: n }, (_, i) => ({
    AccountId: "acc-1",
    RoomId: `${prefix}-${String(i).padStart(4, "0")}`,
    Name: `Room name ${i}`,
    CreatedBy: "user-1",
    CreatedTimestamp: "2020-01-02T03:04:05.678Z",
    UpdatedTimestamp: "2021-01-02T03:04:05Z"
  }))

const rowsOf = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) =>
    sql<{ readonly room_id: string; readonly snapshot: number }>`SELECT room_id, snapshot FROM rooms ORDER BY room_id`
)

const run = (db: Database) => <A, E>(effect: Effect.Effect<A, E, RoomStore.RoomStore | SqlClient.SqlClient>) =>
  effect.pipe(Effect.provide(RoomStore.layer().pipe(Layer.provideMerge(db.layer))))

const listing = (rooms: ReadonlyArray<Room.RoomEncoded>, faults: InMemory.InMemoryOptions["faults"] = []) =>
  Layer.merge(
    InMemory.layer({ dataset: Dataset.fromRooms({ "acc-1": { rooms } }), pageSize: 7, faults, tokenSecret: "tests" }),
    ChimeRoomsStream.layer()
  )

describe.each(kinds)("SqlExport on $name", (database) => {
  it.scoped("exports every room once, with every member, and marks the checkpoint done", () =>
    Effect.gen(function*() {
      const db = yield* database.make
      const summary = yield* SqlExport.exportRooms({ AccountId: "acc-1" }, { retry: noRetry }).pipe(
        Effect.provide(listing(roomsOf(50))),
        run(db)
      )
      assert.deepInclude(summary, {
        accountId: "acc-1",
        snapshot: 1,
        resumed: false,
        pages: 8,
        rooms: 50,
        unkeyed: 0,
        stored: 50,
        notSeen: 0
      })
      const [rows, checkpoint] = yield* Effect.all([
        Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT * FROM rooms WHERE room_id = 'r-0003'`),
        Effect.flatMap(RoomStore.RoomStore, (store) => store.checkpoint("acc-1"))
      ]).pipe(run(db))
      const row = rows[0]!
      assert.strictEqual(row.name, "Room name 3")
      assert.strictEqual(row.created_by, "user-1")
      assert.strictEqual(new Date(row.created_timestamp as string).toISOString(), "2020-01-02T03:04:05.678Z")
      assert.strictEqual(new Date(row.updated_timestamp as string).toISOString(), "2021-01-02T03:04:05.000Z")
      assert.strictEqual(Number(row.snapshot), 1)
      assert.isTrue(checkpoint._tag === "Some" && checkpoint.value.status === "done")
      assert.isTrue(checkpoint._tag === "Some" && checkpoint.value.nextToken === undefined)
    }))

  it.scoped("the sink of pages: a claimed session's listing committed, the checkpoint after it returned", () =>
    Effect.gen(function*() {
      const db = yield* database.make
      const checkpoint = yield* Effect.scoped(Effect.gen(function*() {
        const store = yield* RoomStore.RoomStore
        const session = yield* store.claim("acc-1")
        assert.isUndefined(session.nextToken)
        return yield* ChimeRoomsStream.pages({ AccountId: "acc-1" }).pipe(Stream.run(SqlExport.sink(session)))
      })).pipe(Effect.provide(listing(roomsOf(20))), run(db))
      assert.deepInclude(checkpoint, { accountId: "acc-1", snapshot: 1, status: "done", pages: 3, rooms: 20 })
      assert.isUndefined(checkpoint.nextToken)
      assert.strictEqual((yield* rowsOf.pipe(run(db))).length, 20)
    }))

  it.scoped("a failed listing resumes from the committed checkpoint: every room exactly once", () =>
    Effect.gen(function*() {
      const db = yield* database.make
      const rooms = roomsOf(60)
      // The fourth request fails for good (403 is not retried).
      const failure = yield* SqlExport.exportRooms({ AccountId: "acc-1" }, { retry: noRetry }).pipe(
        Effect.provide(listing(rooms, [{ calls: [4], fault: Fault.serviceError("ForbiddenException") }])),
        run(db),
        Effect.flip
      )
      assert.strictEqual(failure._tag, "ForbiddenException")
      const checkpoint = yield* Effect.flatMap(RoomStore.RoomStore, (store) => store.checkpoint("acc-1")).pipe(run(db))
      assert.isTrue(checkpoint._tag === "Some")
      if (checkpoint._tag !== "Some") return
      assert.strictEqual(checkpoint.value.status, "running")
      assert.strictEqual(checkpoint.value.pages, 3)
      assert.strictEqual(checkpoint.value.rooms, 21)
      assert.strictEqual(checkpoint.value.nextToken, (failure as { resumeToken?: string }).resumeToken)
      const summary = yield* SqlExport.exportRooms({ AccountId: "acc-1" }, { retry: noRetry }).pipe(
        Effect.provide(listing(rooms)),
        run(db)
      )
      assert.deepInclude(summary, { snapshot: 1, resumed: true, pages: 9, rooms: 60, stored: 60, notSeen: 0 })
      const rows = yield* rowsOf.pipe(run(db))
      assert.deepStrictEqual(rows.map((r) => r.room_id), rooms.map((r) => r.RoomId))
    }))

  it.scoped("a finished export run again begins a new snapshot; rooms no longer listed keep the old one", () =>
    Effect.gen(function*() {
      const db = yield* database.make
      const rooms = roomsOf(30)
      yield* SqlExport.exportRooms({ AccountId: "acc-1" }).pipe(Effect.provide(listing(rooms)), run(db))
      // Ten rooms are gone, five are new.
      const second = rooms.slice(10).concat(roomsOf(5, "s"))
      const summary = yield* SqlExport.exportRooms({ AccountId: "acc-1" }).pipe(
        Effect.provide(listing(second)),
        run(db)
      )
      assert.deepInclude(summary, { snapshot: 2, resumed: false, rooms: 25, stored: 25, notSeen: 10 })
      const rows = yield* rowsOf.pipe(run(db))
      assert.strictEqual(rows.length, 35)
      assert.deepStrictEqual(
        rows.filter((r) => Number(r.snapshot) === 1).map((r) => r.room_id),
        rooms.slice(0, 10).map((r) => r.RoomId)
      )
    }))

  it.scoped("rooms without a RoomId are counted in the summary and the checkpoint; a repeated room is one row", () =>
    Effect.gen(function*() {
      const db = yield* database.make
      const rooms: Array<Room.RoomEncoded> = [...roomsOf(10)]
      rooms.splice(3, 0, { Name: "no id" }, { RoomId: "", Name: "empty id" })
      rooms.push(rooms[0]!)
      const summary = yield* SqlExport.exportRooms({ AccountId: "acc-1" }).pipe(
        Effect.provide(listing(rooms)),
        run(db)
      )
      assert.deepInclude(summary, { rooms: 11, unkeyed: 2, stored: 10 })
      const checkpoint = yield* Effect.flatMap(RoomStore.RoomStore, (store) => store.checkpoint("acc-1")).pipe(run(db))
      assert.isTrue(checkpoint._tag === "Some" && checkpoint.value.unkeyed === 2)
    }))

  it.scoped("a second export of the same account at once refuses, or waits for the first", () =>
    Effect.gen(function*() {
      const db = yield* database.make
      const layer = RoomStore.layer().pipe(Layer.provideMerge(db.layer))
      yield* Effect.gen(function*() {
        const store = yield* RoomStore.RoomStore
        const first = yield* Effect.scoped(
          Effect.flatMap(store.claim("acc-1"), () =>
            Effect.gen(function*() {
              const busy = yield* Effect.flip(Effect.scoped(store.claim("acc-1")))
              assert.instanceOf(busy, SqlExportError.ExportBusyError)
              assert.include(busy.message, `process ${process.pid}`)
              // Waiting: it gets the account once the first scope closes.
              return yield* Effect.fork(Effect.scoped(store.claim("acc-1", { onBusy: "wait" })))
            }))
        )
        yield* TestClock.adjust("2 seconds")
        const session = yield* Fiber.join(first)
        assert.strictEqual(session.snapshot, 1)
      }).pipe(Effect.provide(layer))
    }))

  // Not on SQLite through the stock libsql client: its transaction that fails to begin (SQLITE_BUSY,
  // the file locked by another connection) keeps the client's lock, and every later statement of
  // that client waits for good. `chime-rooms export` opens SQLite with a client that waits for the
  // file's lock instead (packages/cli/src/internal/sqlite.ts), tested with two processes there.
  if (database.name === "SQLite") return
  it.live(
    "two stores on one database (as two processes would) migrate and export two accounts at once",
    () =>
      Effect.scoped(Effect.gen(function*() {
        const db = yield* database.make
        const dataset = Dataset.generate({ seed: 9, accounts: 2, roomsPerAccount: 300 })
        const listingOf = InMemory.layer({ dataset, pageSize: 9, tokenSecret: "tests" })
        // Each store on a client of its own: on SQLite, connections that contend for the file's lock.
        const exportOn = (accountId: string) =>
          SqlExport.exportRooms({ AccountId: accountId }).pipe(
            Effect.provide(Layer.merge(listingOf, ChimeRoomsStream.layer())),
            Effect.provide(RoomStore.layer({ commitInterval: "5 millis" }).pipe(Layer.provide(db.layer)))
          )
        const [a, b] = yield* Effect.all(dataset.accounts.map(exportOn), { concurrency: 2 })
        assert.deepInclude(a, { stored: 300, rooms: 300 })
        assert.deepInclude(b, { stored: 300, rooms: 300 })
        const rows = yield* rowsOf.pipe(Effect.provide(db.layer))
        assert.strictEqual(rows.length, 600)
      })),
    30_000
  )
})
