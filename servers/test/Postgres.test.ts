/**
 * The PostgreSQL 15 fixture itself: a server started in a temporary directory (as `nobody` when
 * this process is root), queried through `@effect/sql-pg`, a database created on it, stopped, and
 * its directory removed. Real sockets on 127.0.0.1, real time.
 */
import { Postgres } from "@chime-rooms/servers"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as fs from "node:fs"
import * as net from "node:net"

/** Runs `query` on the database at `url` and returns its rows. */
const query = (url: string, query: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe<Record<string, unknown>>(query)).pipe(
    Effect.provide(PgClient.layer({ url: Redacted.make(url) }))
  )

/** A server for the test's scope (`close` is idempotent: a test may close it itself). */
const server = (options: { readonly durable?: boolean } = {}) =>
  Effect.acquireRelease(Effect.promise(() => Postgres.start(options)), (s) => Effect.promise(() => s.close()))

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
const listening = (port: number) =>
  Effect.async<boolean>((resume) => {
    const socket = net.connect({ host: "127.0.0.1", port })
    socket.once("connect", () => {
      socket.destroy()
      resume(Effect.succeed(true))
    })
    socket.once("error", () => resume(Effect.succeed(false)))
  })

if (Postgres.available) {
  describe("Postgres", () => {
    it.scopedLive(
      "starts a server that answers queries, creates a database on it, stops, and removes its directory",
      () =>
        Effect.gen(function*() {
          const pg = yield* server()
          assert.strictEqual(pg.url, `postgres://postgres@127.0.0.1:${pg.port}/postgres`)
          if (process.getuid?.() === 0) {
            // initdb refuses root: the cluster must belong to an unprivileged user.
            assert.notStrictEqual(fs.statSync(`${pg.dir}/data`).uid, 0)
          }
          const one = yield* query(pg.url, "select 1 as one")
          assert.deepStrictEqual(one.map((row) => Number(row.one)), [1])

          const url = Postgres.createDatabase(pg, "fixture_test")
          assert.strictEqual(url, `postgres://postgres@127.0.0.1:${pg.port}/fixture_test`)
          const current = yield* query(url, "select current_database() as name")
          assert.deepStrictEqual(current.map((row) => row.name), ["fixture_test"])
          // The new database is empty and writable.
          yield* query(url, "create table t (id int primary key)")
          yield* query(url, "insert into t values (1), (2)")
          const count = yield* query(url, "select count(*)::int as n from t")
          assert.deepStrictEqual(count.map((row) => row.n), [2])

          yield* Effect.promise(() => pg.stop())
          assert.isFalse(yield* listening(pg.port))
          assert.isTrue(fs.existsSync(pg.dir), "stop keeps the directory")
          yield* Effect.promise(() => pg.close())
          assert.isFalse(fs.existsSync(pg.dir), "close removes the directory")
        }),
      60_000
    )

    it.scopedLive("runs with fsync off, or on when durable (the benchmark)", () =>
      Effect.gen(function*() {
        const [fast, durable] = yield* Effect.all([server(), server({ durable: true })], { concurrency: 2 })
        const fsync = (pg: Postgres.Server) =>
          query(pg.url, "show fsync").pipe(Effect.map((rows) => rows.map((row) => row.fsync)))
        assert.deepStrictEqual(yield* fsync(fast), ["off"])
        assert.deepStrictEqual(yield* fsync(durable), ["on"])
      }), 60_000)
  })
}
