/**
 * The lease an export holds on its account: taken over at once from a process seen dead on this
 * host, waited out from one on another host, renewed while the export lasts; an export that lost
 * it writes nothing more.
 */
import { RoomStore, SqlExport, SqlExportError } from "@chime-rooms/sql"
import type { ChimeRoomsStream } from "@chime-rooms/stream"
import { ChimeRoomsStream as Streams, RetryPolicy } from "@chime-rooms/stream"
import { Dataset, Fault, InMemory } from "@chime-rooms/testing"
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, TestClock } from "effect"
import { spawnSync } from "node:child_process"
import * as os from "node:os"
import { kinds } from "./databases.js"

const dataset = Dataset.generate({ seed: 4, accounts: 1, roomsPerAccount: 60 })
const accountId = dataset.accounts[0]!

const listing = (faults: InMemory.InMemoryOptions["faults"] = []) =>
  Layer.merge(InMemory.layer({ dataset, pageSize: 7, faults, tokenSecret: "tests" }), Streams.layer())

const holder = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<
    { readonly owner: string | null; readonly lease_until: number | string | null }
  >`SELECT owner, lease_until FROM room_exports WHERE account_id = ${accountId}`).pipe(
    Effect.map((rows) => rows[0]!),
    Effect.orDie
  )

const setHolder = (fields: { owner: string; owner_pid: number; owner_host: string; lease_until: number }) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql`UPDATE room_exports SET ${sql.update(fields)} WHERE account_id = ${accountId}`
  ).pipe(Effect.orDie)

const roomCount = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) => sql<{ readonly n: number | string }>`SELECT count(*) AS n FROM rooms`
)
  .pipe(Effect.map((rows) => Number(rows[0]!.n)), Effect.orDie)

/** A pid no process has: one that just exited. */
const deadPid = (): number => spawnSync(process.execPath, ["-e", "0"]).pid!

/** An export that fails for good on its fourth request, leaving a checkpoint under way. */
const interrupted = SqlExport.exportRooms({ AccountId: accountId }, { retry: RetryPolicy.make({ maxAttempts: 1 }) })
  .pipe(
    Effect.provide(listing([{ calls: [4], fault: Fault.serviceError("ForbiddenException") }])),
    Effect.flip
  )

describe.each(kinds)("leases on $name", (kind) => {
  it.scoped("an account held by a process seen dead on this host is taken over at once, and resumed", () =>
    Effect.gen(function*() {
      const db = yield* kind.make
      yield* Effect.gen(function*() {
        assert.strictEqual((yield* interrupted)._tag, "ForbiddenException")
        // As if that export had been killed: its lease runs for another hour.
        yield* setHolder({ owner: "killed", owner_pid: deadPid(), owner_host: os.hostname(), lease_until: 3_600_000 })
        const summary = yield* SqlExport.exportRooms({ AccountId: accountId }).pipe(Effect.provide(listing()))
        assert.deepInclude(summary, { snapshot: 1, rooms: 60, stored: 60 })
        assert.isAbove(summary.pages, 0)
      }).pipe(Effect.provide(RoomStore.layer().pipe(Layer.provideMerge(db.layer))))
    }))

  it.scoped("an account held under this process's pid by no session of it (an earlier process) is taken over", () =>
    Effect.gen(function*() {
      const db = yield* kind.make
      yield* Effect.gen(function*() {
        yield* interrupted
        // A restarted container's first process gets the pid its predecessor had.
        yield* setHolder({
          owner: "predecessor",
          owner_pid: process.pid,
          owner_host: os.hostname(),
          lease_until: 60_000
        })
        const summary = yield* SqlExport.exportRooms({ AccountId: accountId }).pipe(Effect.provide(listing()))
        assert.deepInclude(summary, { snapshot: 1, resumed: true, stored: 60 })
      }).pipe(Effect.provide(RoomStore.layer().pipe(Layer.provideMerge(db.layer))))
    }))

  it.scoped("an account held by a process of another host is waited out until its lease runs out", () =>
    Effect.gen(function*() {
      const db = yield* kind.make
      yield* Effect.gen(function*() {
        yield* interrupted
        yield* setHolder({ owner: "elsewhere", owner_pid: 1, owner_host: "another-host", lease_until: 5_000 })
        const busy = yield* Effect.flip(SqlExport.exportRooms({ AccountId: accountId }).pipe(Effect.provide(listing())))
        assert.instanceOf(busy, SqlExportError.ExportBusyError)
        assert.strictEqual(
          busy.message,
          `Account "${accountId}" is being exported by process 1 on another-host ` +
            "(its lease runs to 1970-01-01T00:00:05.000Z unless renewed)"
        )
        const waits: Array<string> = []
        const waiting = yield* Effect.fork(
          SqlExport.exportRooms({ AccountId: accountId }, {
            onBusy: "wait",
            onWait: (busy) => Effect.sync(() => waits.push(busy.host ?? ""))
          }).pipe(Effect.provide(listing()))
        )
        yield* TestClock.adjust("4 seconds")
        assert.isNull(waiting.unsafePoll())
        yield* TestClock.adjust("2 seconds")
        const summary = yield* Fiber.join(waiting)
        assert.deepStrictEqual(waits, ["another-host"])
        assert.deepInclude(summary, { snapshot: 1, resumed: true, stored: 60 })
      }).pipe(Effect.provide(RoomStore.layer().pipe(Layer.provideMerge(db.layer))))
    }))

  it.scoped("the lease is renewed while the session lasts, and given back when it ends", () =>
    Effect.gen(function*() {
      const db = yield* kind.make
      yield* Effect.gen(function*() {
        const store = yield* RoomStore.RoomStore
        yield* Effect.scoped(Effect.gen(function*() {
          yield* store.claim(accountId, { lease: "3 seconds" })
          assert.strictEqual(Number((yield* holder).lease_until), 3_000)
          for (let i = 0; i < 10; i++) yield* TestClock.adjust("1 second")
          // Renewed every second: never more than a second and a bit behind the clock.
          assert.isAtLeast(Number((yield* holder).lease_until), 12_000)
        }))
        const after = yield* holder
        assert.isNull(after.owner)
        assert.isNull(after.lease_until)
      }).pipe(Effect.provide(RoomStore.layer().pipe(Layer.provideMerge(db.layer))))
    }))

  it.scoped("an export whose account was taken over writes nothing more and fails with ExportLeaseLostError", () =>
    Effect.gen(function*() {
      const db = yield* kind.make
      yield* Effect.gen(function*() {
        const store = yield* RoomStore.RoomStore
        const error = yield* Effect.scoped(Effect.gen(function*() {
          const session = yield* store.claim(accountId)
          yield* setHolder({ owner: "thief", owner_pid: process.pid, owner_host: os.hostname(), lease_until: 60_000 })
          const page: ChimeRoomsStream.RoomsPage = {
            rooms: [{ RoomId: "r-1", Name: "one" }],
            nextToken: "t-1",
            pageNumber: 1,
            attempts: 1
          }
          yield* store.write(session, page)
          return yield* Effect.flip(store.flush(session))
        }))
        assert.instanceOf(error, SqlExportError.ExportLeaseLostError)
        assert.strictEqual(yield* roomCount, 0)
        // The thief keeps it.
        assert.strictEqual((yield* holder).owner, "thief")
      }).pipe(Effect.provide(RoomStore.layer().pipe(Layer.provideMerge(db.layer))))
    }))
})
