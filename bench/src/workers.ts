/**
 * Section 2c of `pnpm bench` (`--only workers`): the deployment of the README as local processes.
 * 4 `chime-rooms list --live` workers (the built bin) list the same account of one throttled
 * emulator at once, pacing by one limiter shared in a `redis-server` (adaptive, or fixed at the
 * server's rate) or each by a limiter of its own. Every worker must list every room, in order:
 * anything else is a problem that fails the bench.
 *
 * @since 0.2.0
 */
import * as Redis from "@chime-rooms/servers/Redis"
import { Dataset } from "@chime-rooms/testing"
import { spawn } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import type { Server, ServerStats } from "./emulatorChild.js"
import { startServer } from "./emulatorChild.js"
import { fixed, int, mark, median, table, times } from "./stats.js"

const distDir = dirname(fileURLToPath(import.meta.url))
const bin = join(distDir, "..", "..", "packages", "cli", "dist", "bin", "chime-rooms.js")

/** What the section needs from the harness. */
export interface WorkersContext {
  readonly workers: number
  readonly pagesPerWorker: number
  readonly runs: number
  readonly pageSize: number
  readonly rate: number
  readonly burst: number
  readonly log: (line: string) => void
  /** Records a problem that fails the bench. */
  readonly problem: (text: string) => void
}

interface Row {
  readonly label: string
  /** Shares a fresh `redis-server` (one per run: no model learned by an earlier run). */
  readonly redis: boolean
  readonly args: ReadonlyArray<string>
  /** Held to the target (≤ 1.15× and < 5 % throttled). */
  readonly held: boolean
}

interface Run {
  /** From the first worker's start to the last one's exit. */
  readonly wallMs: number
  /** The emulator's first request to its last. */
  readonly listingMs: number
  readonly requests: number
  readonly throttled: number
}

interface WorkerResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** One worker process; killed at `timeoutMs`. */
const worker = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<WorkerResult> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, "list", ...args], { stdio: ["ignore", "pipe", "pipe"], env })
    const out: Array<Buffer> = []
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => out.push(d))
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")))
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout: Buffer.concat(out).toString("utf8"), stderr })
    })
  })

/** Why a worker's output is not every room of the account in order, if it is not. */
const missing = (result: WorkerResult, expected: ReadonlyArray<string>): string | undefined => {
  if (result.code !== 0) {
    const why = result.signal === "SIGKILL" ? "killed at its deadline" : `exit ${String(result.code)}`
    return `${why}: ${result.stderr.trim().split("\n").slice(-2).join(" / ").slice(0, 300)}`
  }
  const lines = result.stdout.split("\n").filter((line) => line !== "")
  if (lines.length !== expected.length) return `listed ${lines.length} rooms, expected ${expected.length}`
  for (let i = 0; i < lines.length; i++) {
    if ((JSON.parse(lines[i]!) as { RoomId?: string }).RoomId !== expected[i]) {
      return `room ${i + 1} is not the account's room ${i + 1}`
    }
  }
  return undefined
}

/**
 * Runs the section, or returns why it is skipped: without `redis-server` outside CI it prints that
 * it skips; under `CI=true` the bench does not start (importing `@chime-rooms/servers/Redis` throws).
 */
