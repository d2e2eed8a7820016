/**
 * Section 5 of `pnpm bench` (`--only export`): `chime-rooms export` against `chime-rooms list --json
 * > file` on the same unthrottled emulator, as the commands users run (the built bin, start-up
 * included): into a fresh SQLite file, and into a fresh PostgreSQL database (a real server of
 * `@chime-rooms/servers`, fsync on). Every export must store every room once, its checkpoint done;
 * every listing must print every room: anything else is a problem that fails the bench. The target:
 * the SQLite export within 1.5× the listing's wall time.
 *
 * @since 0.3.0
 */
import * as Postgres from "@chime-rooms/servers/Postgres"
import { createClient } from "@libsql/client"
import { spawn, spawnSync } from "node:child_process"
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { startServer } from "./emulatorChild.js"
import { int, mark, median, table, times } from "./stats.js"

const distDir = dirname(fileURLToPath(import.meta.url))
const bin = join(distDir, "..", "..", "packages", "cli", "dist", "bin", "chime-rooms.js")

/** What the section needs from the harness. */
export interface ExportContext {
  readonly sizes: ReadonlyArray<number>
  readonly runs: number
  readonly pageSize: number
  readonly log: (line: string) => void
  /** Records a problem that fails the bench. */
  readonly problem: (text: string) => void
}

/** The target: an export into SQLite within this many times the listing's wall time. */
const TARGET = 1.5

interface Outcome {
  readonly wallMs: number
  readonly code: number | null
  readonly stderr: string
}

/** Runs the CLI with `args`, stdout into `stdoutFile` (or nowhere): wall time from spawn to exit. */
const cli = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv, stdoutFile?: string): Promise<Outcome> =>
  new Promise((resolve) => {
    const out = stdoutFile === undefined ? "ignore" : openSync(stdoutFile, "w")
    const started = performance.now()
    const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", out, "pipe"], env })
    let stderr = ""
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString("utf8")))
    const timer = setTimeout(() => child.kill("SIGKILL"), 300_000)
    child.on("close", (code) => {
      const wallMs = performance.now() - started
      clearTimeout(timer)
      if (typeof out === "number") closeSync(out)
      resolve({ wallMs, code, stderr })
    })
  })

interface Row {
  readonly label: string
  readonly kind: "list" | "sqlite" | "postgres"
}

/** Why an export's database is not every room once with its checkpoint done, if it is not. */
const checkSqlite = async (file: string, rooms: number): Promise<string | undefined> => {
  const db = createClient({ url: `file:${file}` })
  try {
    const [count] = (await db.execute("SELECT count(*) AS n, count(DISTINCT room_id) AS d FROM rooms")).rows
    const [checkpoint] = (await db.execute("SELECT status FROM room_exports")).rows
    if (Number(count!.n) !== rooms || Number(count!.d) !== rooms) return `${String(count!.n)} rows, expected ${rooms}`
    if (checkpoint?.status !== "done") return `checkpoint ${String(checkpoint?.status)}`
    return undefined
  } finally {
    db.close()
  }
}

const checkPostgres = (psql: string, url: string, rooms: number): string | undefined => {
  const result = spawnSync(psql, [
    url,
    "-tAc",
    "SELECT count(*), count(DISTINCT room_id), (SELECT string_agg(status, ',') FROM room_exports) FROM rooms"
  ], { encoding: "utf8" })
  const [n, d, status] = result.stdout.trim().split("|")
  if (Number(n) !== rooms || Number(d) !== rooms) return `${String(n)} rows, expected ${rooms}`
  if (status !== "done") return `checkpoint ${String(status)}`
  return undefined
}

