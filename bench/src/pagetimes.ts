/**
 * `node bench/dist/pagetimes.js [--rooms N] [--rounds R] [--clients floor,effect-stream,ours-undici]`
 * (a client may carry its own arguments: `--clients "floor,ours-undici --prefetch 2"`):
 * where a listing's wall time goes, page by page. Each client runs in its own process, rounds
 * alternate, against one emulator child (as in the throughput table), with `pagetimesPreload.js`
 * timestamping every exchange. Per run it splits the wall time into:
 * - the start: from the timed window's start to the first page in hand (building the client, the
 *   first connection, a cold JIT);
 * - the first 100 pages after it, and the rest;
 * and each page of the rest (head to head) into the client's own time (response head to the next
 * dispatch: body, parse, validate, decode, stream, sign), the transport's (dispatch to the socket
 * write; undici writes on a reused keep-alive socket from a `setImmediate`) and the server's (write
 * to response head, which includes the loopback). Prints medians over the rounds, and each
 * client's figures over the first client's (the floor by default).
 *
 * @since 0.1.0
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { parseArgs } from "node:util"
import { runClient } from "./clientChild.js"
import type { Report } from "./clients/common.js"
import { startServer } from "./emulatorChild.js"
import type { Exchange } from "./pagetimesPreload.js"
import { fixed, int, median, table, times } from "./stats.js"

const { values } = parseArgs({
  options: {
    rooms: { type: "string", default: "100000" },
    rounds: { type: "string", default: "5" },
    clients: { type: "string", default: "floor,effect-stream,ours-undici" }
  },
  strict: true
})

const distDir = dirname(fileURLToPath(import.meta.url))
const preload = pathToFileURL(join(distDir, "pagetimesPreload.js")).href
const clients = values.clients.split(",").map((c) => c.trim())
const rounds = Math.max(1, Number(values.rounds))
const WARM_AFTER = 100

/** What one run splits into (milliseconds). */
interface Split {
  readonly wall: number
  readonly start: number
  readonly first100: number
  readonly rest: number
  readonly pageMedian: number
  readonly pageP90: number
  readonly client: number
  readonly transport: number
  readonly server: number
}

const quantile = (values: ReadonlyArray<number>, q: number): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!
}

const split = (report: Report, all: ReadonlyArray<Exchange>): Split => {
  const exchanges = all.filter((e) => e.head !== undefined && e.written !== undefined)
  const heads = exchanges.map((e) => e.head!)
  const intervals = heads.slice(1).map((h, i) => h - heads[i]!)
  const rest = intervals.slice(WARM_AFTER)
  const after = exchanges.slice(WARM_AFTER + 1)
  const sum = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0)
  return {
    wall: report.wallMs,
    start: report.firstPageMs ?? Number.NaN,
    first100: sum(intervals.slice(0, WARM_AFTER)),
    rest: sum(rest),
    pageMedian: median(rest),
    pageP90: quantile(rest, 0.9),
    client: median(after.map((e, i) => e.dispatched - exchanges[WARM_AFTER + i]!.head!)),
    transport: median(after.map((e) => e.written! - e.dispatched)),
    server: median(after.map((e) => e.head! - e.written!))
  }
}

const runOnce = async (script: string, args: ReadonlyArray<string>, out: string): Promise<Split> => {
  const outcome = await runClient(`${script}.js`, args, {
    nodeFlags: ["--import", preload],
    env: { PAGETIMES_OUT: out },
    timeoutMs: 120_000
  })
  if ("failure" in outcome) throw new Error(`${script}: ${outcome.failure}`)
  if (!outcome.report.ok) throw new Error(`${script}: ${outcome.report.error ?? "failed"}`)
  return split(outcome.report, JSON.parse(readFileSync(out, "utf8")) as Array<Exchange>)
}

const server = await startServer(["--rooms", values.rooms, "--page-size", "99"])
const tmp = mkdtempSync(join(tmpdir(), "pagetimes-"))
const runs = new Map<string, Array<Split>>(clients.map((c) => [c, []]))
try {
  const args = [
    "--endpoint",
    server.endpoint,
    "--account",
    server.account,
    "--access-key",
    server.accessKey,
    "--secret",
    server.secret
  ]
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < clients.length; k++) {
      const client = clients[(round + k) % clients.length]!
      const [script, ...own] = client.split(/\s+/)
      runs.get(client)!.push(await runOnce(script!, [...own, ...args], join(tmp, `${script}.json`)))
    }
    process.stderr.write(`round ${round + 1}/${rounds} done\n`)
  }
} finally {
  server.stop()
  rmSync(tmp, { recursive: true, force: true })
}

const med = (client: string, f: (s: Split) => number): number => median(runs.get(client)!.map(f))
const base = clients[0]!
const cell = (client: string, f: (s: Split) => number, digits: number): string => {
  const v = med(client, f)
  const shown = digits === 0 ? int(v) : fixed(v, digits)
  return client === base ? shown : `${shown} (${times(v / med(base, f))})`
}
process.stdout.write(
  table(
    [
      "client",
      "wall ms",
      "start ms",
      `pages 2–${WARM_AFTER + 1} ms`,
      "rest ms",
      "rest: median page ms",
      "p90 page ms",
      "client ms/page",
      "transport ms/page",
      "server ms/page"
    ],
    clients.map((c) => [
      c,
      cell(c, (s) => s.wall, 0),
      cell(c, (s) => s.start, 0),
      cell(c, (s) => s.first100, 0),
      cell(c, (s) => s.rest, 0),
      cell(c, (s) => s.pageMedian, 3),
      cell(c, (s) => s.pageP90, 3),
      cell(c, (s) => s.client, 3),
      cell(c, (s) => s.transport, 3),
      cell(c, (s) => s.server, 3)
    ])
  ) +
    `\n\nMedians of ${rounds} alternating runs, ${values.rooms} rooms in pages of 99; "rest" is every page after the first ${
      WARM_AFTER + 1
    }; in brackets, × ${base}.\n`
)
process.exit(0)
