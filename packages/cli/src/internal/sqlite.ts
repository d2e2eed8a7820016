/**
 * The SQLite client of `chime-rooms export`: libsql on one file, kept on one connection.
 *
 * libsql's `transaction()` hands its connection to the transaction and opens a new one for what
 * follows, so every transaction starts on a cold page cache and per-connection settings are lost.
 * Here a transaction is `BEGIN IMMEDIATE` … `COMMIT` on the one connection: `@effect/sql-libsql`
 * already keeps every other statement of the client out while a transaction holds its semaphore.
 * On that connection: WAL (readers never block the writer; a commit appends to the log) with
 * `synchronous = NORMAL` (a commit does not wait for the disk: a killed process loses nothing
 * committed, a power cut may lose the last transactions, whose rooms and checkpoint go together).
 * A page cache of 64 MB (SQLite's default is 2 MB): the primary key's B-tree takes rooms in random
 * order, and past the cache every insert reads a page back from the file (measured on 100,000 rooms:
 * the export 15 % faster; `pnpm bench --only export`).
 * `busy_timeout` makes every other statement (the migrations, a `COMMIT` that must wait for a reader
 * or a checkpoint of another process) wait for the lock as well, rather than fail with `SQLITE_BUSY`.
 * Measured on 20,000 rooms: a fifth less time than libsql's own transactions (bench, "Export").
 */
import type { SqlClient } from "@effect/sql"
import { LibsqlClient } from "@effect/sql-libsql"
import { type Client, createClient, type InStatement, type Transaction } from "@libsql/client"
import { Effect, Layer } from "effect"
import { pathToFileURL } from "node:url"

/** How long a transaction waits for the file's lock held by another process. */
const lockWaitMs = 60_000

/**
 * Begins a transaction, waiting while another process holds the file's lock (`SQLITE_BUSY`). The
 * wait is here, not in the caller's retry: `@effect/sql` keeps the client's lock when a transaction
 * fails to begin, and every later statement of the client would wait for good.
 */
const begin = async (client: Client, sql: string): Promise<void> => {
  const deadline = Date.now() + lockWaitMs
  for (let delay = 2;; delay = Math.min(delay * 2, 100)) {
    try {
      await client.execute(sql)
      return
    } catch (error) {
      const code = (error as { readonly code?: unknown }).code
      if (typeof code !== "string" || !code.startsWith("SQLITE_BUSY") || Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, delay))
    }
  }
}

/** A client whose transactions run on its own connection. */
const onOneConnection = (client: Client): Client => {
  const execute = (statement: InStatement) => client.execute(statement)
  return {
    execute,
    batch: (statements, mode) => client.batch(statements, mode),
    migrate: (statements) => client.migrate(statements),
    executeMultiple: (sql) => client.executeMultiple(sql),
    sync: () => client.sync(),
    close: () => client.close(),
    get closed() {
      return client.closed
    },
    get protocol() {
      return client.protocol
    },
    transaction: async (mode = "write") => {
      await begin(client, mode === "write" ? "BEGIN IMMEDIATE" : mode === "read" ? "BEGIN" : "BEGIN DEFERRED")
      let closed = false
      const end = (sql: string) => {
        closed = true
        return client.execute(sql).then(() => undefined)
      }
      const transaction: Transaction = {
        execute,
        batch: (statements) => Promise.all(statements.map(execute)),
        executeMultiple: (sql) => client.executeMultiple(sql),
        commit: () => end("COMMIT"),
        rollback: () => end("ROLLBACK"),
        close: () => {
          if (!closed) void end("ROLLBACK")
        },
        get closed() {
          return closed
        }
      }
      return transaction
    }
  }
}

/**
 * `SqlClient` on the SQLite file at `file` (created if absent), for the life of the layer.
 * Fails with the driver's message when the file cannot be opened as a database.
 */
export const layer = (file: string): Layer.Layer<SqlClient.SqlClient, string> =>
  Layer.unwrapScoped(
    Effect.gen(function*() {
      const client = yield* Effect.acquireRelease(
        Effect.try({
          try: () => createClient({ url: pathToFileURL(file).href }),
          catch: (error) => String(error instanceof Error ? error.message : error)
        }),
        (client) => Effect.sync(() => client.close())
      )
      yield* Effect.tryPromise({
        try: async () => {
          await client.execute(`PRAGMA busy_timeout = ${lockWaitMs}`)
          await client.execute("PRAGMA journal_mode = WAL")
          await client.execute("PRAGMA synchronous = NORMAL")
          await client.execute("PRAGMA cache_size = -65536")
        },
        catch: (error) => String(error instanceof Error ? error.message : error)
      })
      return LibsqlClient.layer({ liveClient: onOneConnection(client) })
    })
  )
