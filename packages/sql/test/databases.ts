/**
 * The databases the tests run on: SQLite through libsql (a file in a temporary directory, WAL), and
 * PostgreSQL 15 (`@chime-rooms/servers/Postgres`) where its server is: a database of its own for each test.
 */
import * as Postgres from "@chime-rooms/servers/Postgres"
import { SqlClient } from "@effect/sql"
import { LibsqlClient } from "@effect/sql-libsql"
import { PgClient } from "@effect/sql-pg"
import { afterAll } from "@effect/vitest"
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

/** A server for this test file, started when a test first needs it and stopped after the file. */
let server: Promise<Postgres.Server> | undefined
afterAll(async () => {
  await (await server)?.close()
})

/** PostgreSQL 15: a database of its own for each test, on this file's server. */
export const postgres: Kind = {
  name: "PostgreSQL",
  make: Effect.promise(() => (server ??= Postgres.start())).pipe(
    Effect.map((server) => {
      const url = Postgres.createDatabase(server, `chime_rooms_${++databases}`)
      return { layer: PgClient.layer({ url: Redacted.make(url) }).pipe(Layer.orDie) }
    })
  )
}

/** The databases of this run: PostgreSQL where its server is (always in CI). */
export const kinds: ReadonlyArray<Kind> = Postgres.available ? [sqlite, postgres] : [sqlite]
