/**
 * The databases the tests run on: SQLite through libsql (a file in a temporary directory, WAL), and
 * PostgreSQL 15 when its server is here (a database of its own for each test).
 */
import { SqlClient } from "@effect/sql"
import { LibsqlClient } from "@effect/sql-libsql"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted } from "effect"
import type * as Scope from "effect/Scope"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

/** A fresh database: a layer of its client (each use opens a new client on the same database). */
export interface Database {
  readonly layer: Layer.Layer<SqlClient.SqlClient>
}

export interface Kind {
  readonly name: string
  readonly make: Effect.Effect<Database, never, Scope.Scope>
}

export const sqlite: Kind = {
  name: "SQLite",
  make: Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "chime-rooms-sql-"))),
      (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
    ),
    (dir) => {
      const file = path.join(dir, "rooms.db")
      return {
        layer: Layer.effectDiscard(
          Effect.flatMap(SqlClient.SqlClient, (sql) => sql`PRAGMA journal_mode = WAL`)
        ).pipe(
          Layer.provideMerge(LibsqlClient.layer({ url: `file:${file}` })),
          Layer.orDie
        )
      }
    }
  )
}

let databases = 0

/** PostgreSQL at `url` (a server's `postgres` database): a database of its own for each test. */
export const postgresAt = (url: string): Kind => ({
  name: "PostgreSQL",
  make: Effect.gen(function*() {
    const name = `chime_rooms_${process.pid}_${++databases}`
    const admin = PgClient.layer({ url: Redacted.make(url) })
    yield* Effect.acquireRelease(
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`CREATE DATABASE ${name}`)).pipe(
        Effect.provide(admin),
        Effect.orDie
      ),
      () =>
        Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`DROP DATABASE ${name} WITH (FORCE)`)).pipe(
          Effect.provide(admin),
          Effect.orDie
        )
    )
    const at = new URL(url)
    at.pathname = `/${name}`
    return { layer: PgClient.layer({ url: Redacted.make(at.toString()) }).pipe(Layer.orDie) }
  })
})

/** The databases of this run. */
export const kinds: ReadonlyArray<Kind> = process.env.PG_URL ? [sqlite, postgresAt(process.env.PG_URL)] : [sqlite]
