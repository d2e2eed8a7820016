import * as Postgres from "@chime-rooms/servers/Postgres"
import { Dataset, type Emulator, Fault, FaultScript } from "@chime-rooms/testing"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { describe, expect, it } from "@effect/vitest"
import { createClient } from "@libsql/client"
import { Effect, Fiber, Redacted } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { beforeAll } from "vitest"
import { ExitCode } from "../src/Io.js"
import { embeddedEmulator } from "../src/ListCommand.js"
import { run } from "../src/Run.js"
import { buildBin, startBin } from "./bin.js"
import { allIds, capture, type Captured, small } from "./support.js"

/** A temporary directory for this scope. */
const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "chime-rooms-export-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/** A database file in a temporary directory for this scope. */
const tempFile = Effect.map(tempDir, (dir) => join(dir, "rooms.db"))

interface Checkpoint {
  readonly account_id: string
  readonly snapshot: number
  readonly status: string
  readonly next_token: string | null
  readonly rooms: number
  readonly owner: string | null
}

/** The room ids of each account in the SQLite `file`, sorted, and the checkpoints. */
const sqliteRows = (file: string) =>
  Effect.promise(async () => {
    const client = createClient({ url: `file:${file}` })
    try {
      const rooms = await client.execute("SELECT account_id, room_id FROM rooms ORDER BY account_id, room_id")
      const checkpoints = await client.execute(
        "SELECT account_id, snapshot, status, next_token, rooms, owner FROM room_exports ORDER BY account_id"
      )
      return {
        ids: idsByAccount(rooms.rows as unknown as ReadonlyArray<{ account_id: string; room_id: string }>),
        checkpoints: checkpoints.rows.map((row) => ({ ...row }) as unknown as Checkpoint)
      }
    } finally {
      client.close()
    }
  })

const idsByAccount = (rows: ReadonlyArray<{ readonly account_id: string; readonly room_id: string }>) => {
  const ids: Record<string, Array<string>> = {}
  for (const row of rows) (ids[row.account_id] ??= []).push(row.room_id)
  return ids
}

const sorted = (ids: ReadonlyArray<string>) => [...ids].sort()

/** Every room of `accounts` once, each checkpoint done in `snapshot`. */
const expectComplete = (
  rows: { ids: Record<string, Array<string>>; checkpoints: ReadonlyArray<Checkpoint> },
  accounts: ReadonlyArray<string>,
  snapshot: number,
  dataset = small.dataset!
) => {
  expect(Object.keys(rows.ids).sort()).toEqual(sorted(accounts))
  for (const account of accounts) expect(rows.ids[account]).toEqual(sorted(allIds(account, dataset)))
  expect(rows.checkpoints.map((c) => [c.account_id, Number(c.snapshot), c.status, c.next_token, c.owner])).toEqual(
    sorted(accounts).map((account) => [account, snapshot, "done", null, null])
  )
}

const summary = (account: string, rooms: string, snapshot: string) =>
  new RegExp(
    `^${account}: ${rooms} rooms stored \\(snapshot ${snapshot}\\) · 0 without RoomId · 0 no longer listed · ` +
      `\\d+ pages · [\\d.]+ s$`,
    "m"
  )

/** One account whose pages come slowly: an export of it holds the account for a second or so. */
const slow: Emulator.EmulatorOptions = {
  dataset: Dataset.generate({ seed: 8, accounts: 1, roomsPerAccount: 230 }),
  pageSize: 50,
  // A token of one run's emulator is honoured by the next run's: an export resumes across runs.
  tokenSecret: "export tests",
  faults: FaultScript.make({ rules: [{ always: true, fault: Fault.delay("200 millis") }] })
}

