/**
 * Exports interrupted at seeded random moments (in the claim, mid-page, mid-transaction, in the
 * release), then one run to the end: every room stored once, and the checkpoint's counts exact,
 * because each page's rooms, counts and token are committed together or not at all.
 */
import { RoomStore, SqlExport } from "@chime-rooms/sql"
import { ChimeRoomsStream } from "@chime-rooms/stream"
import { Dataset, Fault, InMemory } from "@chime-rooms/testing"
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { kinds } from "./databases.js"

const dataset = Dataset.generate({ seed: 11, accounts: 1, roomsPerAccount: 400 })
const accountId = dataset.accounts[0]!
const expected = Dataset.allRooms(dataset, accountId).map((room) => room.RoomId!).sort()

const listing = Layer.merge(
  InMemory.layer({
    dataset,
    pageSize: 7,
    tokenSecret: "tests",
    // Each page takes a little while, so that interruptions land all along the export.
    faults: [{ always: true, fault: Fault.delay("1 millis") }]
  }),
  ChimeRoomsStream.layer()
)

/** A seeded generator (mulberry32): the same moments on every run. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

describe.each(kinds)("interruptions on $name", (kind) => {
  it.scopedLive(
    "interrupted 15 times at random moments, then run to the end: every room once, counts exact",
    () =>
      Effect.gen(function*() {
        const db = yield* kind.make
        const next = random(20261203)
        yield* Effect.gen(function*() {
          let interrupted = 0
          for (let i = 0; i < 15; i++) {
            const outcome = yield* SqlExport.exportRooms({ AccountId: accountId }, { prefetch: 1 + (i % 3) }).pipe(
              Effect.provide(listing),
              Effect.timeoutOption(`${Math.floor(next() * 60)} millis`)
            )
            if (Option.isNone(outcome)) interrupted++
          }
          assert.isAtLeast(interrupted, 10)
          const store = yield* RoomStore.RoomStore
          const before = yield* store.checkpoint(accountId)
          const summary = yield* SqlExport.exportRooms({ AccountId: accountId }).pipe(Effect.provide(listing))
          // A run that beat its timeout finished its snapshot: the last run begins a new one.
          const snapshot = Option.isNone(before)
            ? 1
            : before.value.status === "done"
            ? before.value.snapshot + 1
            : before.value.snapshot
          assert.deepInclude(summary, { snapshot, rooms: 400, unkeyed: 0, stored: 400, notSeen: 0 })
          const sql = yield* SqlClient.SqlClient
          const rows = yield* sql<
            { readonly room_id: string }
          >`SELECT room_id FROM rooms WHERE account_id = ${accountId}`
          assert.deepStrictEqual(rows.map((row) => row.room_id).sort(), expected)
          const checkpoint = yield* store.checkpoint(accountId)
          assert.isTrue(Option.isSome(checkpoint))
          if (Option.isNone(checkpoint)) return
          assert.deepInclude(checkpoint.value, { status: "done", rooms: 400, pages: 58 })
        }).pipe(Effect.provide(RoomStore.layer().pipe(Layer.provideMerge(db.layer))))
      }),
    60_000
  )
})
