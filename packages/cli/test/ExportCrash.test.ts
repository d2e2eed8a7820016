/**
 * Killed at any point, run again: every room exactly once. A `chime-rooms emulator` process seeded
 * with 20,000 rooms in one account; `chime-rooms export --live` into each database, SIGKILLed 10
 * times at seeded random moments (some while it starts, before anything is committed; some once
 * its checkpoint has moved, in the middle of the listing), then run to the end. The database must
 * hold 20,000 rows, one per room of the account, and a checkpoint that is done and counted every
 * room once. The emulator takes 30 ms over each page (6 s for the 203 pages), so that the kills land
 * inside the listing.
 */
import * as Postgres from "@chime-rooms/servers/Postgres"
import { Dataset } from "@chime-rooms/testing"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { createClient } from "@libsql/client"
import { Effect } from "effect"
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { buildBin, main, root } from "./bin.js"

const ROOMS = 20_000
const SEED = 20
const KILLS = 10
const expected = Dataset.allRooms(
  Dataset.generate({ seed: SEED, accounts: 1, roomsPerAccount: ROOMS, membersPerAccount: 20 }),
  Dataset.generate({ seed: SEED, accounts: 1, roomsPerAccount: ROOMS, membersPerAccount: 20 }).accounts[0]!
).map((room) => room.RoomId!).sort()

/** A seeded generator (mulberry32): the same moments on every run. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Announcement {
  readonly endpoint: string
  readonly region: string
  readonly accounts: ReadonlyArray<string>
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string }
}

let emulator: ChildProcess | undefined
let announced: Announcement

beforeAll(async () => {
  buildBin()
  const child = spawn(process.execPath, [
    main,
    "emulator",
    "--accounts",
    "1",
    "--rooms",
    String(ROOMS),
    "--page-size",
    "99",
    "--seed",
    String(SEED),
    "--fault",
    "delay=30ms"
  ], { stdio: ["ignore", "pipe", "ignore"] })
  emulator = child
  announced = await new Promise<Announcement>((resolve, reject) => {
    let out = ""
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8")
      const nl = out.indexOf("\n")
      if (nl !== -1) resolve(JSON.parse(out.slice(0, nl)) as Announcement)
    })
    child.once("exit", (code) => reject(new Error(`the emulator exited with ${code}`)))
  })
}, 120_000)

afterAll(() => {
  emulator?.kill("SIGKILL")
})

interface Checkpoint {
  readonly status: string
  readonly pages: number
  readonly rooms: number
}

/** What a test reads of a database, from outside the export's process. */
interface Database {
  readonly name: string
  readonly url: string
  readonly checkpoint: () => Promise<Checkpoint | undefined>
  readonly roomIds: () => Promise<ReadonlyArray<string>>
  readonly close: () => Promise<void>
}

const sqlite = (): Database => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chime-rooms-crash-"))
  const file = path.join(dir, "rooms.db")
  const query = async (sql: string) => {
    if (!fs.existsSync(file)) return []
    const client = createClient({ url: `file:${file}` })
    try {
      return (await client.execute(sql)).rows
    } catch {
      // The export has not created its tables yet.
      return []
    } finally {
      client.close()
    }
  }
  return {
    name: "SQLite",
    url: `sqlite:${file}`,
    checkpoint: async () => {
      const [row] = await query("SELECT status, pages, rooms FROM room_exports")
      return row === undefined
        ? undefined
        : { status: String(row.status), pages: Number(row.pages), rooms: Number(row.rooms) }
    },
    roomIds: async () => (await query("SELECT room_id FROM rooms")).map((row) => String(row.room_id)),
    close: async () => fs.rmSync(dir, { recursive: true, force: true })
  }
}

const postgres = async (): Promise<Database> => {
  const server = await Postgres.start()
  const url = Postgres.createDatabase(server, "crash")
  const query = (sql: string): ReadonlyArray<ReadonlyArray<string>> => {
    const result = spawnSync(Postgres.psql, [url, "-tA", "-F", "\t", "-c", sql], { encoding: "utf8" })
    // Before the export's tables exist, psql fails: nothing to read yet.
    if (result.status !== 0) return []
    return result.stdout.split("\n").filter((line) => line !== "").map((line) => line.split("\t"))
  }
  return {
    name: "PostgreSQL",
    url,
    checkpoint: async () => {
      const [row] = query("SELECT status, pages, rooms FROM room_exports")
      return row === undefined ? undefined : { status: row[0]!, pages: Number(row[1]), rooms: Number(row[2]) }
    },
    roomIds: async () => query("SELECT room_id FROM rooms").map((row) => row[0]!),
    close: () => server.close()
  }
}

const kinds: ReadonlyArray<() => Promise<Database>> = Postgres.available
  ? [async () => sqlite(), postgres]
  : [async () => sqlite()]

interface Run {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stderr: string
}

/** One `export` process; `kill` decides when to SIGKILL it (given a way to see it running). */
const exportRun = (db: Database, kill?: (child: ChildProcess) => Promise<void>): Promise<Run> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [
      main,
      "export",
      "--live",
      "--endpoint",
      announced.endpoint,
      "--region",
      announced.region,
      "--account",
      announced.accounts[0]!,
      "--database",
      db.url,
      "--max-results",
      "99"
    ], {
      cwd: root,
      stdio: ["ignore", "ignore", "pipe"],
      env: {
        PATH: process.env.PATH ?? "",
        AWS_CONFIG_FILE: "/nonexistent/config",
        AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials",
        AWS_ACCESS_KEY_ID: announced.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: announced.credentials.secretAccessKey
      }
    })
    let stderr = ""
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    child.on("close", (code, signal) => resolve({ code, signal, stderr }))
    if (kill !== undefined) void kill(child).then(() => child.kill("SIGKILL"))
  })

describe("export killed at random moments, then run to the end", () => {
  for (const make of kinds) {
    it.live(
      `${make === postgres ? "PostgreSQL" : "SQLite"}: 20,000 rows, no duplicates, the checkpoint done`,
      () =>
        Effect.promise(async () => {
          const db = await make()
          try {
            const next = random(20261203)
            let midway = 0
            for (let i = 0; i < KILLS; i++) {
              const before = await db.checkpoint()
              const run = await exportRun(db, async (child) => {
                if (i % 2 === 0) {
                  // Anywhere from the start: often before the first commit.
                  await sleep(next() * 1200)
                  return
                }
                // Once this run's commits show, in the middle of its listing.
                const deadline = Date.now() + 20_000
                while (Date.now() < deadline && child.exitCode === null) {
                  const now = await db.checkpoint()
                  if (now !== undefined && now.pages > (before?.pages ?? 0)) break
                  await sleep(20)
                }
                await sleep(next() * 150)
              })
              expect(run.signal, `run ${i + 1} ended before its kill: ${run.stderr}`).toBe("SIGKILL")
              const after = await db.checkpoint()
              if (after !== undefined && after.pages > (before?.pages ?? 0)) midway++
              expect(after?.status ?? "running").toBe("running")
            }
            expect(midway).toBeGreaterThanOrEqual(KILLS / 2)
            const last = await exportRun(db)
            expect(last.code, last.stderr).toBe(0)
            expect(last.stderr).toContain("20,000")
            const ids = await db.roomIds()
            expect(ids.length).toBe(ROOMS)
            expect(new Set(ids).size).toBe(ROOMS)
            expect([...ids].sort()).toEqual(expected)
            expect(await db.checkpoint()).toEqual({ status: "done", pages: 203, rooms: ROOMS })
          } finally {
            await db.close()
          }
        }),
      180_000
    )
  }
})