/** Runs the section: one table per size. */
export const exportSection = async (ctx: ExportContext): Promise<string> => {
  const parts: Array<string> = [
    "## 5. Export into SQL",
    "",
    "`chime-rooms export --live --database …` against `chime-rooms list --live --json > file`, the same rooms of " +
    `one unthrottled emulator, pages of ${ctx.pageSize}; wall time of each command from spawn to exit (start-up ` +
    `included), median of ${ctx.runs} runs. Target: into SQLite within ${TARGET}× the listing.`
  ]
  const postgres = Postgres.available ? await Postgres.start({ durable: true }) : undefined
  if (postgres === undefined) {
    const why = `${Postgres.skipMessage}: the PostgreSQL rows are skipped`
    if (process.env.CI === "true") ctx.problem(why)
    ctx.log(`  ${why}`)
  }
  const dir = mkdtempSync(join(tmpdir(), "chime-rooms-bench-export-"))
  try {
    for (const rooms of ctx.sizes) {
      ctx.log(`\n# 5. Export into SQL: ${int(rooms)} rooms, ${ctx.runs} runs per row`)
      const server = await startServer(["--rooms", String(rooms), "--page-size", String(ctx.pageSize)])
      const env = {
        ...process.env,
        AWS_ACCESS_KEY_ID: server.accessKey,
        AWS_SECRET_ACCESS_KEY: server.secret,
        AWS_REGION: "us-east-1"
      }
      const common = ["--live", "--endpoint", server.endpoint, "--account", server.account, "--max-results", "99"]
      const rows: ReadonlyArray<Row> = [
        { label: "`chime-rooms list --json > file`", kind: "list" },
        { label: "`chime-rooms export --database sqlite:…`", kind: "sqlite" },
        ...(postgres === undefined
          ? []
          : [{ label: "`chime-rooms export --database postgres://…`", kind: "postgres" as const }])
      ]
      const walls = new Map<Row, Array<number>>(rows.map((row) => [row, []]))
      try {
        for (let run = 0; run < ctx.runs; run++) {
          for (let k = 0; k < rows.length; k++) {
            const row = rows[(k + run) % rows.length]!
            let outcome: Outcome
            let wrong: string | undefined
            if (row.kind === "list") {
              const file = join(dir, "list.jsonl")
              outcome = await cli(["list", ...common, "--json"], env, file)
              const lines = readFileSync(file, "utf8").split("\n").filter((line) => line !== "").length
              if (lines !== rooms) wrong = `listed ${lines} rooms, expected ${rooms}`
              rmSync(file, { force: true })
            } else if (row.kind === "sqlite") {
              const file = join(dir, `export-${rooms}-${run}.db`)
              outcome = await cli(["export", ...common, "--database", `sqlite:${file}`], env)
              if (outcome.code === 0) wrong = await checkSqlite(file, rooms)
              for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true })
            } else {
              const url = Postgres.createDatabase(postgres!, `bench_${rooms}_${run}`)
              outcome = await cli(["export", ...common, "--database", url], env)
              if (outcome.code === 0) wrong = checkPostgres(Postgres.psql, url, rooms)
            }
            if (outcome.code !== 0) wrong = `exit ${String(outcome.code)}: ${outcome.stderr.trim().slice(-300)}`
            if (wrong !== undefined) {
              ctx.problem(`export section, ${row.label}, ${rooms} rooms: ${wrong}`)
              ctx.log(`  run ${run + 1} ${row.label}: FAILED (${wrong})`)
            } else {
              walls.get(row)!.push(outcome.wallMs)
              ctx.log(`  run ${run + 1} ${row.label}: ${int(outcome.wallMs)} ms wall`)
            }
          }
        }
      } finally {
        server.stop()
      }
      const listWall = median(walls.get(rows[0]!)!)
      parts.push(
        "",
        `### ${int(rooms)} rooms`,
        "",
        table(
          ["command", "wall (median)", "× the listing", "target"],
          rows.map((row) => {
            const wall = median(walls.get(row)!)
            const ratio = wall / listWall
            const target = row.kind === "sqlite" ? `≤ ${TARGET}× ${mark(ratio <= TARGET)}` : ""
            if (row.kind === "sqlite" && !(ratio <= TARGET)) {
              ctx.log(`  target missed: ${row.label} ${times(ratio)} the listing (target ${TARGET}×)`)
            }
            return [row.label, `${int(wall)} ms`, row.kind === "list" ? "1.00×" : times(ratio), target]
          })
        )
      )
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
    await postgres?.close()
  }
  return parts.join("\n")
}