export const workersSection = async (ctx: WorkersContext): Promise<string> => {
  const { burst, pageSize, pagesPerWorker, rate, workers } = ctx
  const pages = workers * pagesPerWorker
  const rooms = pagesPerWorker * pageSize
  const limitS = pages / rate
  const title = `## 2c. Four workers, one Redis — ${workers} processes × ${pagesPerWorker} pages of one account at ` +
    `once, ${rate} req/s, burst ${burst} (${pages} pages, limit ${fixed(limitS, 1)} s)`
  if (!Redis.available) {
    const why = `${Redis.binary} not found: section 2c skipped (apt-get install redis-server, or set REDIS_SERVER)`
    ctx.log(`\n# 2c. ${why}`)
    return `${title}\n\n${why}.`
  }
  ctx.log(
    `\n# 2c. Four workers, one Redis: ${workers} × ${pagesPerWorker} pages at once, ${rate} req/s burst ${burst}, ` +
      `${ctx.runs} runs per row`
  )
  const rows: ReadonlyArray<Row> = [
    { label: `${workers} workers, shared Redis limiter (adaptive)`, redis: true, args: [], held: true },
    {
      label: `${workers} workers, shared Redis limiter (fixed ${rate}/s)`,
      redis: true,
      args: ["--rate", String(rate)],
      held: true
    },
    { label: `${workers} workers, per-process adaptive limiters`, redis: false, args: [], held: false }
  ]
  const server: Server = await startServer([
    "--rooms",
    String(rooms),
    "--page-size",
    String(pageSize),
    "--rate",
    String(rate),
    "--burst",
    String(burst),
    "--record",
    String(pages * 20)
  ])
  const ids = Dataset.allRooms(Dataset.generate({ seed: 7, accounts: 1, roomsPerAccount: rooms }), server.account)
    .map((room) => room.RoomId!)
  // Only the emulator's key pair: no shared config files, no profile, no other Redis.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? "",
    AWS_ACCESS_KEY_ID: server.accessKey,
    AWS_SECRET_ACCESS_KEY: server.secret,
    AWS_CONFIG_FILE: "/nonexistent/config",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials"
  }
  const base = ["--live", "--endpoint", server.endpoint, "--account", server.account, "--json"]
  // A stuck worker is killed well past anything the limit explains.
  const timeoutMs = Math.round(3 * limitS * 1000 + 30_000)
  const results = new Map<Row, { runs: Array<Run>; failures: Array<string> }>(
    rows.map((row) => [row, { runs: [], failures: [] }])
  )
  try {
    for (let run = 0; run < ctx.runs; run++) {
      // Round-robin, the first row rotating: a slow minute weighs on every row alike.
      for (let k = 0; k < rows.length; k++) {
        const row = rows[(k + run) % rows.length]!
        const result = results.get(row)!
        let redis: Redis.Server | undefined
        try {
          redis = row.redis ? await Redis.start() : undefined
          await server.stats()
          const args = [...base, ...(redis === undefined ? [] : ["--redis", redis.url]), ...row.args]
          const t0 = performance.now()
          const finished = await Promise.all(Array.from({ length: workers }, () => worker(args, env, timeoutMs)))
          const wallMs = performance.now() - t0
          const stats: ServerStats = await server.stats()
          const wrong = finished.map((f, i) => [i, missing(f, ids)] as const).filter(([, why]) => why !== undefined)
          if (wrong.length > 0) {
            const [i, why] = wrong[0]!
            result.failures.push(`worker ${i + 1}: ${why}`)
            ctx.log(`  run ${run + 1} ${row.label}: FAILED (${wrong.length} worker(s); worker ${i + 1}: ${why})`)
            continue
          }
          const listingMs = (stats.lastMs ?? 0) - (stats.firstMs ?? 0)
          result.runs.push({ wallMs, listingMs, requests: stats.requests, throttled: stats.throttled })
          ctx.log(
            `  run ${run + 1} ${row.label}: ${int(wallMs)} ms wall, ${int(listingMs)} ms listing, ` +
              `${stats.requests} requests, ${stats.throttled} throttled, every worker ${rooms} rooms`
          )
        } finally {
          await redis?.close()
        }
      }
    }
  } finally {
    server.stop()
  }
  const body = rows.map((row) => {
    const { failures, runs } = results.get(row)!
    for (const failure of failures) ctx.problem(`${row.label}: ${failure}`)
    const med = (f: (r: Run) => number) => median(runs.map(f))
    const wallS = med((r) => r.wallMs) / 1000
    const listingS = med((r) => r.listingMs) / 1000
    const share = med((r) => r.throttled / r.requests)
    const ratio = listingS / limitS
    return [
      row.label,
      failures.length === 0 ? String(runs.length) : `${runs.length} / ${failures.length} failed`,
      int(med((r) => r.requests)),
      fixed(share * 100, 1) + " %",
      fixed(listingS, 2),
      times(ratio),
      fixed(wallS, 2),
      times(wallS / limitS),
      row.held ? "≤ 1.15× and < 5 % throttled" : "contrast",
      row.held ? mark(failures.length === 0 && ratio <= 1.15 && share < 0.05) : ""
    ]
  })
  return [
    title,
    "",
    table(
      ["workers", "runs", "requests", "throttled", "listing s", "× limit", "wall s", "wall × limit", "target", ""],
      body
    ),
    "",
    `Medians of ${ctx.runs} runs, the rows round-robin against one emulator process (${rate} req/s, burst ${burst}, ` +
    `${rooms} rooms of ${pageSize} a page). In each run ${workers} \`chime-rooms list --live --endpoint … --json\` ` +
    "processes (the built CLI) start at once and list the whole account; the bench fails unless every one of them " +
    "exits 0 with every room of the account, in order. The shared rows add `--redis redis://127.0.0.1:PORT` " +
    "(a fresh `redis-server` for each run, so no run starts from a model an earlier one learned) and, for the fixed " +
    `row, \`--rate ${rate}\`: one bucket for all the workers, paced evenly. The last row runs without \`--redis\`: ` +
    "each worker learns the limit on its own. Requests and 429s are the emulator's own count; \"listing s\" is " +
    "from the first request it received to the last, and \"× limit\" is that over " +
    `${pages} / ${rate} s (the target's measure, as the other sections leave module loading out); "wall s" is from ` +
    "starting the processes to the last one's exit, Node's start-up included."
  ].join("\n")
}
