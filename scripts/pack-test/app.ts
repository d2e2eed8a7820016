/**
 * A user's program, as `pnpm test:pack` compiles and runs it in a fresh project outside the workspace:
 * the README's quick start on the emulator of `@chime-rooms/testing` instead of the real service, then
 * the same listing over `@effect/platform`'s `FetchHttpClient` (the app's own copy: with a second copy
 * of `@effect/platform` or `effect` in the tree, its `HttpClient` would not be the one ours needs),
 * then an export of the same rooms into a SQLite file with `@chime-rooms/sql` and the app's own
 * `@effect/sql-libsql` (its `SqlClient` must be the one of the app's single `@effect/sql`).
 */
import { Credentials, HttpChimeRooms, UndiciHttpClient } from "@chime-rooms/http"
import { RoomStore, SqlExport } from "@chime-rooms/sql"
import { ChimeRoomsStream, Resilience } from "@chime-rooms/stream"
import { Dataset, Emulator } from "@chime-rooms/testing"
import { FetchHttpClient, type HttpClient } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { LibsqlClient } from "@effect/sql-libsql"
import { Console, Effect, Layer, Stream } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const rooms = 25

const program = Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  const chimeOver = (client: Layer.Layer<HttpClient.HttpClient>) =>
    HttpChimeRooms.layer({ endpoint: emulator.endpoint, region: emulator.region }).pipe(
      Layer.provide(Credentials.layerStatic(emulator.credentials)),
      Layer.provide(client)
    )
  const AccountId = emulator.accounts[0]!

  const count = yield* ChimeRoomsStream.rooms({ AccountId }).pipe(
    Stream.tap((room) => Console.log(room.RoomId, room.Name)),
    Stream.runCount,
    Effect.provide(Resilience.layer()),
    Effect.provide(chimeOver(UndiciHttpClient.layer))
  )
  yield* Console.log(`${count} rooms`)

  const overFetch = yield* ChimeRoomsStream.rooms({ AccountId }).pipe(
    Stream.runCount,
    Effect.provide(Resilience.layer()),
    Effect.provide(chimeOver(FetchHttpClient.layer))
  )
  yield* Console.log(`${overFetch} rooms over fetch`)

  // The export prints counts only: the rows hold the Names.
  const dir = yield* Effect.acquireRelease(
    Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "chime-rooms-pack-sql-"))),
    (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
  )
  const database = LibsqlClient.layer({ url: `file:${path.join(dir, "rooms.db")}` })
  const [summary, stored] = yield* Effect.all([
    SqlExport.exportRooms({ AccountId }),
    Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ readonly n: number }>`SELECT count(*) AS n FROM rooms`)
  ]).pipe(
    Effect.provide(Layer.mergeAll(
      ChimeRoomsStream.layer(),
      chimeOver(UndiciHttpClient.layer),
      RoomStore.layer().pipe(Layer.provideMerge(database))
    ))
  )
  const exported = Number(stored[0]?.n)
  yield* Console.log(`exported ${exported} rooms`)
  if (count !== rooms || overFetch !== rooms || exported !== rooms || summary.stored !== rooms) {
    return yield* Effect.dieMessage(`expected ${rooms} rooms`)
  }
}).pipe(
  Effect.scoped,
  Effect.provide(Emulator.layer({ dataset: Dataset.generate({ seed: 17, roomsPerAccount: rooms }) }))
)

Effect.runPromise(program).catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`)
  process.exitCode = 1
})
