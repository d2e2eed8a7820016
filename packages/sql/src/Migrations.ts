/**
 * The export's tables, created and kept current by `@effect/sql`'s `Migrator` (its record in
 * {@link migrationsTable}):
 *
 * - `rooms`: one row per (`account_id`, `room_id`), every other `Room` member (`name`, `created_by`,
 *   `created_timestamp`, `updated_timestamp`), the `snapshot` that last saw it and when (`last_seen`).
 * - `room_exports`: one row per account, its checkpoint: the snapshot under way or last finished,
 *   `status` (`running`, `done`), the `next_token` to resume from, the counts of pages, rooms and
 *   rooms without a `RoomId` so far, and the lease of the export that holds it.
 *
 * PostgreSQL and SQLite; another dialect is refused with a clear error.
 *
 * @since 0.3.0
 */
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import { codeOf } from "./internal/errors.js"
import { ExportStoreError } from "./SqlExportError.js"

/**
 * The table in which `Migrator` records the migrations that ran.
 *
 * @category constants
 * @since 0.3.0
 */
export const migrationsTable = "chime_rooms_migrations"

const createTables = Effect.flatMap(SqlClient.SqlClient, (sql) => {
  // Timestamps as PostgreSQL's `timestamptz`; SQLite has no such type, it keeps the RFC 3339 text,
  // which sorts and compares in time order (always UTC, always milliseconds).
  const ts = sql.onDialectOrElse({ pg: () => "timestamptz", orElse: () => "text" })
  const millis = sql.onDialectOrElse({ pg: () => "bigint", orElse: () => "integer" })
  return Effect.all([
    sql.unsafe(`CREATE TABLE rooms (
  account_id text NOT NULL,
  room_id text NOT NULL,
  name text,
  created_by text,
  created_timestamp ${ts},
  updated_timestamp ${ts},
  snapshot integer NOT NULL,
  last_seen ${ts} NOT NULL,
  PRIMARY KEY (account_id, room_id)
)`),
    sql.unsafe(`CREATE TABLE room_exports (
  account_id text PRIMARY KEY,
  snapshot integer NOT NULL,
  status text NOT NULL CHECK (status IN ('running', 'done')),
  next_token text,
  pages integer NOT NULL,
  rooms integer NOT NULL,
  unkeyed integer NOT NULL,
  started_at ${ts} NOT NULL,
  updated_at ${ts} NOT NULL,
  finished_at ${ts},
  owner text,
  owner_pid integer,
  owner_host text,
  lease_until ${millis}
)`)
  ], { discard: true })
})

/**
 * The migrations, by `Migrator.fromRecord` name.
 *
 * @category constants
 * @since 0.3.0
 */
export const migrations: Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>> = {
  "1_create_tables": createTables
}

const dialects = new Set(["pg", "sqlite"])

/**
 * Brings the database's tables up to date, returning the migrations that ran (none when it was);
 * several processes at once are safe. Fails with `ExportStoreError` (operation `migrate`) on a
 * dialect other than PostgreSQL or SQLite, or when a migration fails.
 *
 * @category migrations
 * @since 0.3.0
 */
export const run: Effect.Effect<
  ReadonlyArray<readonly [id: number, name: string]>,
  ExportStoreError,
  SqlClient.SqlClient
> = Effect.flatMap(SqlClient.SqlClient, (sql) => {
  const dialect = sql.onDialect({
    pg: () => "pg",
    sqlite: () => "sqlite",
    mysql: () => "mysql",
    mssql: () => "mssql",
    clickhouse: () => "clickhouse"
  })
  if (!dialects.has(dialect)) {
    return Effect.fail(
      new ExportStoreError({
        operation: "migrate",
        message: `The export supports PostgreSQL and SQLite, not ${dialect}`
      })
    )
  }
  return Migrator.make({})({ loader: Migrator.fromRecord(migrations), table: migrationsTable }).pipe(
    Effect.mapError(migrateError),
    // The Migrator turns a migration that fails into a defect: here it is the error it is.
    Effect.catchAllDefect((defect) => Effect.fail(migrateError(defect)))
  )
})

/** An `ExportStoreError` of a failed migration: its message, its cause's, and the database's code. */
const migrateError = (error: unknown): ExportStoreError => {
  const cause = typeof error === "object" && error !== null && "cause" in error ? error.cause : undefined
  const sqlError = error instanceof SqlError ? error : cause instanceof SqlError ? cause : undefined
  const code = sqlError === undefined ? undefined : codeOf(sqlError)
  return new ExportStoreError({
    operation: "migrate",
    ...(code === undefined ? {} : { code }),
    message: error instanceof Error ? `${error.message}${causeText(cause)}` : String(error)
  })
}

/** The message of an error's cause, when it has one (a migration's statements hold no room data). */
const causeText = (cause: unknown): string => {
  const inner = typeof cause === "object" && cause !== null && "cause" in cause ? cause.cause : cause
  return inner instanceof Error ? `: ${inner.message}` : ""
}
