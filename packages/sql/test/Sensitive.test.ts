/**
 * A room's `Name` never shows in what a failed export leaves behind: its error (however printed),
 * the log, or any span, even when the database repeats the row in its own message (PostgreSQL's
 * "Failing row contains (…)", a trigger that names the value it refuses). And nothing is lost: once
 * the database accepts the rows, the same export resumes and stores every room.
 */
import type { Room } from "@chime-rooms/core"
import { RoomStore, SqlExport } from "@chime-rooms/sql"
import { ChimeRoomsStream } from "@chime-rooms/stream"
import { Dataset, InMemory } from "@chime-rooms/testing"
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Logger, LogLevel, Option, Tracer } from "effect"
import { inspect } from "node:util"
import { kinds } from "./databases.js"

const secret = "Secret Name Do Not Print"

const rooms: ReadonlyArray<Room.RoomEncoded> = Array.from({ length: 30 }, (_, i) => ({
  RoomId: `r-${String(i).padStart(3, "0")}`,
  Name: i === 17 ? secret : `Room ${i}`
}))

const listing = Layer.merge(
  InMemory.layer({ dataset: Dataset.fromRooms({ "acc-1": { rooms } }), pageSize: 4, tokenSecret: "tests" }),
  ChimeRoomsStream.layer()
)

/** Every span started, to read once they ended. */
const recordingTracer = (spans: Array<Tracer.Span>) =>
  Effect.map(Effect.tracer, (native) =>
    Tracer.make({
      context: native.context,
      span: (...args) => {
        const span = native.span(...args)
        spans.push(span)
        return span
      }
    }))

/** What a span shows: its name, attributes, events and, when it failed, its cause. */
const spanText = (span: Tracer.Span): string => {
  const parts = [span.name, inspect(Object.fromEntries(span.attributes), { depth: 10 })]
  const events = (span as unknown as { readonly events?: ReadonlyArray<unknown> }).events
  if (events !== undefined) parts.push(inspect(events, { depth: 10 }))
  if (span.status._tag === "Ended" && Exit.isFailure(span.status.exit)) {
    parts.push(Cause.pretty(span.status.exit.cause), inspect(span.status.exit.cause, { depth: 10 }))
  }
  return parts.join("\n")
}

/** A rule that refuses the secret room: the database's message repeats the row or the name. */
const refuse = {
  sqlite: `CREATE TRIGGER refuse BEFORE INSERT ON rooms WHEN NEW.name LIKE 'Secret%'
BEGIN SELECT RAISE(ABORT, 'refused: ${secret}'); END`,
  pg: [
    `ALTER TABLE rooms ADD CONSTRAINT refuse CHECK (name NOT LIKE 'Secret%')`,
    `CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.name LIKE 'Secret Name%' AND NEW.room_id = 'r-017' THEN RAISE EXCEPTION 'refused: %', NEW.name; END IF;
  RETURN NEW;
END $$`,
    `CREATE TRIGGER refuse BEFORE INSERT ON rooms FOR EACH ROW EXECUTE FUNCTION refuse()`
  ]
}

describe.each(kinds)("Name on $name", (kind) => {
  for (const rule of kind.name === "SQLite" ? ["trigger"] : ["check", "trigger"]) {
    it.scoped(`a refused row (${rule}): no Name in the error, the log or a span; resumed, nothing lost`, () =>
      Effect.gen(function*() {
        const db = yield* kind.make
        const store = RoomStore.layer().pipe(Layer.provideMerge(db.layer))
        const apply = (statements: ReadonlyArray<string>) =>
          Effect.flatMap(SqlClient.SqlClient, (sql) => Effect.forEach(statements, (s) => sql.unsafe(s))).pipe(
            Effect.provide(store),
            Effect.orDie
          )
        const pg = kind.name !== "SQLite"
        yield* apply(
          !pg ? [refuse.sqlite] : rule === "check" ? refuse.pg.slice(0, 1) : refuse.pg.slice(1)
        )
        const spans: Array<Tracer.Span> = []
        const logs: Array<string> = []
        const logger = Logger.make(({ cause, message }) => {
          logs.push(`${inspect(message, { depth: 10 })}\n${Cause.pretty(cause)}`)
        })
        const tracer = yield* recordingTracer(spans)
        const exit = yield* SqlExport.exportRooms({ AccountId: "acc-1" }).pipe(
          Effect.provide(listing),
          Effect.provide(store),
          Effect.withTracer(tracer),
          Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
          Logger.withMinimumLogLevel(LogLevel.All),
          Effect.exit
        )
        assert.isTrue(Exit.isFailure(exit))
        if (!Exit.isFailure(exit)) return
        const error = Option.getOrThrow(Cause.failureOption(exit.cause))
        assert.strictEqual(error._tag, "ExportStoreError")
        if (error._tag !== "ExportStoreError") return
        assert.strictEqual(error.operation, "commit")
        if (pg) assert.strictEqual(error.code, rule === "check" ? "23514" : "P0001")
        // The database's message survives, the Name replaced.
        if (rule === "trigger") assert.include(error.message, "refused: <Name>")
        const everything = [
          JSON.stringify(error),
          String(error),
          inspect(error, { depth: 10 }),
          Cause.pretty(exit.cause),
          ...logs,
          ...spans.map(spanText)
        ]
        assert.isAbove(spans.length, 0)
        for (const text of everything) assert.notInclude(text, "Secret")
        // The database accepts it again: the same export resumes and stores every room once.
        yield* apply(
          pg ? ["ALTER TABLE rooms DROP CONSTRAINT IF EXISTS refuse", "DROP TRIGGER IF EXISTS refuse ON rooms"] : [
            "DROP TRIGGER refuse"
          ]
        )
        const summary = yield* SqlExport.exportRooms({ AccountId: "acc-1" }).pipe(
          Effect.provide(listing),
          Effect.provide(store)
        )
        assert.deepInclude(summary, { snapshot: 1, rooms: 30, stored: 30 })
      }))
  }
})