/** Completes once some export holds `account` in the SQLite `file`. */
const held = (file: string, account: string) =>
  Effect.promise(async () => {
    for (;;) {
      const client = createClient({ url: `file:${file}` })
      try {
        const result = await client.execute({
          sql: "SELECT owner FROM room_exports WHERE account_id = ?",
          args: [account]
        })
        if (result.rows[0]?.owner != null) return
      } catch {
        // Not created yet.
      } finally {
        client.close()
      }
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })

/** An export of `slow`'s account into a new file, running in this scope once it holds the account. */
const holding = (io: Captured) =>
  Effect.gen(function*() {
    const file = yield* tempFile
    const account = slow.dataset!.accounts[0]!
    const args = ["export", "--database", `sqlite:${file}`]
    const running = yield* Effect.fork(run(args, io, slow))
    yield* held(file, account)
    return { account, args, file, running }
  })

describe("chime-rooms export", () => {
  it.scopedLive(
    "exports every room of every emulator account once; a second run begins snapshot 2",
    () =>
      Effect.gen(function*() {
        const file = yield* tempFile
        const accounts = small.dataset!.accounts
        const io = capture()
        expect(yield* run(["export", "--database", `sqlite:${file}`], io, small)).toBe(ExitCode.ok)
        expect(io.stdout()).toBe("")
        for (const account of accounts) expect(io.stderr()).toMatch(summary(account, "230", "1"))
        expect(io.stderr()).toMatch(
          /^total: 460 rooms stored \(2 of 2 accounts\) · 0 without RoomId · 0 no longer listed · 10 pages · [\d.]+ s$/m
        )
        expectComplete(yield* sqliteRows(file), accounts, 1)

        // A repeated account is exported once.
        const again = capture()
        const args = ["export", "--database", `sqlite:${file}`, "--account", accounts[1]!, "--account", accounts[1]!]
        expect(yield* run(args, again, small)).toBe(ExitCode.ok)
        expect(again.stderr()).toMatch(summary(accounts[1]!, "230", "2"))
        expect(again.stderr().trim().split("\n")).toHaveLength(1)
        const rows = yield* sqliteRows(file)
        expect(rows.checkpoints.map((c) => Number(c.snapshot))).toEqual(
          sorted(accounts).map((a) => (a === accounts[1] ? 2 : 1))
        )
        for (const account of accounts) expect(rows.ids[account]).toEqual(sorted(allIds(account)))
      }),
    30_000
  )

  it.scopedLive(
    "on a terminal: a progress line, cleared before each summary; no room names anywhere",
    () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const io = capture(true)
        expect(yield* run(["export", "--database", `sqlite:${join(dir, "rooms.db")}`], io, slow)).toBe(ExitCode.ok)
        const account = slow.dataset!.accounts[0]!
        expect(io.stderr()).toMatch(/pages \d+ · rooms \d+ · [\d,]+ rooms\/s · retries 0 · throttles 0 · limiter /)
        expect(io.stderr()).toContain(`\r\u001b[K${account}: 230 rooms stored (snapshot 1)`)
        expect(io.stderr().endsWith("\n")).toBe(true)
        for (let i = 0; i < 230; i++) expect(io.stderr()).not.toContain(slow.dataset!.room(account, i).Name!)
      }),
    30_000
  )

  it.scopedLive(
    "--concurrency 3 exports the accounts at once, on one limiter and one writer",
    () =>
      Effect.gen(function*() {
        const file = yield* tempFile
        const dataset = Dataset.generate({ seed: 11, accounts: 4, roomsPerAccount: 120 })
        const io = capture()
        const args = ["export", "--database", `sqlite:${file}`, "--concurrency", "3", "--max-results", "40"]
        expect(yield* run(args, io, { dataset, pageSize: 50 })).toBe(ExitCode.ok)
        for (const account of dataset.accounts) expect(io.stderr()).toMatch(summary(account, "120", "1"))
        expectComplete(yield* sqliteRows(file), dataset.accounts, 1, dataset)
      }),
    30_000
  )

  it.scopedLive("bad arguments exit 2: --database of another kind (never echoed), --redis without --live", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<[ReadonlyArray<string>, string]> = [
        [
          ["--database", "mysql://user:s3cret@host/db"],
          "--database must be sqlite:PATH, postgres://… or postgresql://…"
        ],
        [["--database", "sqlite:"], "--database sqlite: needs a path"],
        [["--database", "postgres://user:s3cret@[bad/db"], "--database is not a valid postgres:// URL"],
        [["--redis", "redis://127.0.0.1:1"], "--redis needs --live"],
        [["--live"], "--live needs --account ID"],
        [["--concurrency", "65"], "--concurrency must be an integer from 1 to 64"],
        [["--account", " "], "--account must contain a non-space character"],
        [["--account", ".."], "--account "],
        [["--max-results", "100"], "--max-results must be an integer from 1 to 99"]
      ]
      for (const [args, message] of cases) {
        const io = capture()
        expect(yield* run(["export", ...args], io, small), args.join(" ")).toBe(ExitCode.usage)
        expect(io.stderr()).toContain(message)
        expect(io.stderr()).not.toContain("s3cret")
        expect(io.stdout()).toBe("")
      }
    }))

  it.scopedLive("a database that cannot be opened: a clear message, exit 1", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const io = capture()
      const file = join(dir, "no-such-dir", "rooms.db")
      expect(yield* run(["export", "--database", `sqlite:${file}`], io, small)).toBe(ExitCode.serviceError)
      expect(io.stderr()).toMatch(new RegExp(`^Cannot open the database sqlite:${file}: .+\n$`))
    }))

  it.scopedLive(
    "an account another export holds: refused with who holds it (exit 1), or waited for with --wait",
    () =>
      Effect.gen(function*() {
        const first = capture()
        const { account, args, file, running } = yield* holding(first)

        const refused = capture()
        expect(yield* run(args, refused, slow)).toBe(ExitCode.serviceError)
        expect(refused.stderr()).toMatch(
          new RegExp(
            `^${account}: Account "${account}" is being exported by process ${process.pid} on .+ \\(its lease runs ` +
              `to .+ unless renewed\\)\nRun it again once that export ends, or pass --wait\\.\n$`
          )
        )

        const waiting = capture()
        const waiter = yield* Effect.fork(run([...args, "--wait"], waiting, slow))
        expect(yield* Fiber.join(running)).toBe(ExitCode.ok)
        expect(first.stderr()).toMatch(summary(account, "230", "1"))
        expect(yield* Fiber.join(waiter)).toBe(ExitCode.ok)
        const lines = waiting.stderr().trim().split("\n")
        expect(lines).toHaveLength(2)
        expect(lines[0]).toMatch(new RegExp(`^Account "${account}" is being exported by process ${process.pid} on `))
        expect(lines[1]).toMatch(summary(account, "230", "2"))
        expectComplete(yield* sqliteRows(file), [account], 2, slow.dataset!)
      }),
    30_000
  )

  it.scopedLive(
    "stopped (SIGINT): exits 130 with what is done; the next run resumes the snapshot",
    () =>
      Effect.gen(function*() {
        const io = capture()
        const { account, args, file, running } = yield* holding(io)
        yield* Effect.sleep("300 millis")
        yield* io.requestStop
        expect(yield* Fiber.join(running)).toBe(ExitCode.interrupted)
        expect(io.stderr()).toBe("Stopped: 0 of 1 accounts done; the same command resumes the rest.\n")
        const resumed = capture()
        expect(yield* run(args, resumed, slow), resumed.stderr()).toBe(ExitCode.ok)
        expect(resumed.stderr()).toMatch(summary(account, "230", "1, resumed"))
        expectComplete(yield* sqliteRows(file), [account], 1, slow.dataset!)
      }),
    30_000
  )

  it.scopedLive(
    "a service error that survives the retries: the error and how to resume, exit 1; other accounts finish",
    () =>
      Effect.gen(function*() {
        const file = yield* tempFile
        const [good, missing] = [small.dataset!.accounts[0]!, "no-such-account"]
        const io = capture()
        const args = ["export", "--database", `sqlite:${file}`, "--account", missing, "--account", good]
        expect(yield* run(args, io, small)).toBe(ExitCode.serviceError)
        expect(io.stderr()).toMatch(
          /^no-such-account: Error: NotFoundException \(request id [^)]+\): .+\nRun the same command again to resume from the checkpoint\.$/m
        )
        expect(io.stderr()).toMatch(summary(good, "230", "1"))
        expect(io.stderr()).toMatch(/^total: 230 rooms stored \(1 of 2 accounts, 1 failed\) · /m)
        expect((yield* sqliteRows(file)).ids[good]).toEqual(sorted(allIds(good)))
      }),
    30_000
  )

  if (Postgres.available) {
    it.scopedLive(
      "exports into PostgreSQL; the password is never printed",
      () =>
        Effect.gen(function*() {
          // A server of this test's own, stopped (and its directory removed) at the end.
          const server = yield* Effect.acquireRelease(
            Effect.promise(() => Postgres.start()),
            (server) => Effect.promise(() => server.close())
          )
          const url = new URL(Postgres.createDatabase(server, "chime_rooms_cli"))
          const io = capture()
          expect(yield* run(["export", "--database", url.href], io, small)).toBe(ExitCode.ok)
          for (const account of small.dataset!.accounts) expect(io.stderr()).toMatch(summary(account, "230", "1"))
          const rows = yield* Effect.flatMap(
            SqlClient.SqlClient,
            (sql) => sql<{ account_id: string; room_id: string }>`SELECT account_id, room_id FROM rooms ORDER BY 1, 2`
          ).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url.href) })), Effect.orDie)
          const ids = idsByAccount(rows)
          // In JavaScript's order: the server's collation may sort otherwise.
          for (const account of small.dataset!.accounts) expect(sorted(ids[account]!)).toEqual(sorted(allIds(account)))

          // A server that refuses: the URL in the message, without its password.
          const wrong = new URL(url.href)
          wrong.username = "nobody_here"
          wrong.password = "s3cret"
          const refused = capture()
          expect(yield* run(["export", "--database", wrong.href], refused, small)).toBe(ExitCode.serviceError)
          expect(refused.stderr()).toMatch(/^Cannot open the database postgres:\/\/nobody_here@[^ ]+: .+\n$/)
          expect(refused.stderr()).not.toContain("s3cret")
        }),
      90_000
    )
  }
})

describe("chime-rooms export as processes", () => {
  beforeAll(buildBin, 120_000)

  it.scopedLive(
    "two processes export different accounts into one SQLite file at once; a relative path is the cwd's",
    () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const dataset = embeddedEmulator.dataset!
        const [a, b] = dataset.accounts
        // One by a path relative to its working directory, one by the absolute path: the same file.
        const [one, two] = yield* Effect.all([
          startBin(["export", "--database", "sqlite:rooms.db", "--account", a!], { cwd: dir }),
          startBin(["export", "--database", `sqlite:${join(dir, "rooms.db")}`, "--account", b!])
        ], { concurrency: 2 })
        expect(one.code, one.stderr).toBe(0)
        expect(two.code, two.stderr).toBe(0)
        expect(one.stdout + two.stdout).toBe("")
        expect(one.stderr).toMatch(summary(a!, "2,500", "1"))
        expect(two.stderr).toMatch(summary(b!, "2,500", "1"))
        expectComplete(yield* sqliteRows(join(dir, "rooms.db")), [a!, b!], 1, dataset)
      }),
    60_000
  )

  it.scopedLive(
    "SIGINT: the export commits what it has, gives the account back and exits 130",
    () =>
      Effect.gen(function*() {
        const file = yield* tempFile
        const account = embeddedEmulator.dataset!.accounts[0]!
        const result = yield* startBin(["export", "--database", `sqlite:${file}`, "--account", account], {
          onStart: (child) =>
            void Effect.runPromise(held(file, account)).then(() => setTimeout(() => child.kill("SIGINT"), 500))
        })
        expect(result.code, result.stderr).toBe(130)
        expect(result.stderr).toBe("Stopped: 0 of 1 accounts done; the same command resumes the rest.\n")
        const [checkpoint] = (yield* sqliteRows(file)).checkpoints
        expect(checkpoint).toMatchObject({ account_id: account, status: "running", owner: null })
        expect(checkpoint!.next_token).not.toBe(null)
      }),
    60_000
  )
})
