/**
 * `pnpm bench [--quick]`: lists Chime rooms from the emulator with this library, the AWS SDK and a
 * floor, each client in its own process and in alternating order, and prints one markdown table
 * per section (also written to `bench/results.md`, or `bench/results.quick.md` with `--quick`).
 *
 * Options: `--quick` (reduced sizes, under a minute), `--runs N` (runs per row), `--only
 * throughput,throttling,concurrent,workers,memory,size`, `--prof LABEL-SUBSTRING` (adds `--cpu-prof` to matching
 * clients; profiles land in `bench/.bench-tmp/prof`), `--parallel-throttling` (run the throttling
 * rows of a round at once, each on its own emulator: faster, but they then share the CPU), `--no-write`.
 *
 * @since 0.1.0
 */
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { runClient } from "./clientChild.js"
import type { Report } from "./clients/common.js"
import { type Server, startServer } from "./emulatorChild.js"
import { exportSection } from "./export.js"
import { measureSizes, overPlainEffectTarget, settings, type SizeResult, targetOf } from "./size.js"
import { fixed, int, mark, mb, median, table, times } from "./stats.js"
import { workersSection } from "./workers.js"

const distDir = dirname(fileURLToPath(import.meta.url))
const benchDir = dirname(distDir)
const tmpDir = join(benchDir, ".bench-tmp")

const { values: cli } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    runs: { type: "string" },
    only: { type: "string" },
    prof: { type: "string" },
    "no-write": { type: "boolean", default: false },
    "parallel-throttling": { type: "boolean", default: false }
  },
  strict: true
})
const quick = cli.quick
const sections = new Set(
  (cli.only ?? "throughput,throttling,concurrent,workers,export,memory,size").split(",").map((s) => s.trim())
)

/** Sizes of each section, full and `--quick`. */
const plan = quick
  ? {
    throughputRooms: 5_000,
    throughputRuns: 1,
    throttledPages: 25,
    throttledRuns: 1,
    concurrentStreams: 10,
    concurrentPages: 10,
    workersPages: 25,
    workersRuns: 1,
    memorySmall: 5_000,
    memoryMiddle: 20_000,
    memoryLarge: 50_000,
    memoryRuns: 1,
    exportSizes: [5_000],
    exportRuns: 1
  }
  : {
    throughputRooms: 100_000,
    throughputRuns: 5,
    throttledPages: 500,
    throttledRuns: 5,
    concurrentStreams: 20,
    concurrentPages: 25,
    workersPages: 250,
    workersRuns: 3,
    memorySmall: 10_000,
    memoryMiddle: 300_000,
    memoryLarge: 1_000_000,
    memoryRuns: 5,
    exportSizes: [20_000, 100_000],
    exportRuns: 5
  }
if (cli.runs !== undefined) {
  const n = Math.max(1, Number(cli.runs))
  plan.throughputRuns = n
  plan.throttledRuns = n
  plan.workersRuns = n
  plan.memoryRuns = n
  plan.exportRuns = n
}
const PAGE_SIZE = 99
const RATE = 50
const BURST = 5
/** A client that takes longer than this is killed and its run counted as failed. */
const CLIENT_TIMEOUT_MS = quick ? 30_000 : 120_000

// --- child processes -----------------------------------------------------------------------

// --- rows ----------------------------------------------------------------------------------

/** One line of a table: a client script and its arguments. */
interface Row {
  readonly label: string
  readonly script: string
  readonly args: ReadonlyArray<string>
  /** Whether a failed run means the harness (or our code) is broken, rather than being a result. */
  readonly mustComplete: boolean
  readonly kind: "floor" | "ours" | "ours-fetch" | "sdk" | "reference" | "floor-warm" | "ours-warm"
  /** Throttling rows: run against the emulator whose 429s carry `Retry-After` (a reported variant). */
  readonly retryAfter?: boolean
}

interface RowResult {
  readonly row: Row
  readonly reports: ReadonlyArray<Report>
  /** The round of each report (same index): rows are compared round by round. */
  readonly rounds: ReadonlyArray<number>
  readonly failures: ReadonlyArray<string>
}

const available = (row: Row): boolean => existsSync(join(distDir, "clients", row.script))

/** Runs every row `runs` times, round-robin, rotating which row goes first in each round. */
const runRows = async (
  servers: (row: Row) => Server,
  rows: ReadonlyArray<Row>,
  runs: number,
  options: { readonly nodeFlags?: ReadonlyArray<string>; readonly concurrent?: boolean } = {}
): Promise<Array<RowResult>> => {
  const present = rows.filter(available)
  for (const row of rows) if (!available(row)) log(`  (skipping ${row.label}: clients/${row.script} not built)`)
  const results = present.map((row) => ({
    row,
    reports: [] as Array<Report>,
    rounds: [] as Array<number>,
    failures: [] as Array<string>
  }))
  const once = async (
    result: RowResult & { reports: Array<Report>; rounds: Array<number>; failures: Array<string> },
    run: number
  ) => {
    const { row } = result
    const server = servers(row)
    const args = [
      "--endpoint",
      server.endpoint,
      "--account",
      server.account,
      "--access-key",
      server.accessKey,
      "--secret",
      server.secret,
      "--page-size",
      String(PAGE_SIZE),
      ...row.args
    ]
    const prof = cli.prof !== undefined && row.label.includes(cli.prof)
      ? ["--cpu-prof", "--cpu-prof-dir", join(tmpDir, "prof")]
      : []
    const outcome = await runClient(row.script, args, {
      nodeFlags: [...(options.nodeFlags ?? []), ...prof],
      timeoutMs: CLIENT_TIMEOUT_MS
    })
    if ("failure" in outcome) {
      result.failures.push(outcome.failure)
      log(`  run ${run + 1} ${row.label}: FAILED (${outcome.failure})`)
    } else if (!outcome.report.ok) {
      result.failures.push(outcome.report.error ?? "failed")
      log(`  run ${run + 1} ${row.label}: FAILED (${outcome.report.error ?? "?"}) after ${outcome.report.pages} pages`)
    } else {
      result.reports.push(outcome.report)
      result.rounds.push(run)
      log(
        `  run ${run + 1} ${row.label}: ${int(outcome.report.wallMs)} ms wall, ${int(outcome.report.cpuMs)} ms CPU, ` +
          `${mb(outcome.report.maxRssBytes)} MB, ${outcome.report.rooms} rooms${
            outcome.report.stopped === true ? " (stopped at its deadline)" : ""
          }`
      )
    }
  }
  for (let run = 0; run < runs; run++) {
    const order = results.map((_, k) => results[(k + run) % results.length]!)
    if (options.concurrent === true) await Promise.all(order.map((result) => once(result, run)))
    else for (const result of order) await once(result, run)
  }
  return results
}

const med = (r: RowResult, f: (x: Report) => number | undefined): number =>
  median(r.reports.map(f).filter((x): x is number => x !== undefined))

/**
 * `r`'s wall time over `base`'s in each round both completed: the lowest and the highest. Every
 * row runs once per round, so a slow minute on the machine weighs on both sides of a ratio.
 */
const roundRatios = (r: RowResult, base: RowResult): { readonly min: number; readonly max: number } | undefined => {
  const ratios = r.reports.flatMap((report, i) => {
    const j = base.rounds.indexOf(r.rounds[i]!)
    return j === -1 ? [] : [report.wallMs / base.reports[j]!.wallMs]
  })
  return ratios.length < 2 ? undefined : { min: Math.min(...ratios), max: Math.max(...ratios) }
}

const log = (line: string) => process.stderr.write(line + "\n")

/** Problems that make the run fail (a broken harness or a broken client), as opposed to missed targets. */
const problems: Array<string> = []

const checkComplete = (results: ReadonlyArray<RowResult>, expectedRooms: number) => {
  for (const r of results) {
    if (r.row.mustComplete && r.failures.length > 0) {
      problems.push(`${r.row.label}: ${r.failures.length} failed run(s): ${r.failures[0]}`)
    }
    for (const report of r.reports) {
      if (report.stopped === true) continue
      if (report.rooms !== expectedRooms) {
        problems.push(`${r.row.label}: listed ${report.rooms} rooms, expected ${expectedRooms}`)
        break
      }
    }
  }
}

const runsCell = (r: RowResult): string => {
  const stopped = r.reports.filter((x) => x.stopped === true).length
  const ok = stopped === 0 ? String(r.reports.length) : `${r.reports.length} (${stopped} stopped)`
  return r.failures.length === 0 ? ok : `${ok} / ${r.failures.length} failed`
}

// --- sections ------------------------------------------------------------------------------

const ourRows = (extra: ReadonlyArray<string> = []): Array<Row> => [
  {
    label: "chime-rooms · UndiciHttpClient (ours, lean)",
    script: "ours-undici.js",
    args: extra,
    mustComplete: true,
    kind: "ours"
  },
  {
    label: "chime-rooms · NodeHttpClient.layerUndici",
    script: "ours-platform.js",
    args: extra,
    mustComplete: true,
    kind: "ours"
  },
  {
    label: "chime-rooms · FetchHttpClient",
    script: "ours-fetch.js",
    args: extra,
    mustComplete: true,
    kind: "ours-fetch"
  }
]

const serverArgs = (rooms: number, limit?: { rate: number; burst: number; retryAfter?: boolean }): Array<string> => [
  "--rooms",
  String(rooms),
  "--page-size",
  String(PAGE_SIZE),
  ...(limit === undefined ? [] : ["--rate", String(limit.rate), "--burst", String(limit.burst)]),
  ...(limit?.retryAfter === true ? ["--retry-after"] : [])
]

const throughput = async (): Promise<string> => {
  const rooms = plan.throughputRooms
  log(`\n# 1. Unthrottled throughput: ${int(rooms)} rooms, pages of ${PAGE_SIZE}, ${plan.throughputRuns} runs per row`)
  const server = await startServer(serverArgs(rooms))
  const rows: Array<Row> = [
    { label: "floor (undici Client, JSON.parse)", script: "floor.js", args: [], mustComplete: true, kind: "floor" },
    ...ourRows(),
    // Pages ahead: the next request leaves as soon as a page's token is in, before the page is
    // decoded. With 2, about one page in ten still waits for the page before it to be taken.
    {
      label: "chime-rooms · UndiciHttpClient, prefetch 3",
      script: "ours-undici.js",
      args: ["--prefetch", "3"],
      mustComplete: true,
      kind: "ours"
    },
    { label: "@aws-sdk/client-chime paginateListRooms", script: "sdk.js", args: [], mustComplete: true, kind: "sdk" },
    {
      label: "reference: an Effect Stream over the floor's requests (no signing, validation, retries)",
      script: "effect-stream.js",
      args: [],
      mustComplete: true,
      kind: "reference"
    },
    {
      label: "floor, warm (2nd listing in its process)",
      script: "floor.js",
      args: ["--repeat", "2"],
      mustComplete: true,
      kind: "floor-warm"
    },
    {
      label: "chime-rooms · UndiciHttpClient, warm (2nd listing)",
      script: "ours-undici.js",
      args: ["--repeat", "2"],
      mustComplete: true,
      kind: "ours-warm"
    }
  ]
  let results: Array<RowResult>
  try {
    results = await runRows(() => server, rows, plan.throughputRuns)
  } finally {
    server.stop()
  }
  checkComplete(results, rooms)
  const floor = results.find((r) => r.row.kind === "floor")
  // Warm rows are set against the warm floor.
  const warmFloor = results.find((r) => r.row.kind === "floor-warm")
  const warm = (r: RowResult) => r.row.kind === "floor-warm" || r.row.kind === "ours-warm"
  const baseOf = (r: RowResult) => warm(r) ? warmFloor : floor
  const baseWall = (r: RowResult) => {
    const base = baseOf(r)
    return base === undefined ? Number.NaN : med(base, (x) => x.wallMs)
  }
  const baseCpu = (r: RowResult) => {
    const base = baseOf(r)
    return base === undefined ? Number.NaN : med(base, (x) => x.cpuMs)
  }
  /** The median ratio, and the range of the per-round ratios. */
  const wallCell = (r: RowResult, ratio: number): string => {
    const base = baseOf(r)
    const range = base === undefined || base === r ? undefined : roundRatios(r, base)
    return range === undefined ? times(ratio) : `${times(ratio)} (${fixed(range.min, 2)}–${times(range.max)})`
  }
  const ours = results.filter((r) => r.row.kind === "ours" && r.reports.length > 0)
  const fastest = ours.reduce<RowResult | undefined>(
    (best, r) => (best === undefined || med(r, (x) => x.wallMs) < med(best, (x) => x.wallMs) ? r : best),
    undefined
  )
  const body = results.map((r) => {
    const wall = med(r, (x) => x.wallMs)
    const ratio = wall / baseWall(r)
    let target = ""
    let verdict = ""
    if (r.row.kind === "floor") target = "1.00× (the floor)"
    else if (r.row.kind === "floor-warm") target = "1.00× (the warm floor)"
    else if (r.row.kind === "ours-warm") target = "reported (× the warm floor)"
    else if (r.row.kind === "reference") target = "reported: what Effect itself costs"
    else if (r.row.kind === "sdk") target = "reference (≈3.4×)"
    else if (r.row.kind === "ours-fetch") target = "reported, not held (fetch alone ≈2×)"
    else if (r === fastest) {
      target = "≤ 1.30× (fastest config)"
      verdict = mark(ratio <= 1.3)
    } else target = "— (not the fastest config)"
    return [
      r.row.label,
      runsCell(r),
      int(med(r, (x) => x.pages)),
      int(med(r, (x) => x.firstPageMs)),
      int(wall),
      int(med(r, (x) => x.cpuMs)),
      warm(r) ? "—" : int(med(r, (x) => x.processCpuMs - x.cpuMs)),
      mb(med(r, (x) => x.maxRssBytes)),
      wallCell(r, ratio),
      times(med(r, (x) => x.cpuMs) / baseCpu(r)),
      target,
      verdict
    ]
  })
  return [
    `## 1. Unthrottled throughput — ${int(rooms)} rooms, pages of ${PAGE_SIZE}`,
    "",
    table([
      "client",
      "runs",
      "pages",
      "first page ms",
      "wall ms",
      "client CPU ms",
      "load CPU ms",
      "peak RSS MB",
      "wall × floor",
      "CPU × floor",
      "target",
      ""
    ], body),
    "",
    `Medians of ${plan.throughputRuns} alternating runs; one emulator process for every row. Beside the wall ratio, ` +
    "in brackets: the lowest and highest of the per-round ratios (each round runs every row once, so a slow " +
    "minute on the machine weighs on both sides). Wall and client CPU " +
    "cover the listing (building the client included); \"load CPU\" is the process's CPU before it, mostly module loading. " +
    "Every row but the last two lists once in a fresh process, so the JIT compiles the code paths while the listing " +
    "runs; the target is held there. The warm rows list twice in one process and report the second listing, set " +
    "against the floor measured the same way: the steady state of a process that keeps listing. The reference row " +
    "is the floor's loop as an Effect `Stream` (`Stream.paginateChunkEffect`), with nothing of ours: what the " +
    "Effect runtime costs before any signing, validation or resilience."
  ].join("\n")
}

/**
 * One row of a throttled table from its runs' medians: pages, wall s, requests, the share throttled
 * and × limit; a `held` row carries the target (≤ 1.15× and < 5 % throttled), any other `otherwise`.
 */
const throttledCells = (
  r: RowResult,
  capMs: number,
  limitS: number,
  held: boolean,
  otherwise: string
): Array<string> => {
  // A stopped run's wall time is a lower bound; so is the median when it lands on one.
  const wallS = med(r, (x) => x.wallMs) / 1000
  const lowerBound = r.reports.some((x) => x.stopped === true) && wallS * 1000 >= capMs * 0.99
  const share = med(
    r,
    (x) => (x.requests !== undefined && x.throttled !== undefined && x.requests > 0
      ? x.throttled / x.requests
      : undefined)
  )
  const ratio = wallS / limitS
  const gt = lowerBound ? "> " : ""
  return [
    r.row.label,
    runsCell(r),
    int(med(r, (x) => x.pages)),
    gt + fixed(wallS, 2),
    int(med(r, (x) => x.requests)),
    fixed(share * 100, 1) + " %",
    gt + times(ratio),
    held ? "≤ 1.15× and < 5 % throttled" : otherwise,
    held ? mark(r.failures.length === 0 && !lowerBound && ratio <= 1.15 && share < 0.05) : ""
  ]
}

const throttling = async (): Promise<string> => {
  const pages = plan.throttledPages
  const rooms = pages * PAGE_SIZE
  const limitS = pages / RATE
  // A run still listing at 1.5x the limit is stopped and shown as "> 1.50x": only the SDK rows get
  // there, and one standard-mode SDK run alone can take 80 s; 5 runs of each row fit 10 minutes only
  // with that cap (measured: the whole bench took 645 s with a 2x cap and a fixed-limiter row).
  // Quick runs are too short for a ratio to mean much (a cold client needs ~1 s to warm up): a
  // generous cap there only keeps a stuck client from stalling CI.
  const capMs = quick ? 10_000 : 1.5 * limitS * 1000
  log(`\n# 2. Under throttling: ${RATE} req/s burst ${BURST}, ${pages} pages, ${plan.throttledRuns} runs per row`)
  const cap = ["--deadline-ms", String(capMs)]
  const rows: Array<Row> = [
    {
      label: "chime-rooms · adaptive limiter (default)",
      script: "ours-undici.js",
      args: ["--mode", "adaptive", ...cap],
      mustComplete: true,
      kind: "ours"
    },
    {
      label: "@aws-sdk/client-chime · standard retry",
      script: "sdk.js",
      args: ["--mode", "standard", ...cap],
      mustComplete: false,
      kind: "sdk"
    },
    {
      label: "@aws-sdk/client-chime · adaptive retry",
      script: "sdk.js",
      args: ["--mode", "adaptive", ...cap],
      mustComplete: false,
      kind: "sdk"
    },
    {
      label: `floor · paced at ${RATE}/s`,
      script: "floor.js",
      args: ["--mode", "paced", "--rate", String(RATE), ...cap],
      mustComplete: false,
      kind: "floor"
    },
    {
      label: "chime-rooms · adaptive limiter, 429s with Retry-After (≥ 1 s)",
      script: "ours-undici.js",
      args: ["--mode", "adaptive", ...cap],
      mustComplete: true,
      kind: "ours",
      retryAfter: true
    }
  ]
  // Default: one emulator, rows one after another. `--parallel-throttling` runs each round's rows
  // at once, each against its own emulator process with the same limit: much faster, but measured
  // on a 2-core machine the paced floor then took 1.7x instead of 1.03x the limit, so it is opt-in.
  const serial = !cli["parallel-throttling"]
  const started: Array<Server> = []
  const byRow = new Map<Row, Server>()
  let results: Array<RowResult>
  try {
    // The 429s of Chime's model carry no Retry-After; one reported row runs against an emulator
    // that sends one, which a caller must then wait out.
    if (serial) {
      const plain = await startServer(serverArgs(rooms, { rate: RATE, burst: BURST }))
      started.push(plain)
      const hinted = await startServer(serverArgs(rooms, { rate: RATE, burst: BURST, retryAfter: true }))
      started.push(hinted)
      for (const row of rows) byRow.set(row, row.retryAfter === true ? hinted : plain)
    } else {
      for (const row of rows) {
        const server = await startServer(
          serverArgs(rooms, { rate: RATE, burst: BURST, retryAfter: row.retryAfter === true })
        )
        started.push(server)
        byRow.set(row, server)
      }
    }
    results = await runRows((row) => byRow.get(row)!, rows, plan.throttledRuns, { concurrent: !serial })
  } finally {
    for (const server of started) server.stop()
  }
  checkComplete(results, rooms)
  const body = results.map((r) =>
    throttledCells(
      r,
      capMs,
      limitS,
      r.row.kind === "ours" && r.row.retryAfter !== true,
      r.row.kind === "sdk" ? "reference" : r.row.retryAfter === true ? "reported" : "—"
    )
  )
  return [
    `## 2. Under throttling — ${RATE} req/s, burst ${BURST}, ${pages} pages (limit ${fixed(limitS, 1)} s)`,
    "",
    table(["client", "runs", "pages", "wall s", "requests", "throttled", "× limit", "target", ""], body),
    "",
    `Medians of ${plan.throttledRuns} runs. ` +
    (serial
      ? "Rows ran one after another, round-robin, against one emulator (the last row against a second one). "
      : "In each round every row ran at the same time, each against its own emulator process with the same " +
        "rate limit (`--parallel-throttling`): the rows shared the CPU, so wall times are pessimistic. ") +
    `A run still listing at ${quick ? "" : "1.5× the limit, "}${
      fixed(capMs / 1000, 1)
    } s, is stopped there: its pages are those done by then, ` +
    "and a median that lands on a stopped run is shown as \"> \" (a lower bound). " +
    `Requests and 429s are counted by each client on its own side ` +
    "(ours from the layer's `ChimeMetrics` snapshot, the SDK through a `deserialize`-step middleware, the floor in its loop). " +
    "The emulator answers 429 `ThrottledClientException` without `Retry-After`, as Chime's model defines it, so each client " +
    "paces itself (the floor at the rate it is told; it would sleep a `Retry-After` if one came). The last row lists " +
    "against an emulator whose 429s say `Retry-After` in whole seconds, at least 1, which the stream never undercuts: " +
    "each throttle then costs a second of waiting (see `packages/stream/README.md`)."
  ].join("\n")
}

const concurrent = async (): Promise<string> => {
  const streams = plan.concurrentStreams
  const perStream = plan.concurrentPages
  const pages = streams * perStream
  const rooms = perStream * PAGE_SIZE
  const limitS = pages / RATE
  // As in section 2: a run still listing at 1.5x the limit is stopped (quick: a generous cap).
  const capMs = quick ? 10_000 : 1.5 * limitS * 1000
  log(
    `\n# 2b. Many streams on one layer: ${streams} listings of ${perStream} pages at once, ${RATE} req/s burst ${BURST}, ` +
      `${plan.throttledRuns} runs per row`
  )
  const common = ["--streams", String(streams), "--deadline-ms", String(capMs)]
  const rows: Array<Row> = [
    {
      label: `chime-rooms · adaptive limiter (default), ${streams} concurrent streams`,
      script: "ours-undici.js",
      args: ["--mode", "adaptive", ...common],
      mustComplete: true,
      kind: "ours"
    },
    {
      label: `chime-rooms · fixed ${RATE}/s, ${streams} concurrent streams`,
      script: "ours-undici.js",
      args: ["--mode", "fixed", "--rate", String(RATE), ...common],
      mustComplete: true,
      kind: "floor"
    }
  ]
  const server = await startServer(serverArgs(rooms, { rate: RATE, burst: BURST }))
  let results: Array<RowResult>
  try {
    results = await runRows(() => server, rows, plan.throttledRuns)
  } finally {
    server.stop()
  }
  // Each stream lists the whole account: the rooms reported are the sum over the streams.
  checkComplete(results, streams * rooms)
  const body = results.map((r) =>
    throttledCells(r, capMs, limitS, r.row.kind === "ours", "reported: told the right rate")
  )
  return [
    `## 2b. Many streams on one layer — ${streams} listings × ${perStream} pages at once, ${RATE} req/s, burst ${BURST} ` +
    `(${pages} pages, limit ${fixed(limitS, 1)} s)`,
    "",
    table(["client", "runs", "pages", "wall s", "requests", "throttled", "× limit", "target", ""], body),
    "",
    `Medians of ${plan.throttledRuns} alternating runs against one emulator. Each run is one process that lists the ` +
    `same account ${streams} times at once (\`--streams ${streams}\`) under one provided \`Resilience.layer\`, so every ` +
    "stream draws on the layer's one limiter: the default adaptive one, or `ChimeRateLimiter.layerFixed({ rate: " +
    `${RATE} })\` told the server's rate. Pages, requests and 429s are the layer's \`ChimeMetrics\`, summed over the ` +
    `streams; × limit is the wall time over ${pages} / ${RATE} s. A run still listing at ${fixed(capMs / 1000, 1)} s ` +
    "is stopped there (\"> \": a lower bound)."
  ].join("\n")
}

const memory = async (): Promise<string> => {
  const { memorySmall: small, memoryMiddle: middle, memoryLarge: large } = plan
  log(`\n# 3. Memory: stream ${int(small)}, ${int(middle)} and ${int(large)} rooms, ${plan.memoryRuns} runs each`)
  const server = await startServer(serverArgs(large))
  const row = (count: number): Row => ({
    label: `chime-rooms · ${int(count)} rooms`,
    script: "ours-undici.js",
    args: ["--limit", String(count)],
    mustComplete: true,
    kind: "ours"
  })
  // The middle count shows whether the peak keeps growing with the count or settles.
  const rows: Array<Row> = [row(small), row(middle), row(large)]
  let results: Array<RowResult>
  try {
    results = await runRows(() => server, rows, plan.memoryRuns, { nodeFlags: ["--expose-gc"] })
  } finally {
    server.stop()
  }
  results.forEach((r, i) => checkComplete([r], [small, middle, large][i]!))
  const smallResult = results[0]
  const base = smallResult === undefined ? Number.NaN : med(smallResult, (x) => x.maxRssBytes)
  const body = results.map((r, i) => {
    const rss = med(r, (x) => x.maxRssBytes)
    const delta = rss - base
    return [
      r.row.label,
      runsCell(r),
      int(med(r, (x) => x.wallMs)),
      mb(rss),
      mb(med(r, (x) => x.heapUsedBytes)),
      i === 0 ? "—" : `${delta >= 0 ? "+" : ""}${mb(delta)}`,
      i === 0 ? "baseline" : i === 1 ? "reported" : "≤ +20 MB",
      i === rows.length - 1 ? mark(delta <= 20 * 1024 * 1024) : ""
    ]
  })
  return [
    `## 3. Memory — streaming ${int(small)}, ${int(middle)} and ${
      int(large)
    } rooms (UndiciHttpClient, adaptive limiter)`,
    "",
    table(["run", "runs", "wall ms", "peak RSS MB", "heap after GC MB", "Δ peak RSS MB", "target", ""], body),
    "",
    `Medians of ${plan.memoryRuns} alternating runs. ` +
    "Each count is listed from the same account by `Stream.take`, so only the number of rooms differs; " +
    "\"heap after GC\" is what is still reachable at the end (clients run with `--expose-gc`). " +
    "What would make the peak grow with the count is whatever survives young collections: V8 grows its young " +
    "generation (up to two 16 MB semi-spaces) as bytes survive, and promotes what survives twice. Until " +
    "b71ae90, each page's `Effect.async` canceler held its undici exchange, and with it the response body, " +
    "past the page (a finished canceler survives young collections until the next full one): the peak " +
    "rose by 35 MB between these rows. See it per scavenge with `node --trace-gc-nvp` (`new_space_survived`)."
  ].join("\n")
}

const size = async (): Promise<string> => {
  log("\n# 4. Bundle size")
  const results: ReadonlyArray<SizeResult> = await measureSizes(distDir, join(tmpDir, "size"))
  const ours = results.find((r) => r.kind === "ours" && !r.modulePaths)
  const kb = (bytes: number) => `${fixed(bytes / 1024, 1)} KB`
  const body = results.map((r) => {
    // A missed target is marked, as in the other sections; `pnpm test:size` is what fails on it.
    const target = targetOf(r, results)
    return [
      r.modulePaths ? `${r.label}, \`effect\` imported by module path` : r.label,
      int(r.minifiedBytes),
      int(r.gzippedBytes),
      ours === undefined ? "—" : times(r.gzippedBytes / ours.gzippedBytes),
      target === undefined ? "—" : `≤ ${int(target.limit)} (plain Effect + ${kb(overPlainEffectTarget)})`,
      target === undefined ? "" : mark(target.pass)
    ]
  })
  for (const r of results) {
    log(
      `  ${r.label}${r.modulePaths ? " (module paths)" : ""}: ${int(r.minifiedBytes)} B minified, ` +
        `${int(r.gzippedBytes)} B gzipped; largest: ${
          r.packages.slice(0, 4).map(([p, b]) => `${p} ${int(b)}`).join(", ")
        }`
    )
  }
  return [
    "## 4. Bundle size — a \"list every room\" program",
    "",
    table(["program", "minified bytes", "gzipped bytes", "gzipped × ours (fetch)", "target (gzipped bytes)", ""], body),
    "",
    `esbuild \`${
      JSON.stringify(settings).replace(/"(\w+)":/g, "$1: ").replace(/,/g, ", ")
    }\`, gzip level 9 (node:zlib); ` +
    "the programs are `bench/src/size/*.ts`. The plain-Effect program does the job by hand: `Config`, a SigV4 " +
    "signature with `node:crypto`, `HttpClient.retryTransient` with jittered backoff, a `Schema` decode and " +
    "`Stream.paginateChunkEffect`; ours adds the endpoint rules, shared config files, credential refresh, clock-skew " +
    "correction, `Retry-After`, the adaptive rate limiter and retry budget, typed errors and metrics. Every program's " +
    "own code imports `{ Effect, Stream, … } from \"effect\"`, as Effect's documentation writes it; the rows " +
    "\"imported by module path\" bundle the same programs with those imports rewritten to `effect/Effect`… at " +
    "bundle time, where esbuild keeps only what is used of each module (from the index it keeps every member of a " +
    "namespace the program touches). `pnpm test:size` fails when a target is missed."
  ].join("\n")
}

// --- main ----------------------------------------------------------------------------------

const commit = (): string => {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd: benchDir,
      stdio: ["ignore", "pipe", "ignore"]
    })
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], {
      cwd: benchDir,
      stdio: ["ignore", "pipe", "ignore"]
    })
    return head.toString().trim() + (dirty.toString().trim() === "" ? "" : " (with uncommitted changes)")
  } catch {
    return "unknown"
  }
}

const machine = (): string => {
  const cpus = os.cpus()
  return [
    `- machine: ${cpus[0]?.model ?? "unknown CPU"}, ${cpus.length} cores, ${
      fixed(os.totalmem() / 1024 ** 3, 1)
    } GB RAM, ` +
    `${os.platform()} ${os.release()}`,
    `- commit ${commit()}; node ${process.version}; load average at start ${
      os.loadavg().map((x) => x.toFixed(2)).join(" / ")
    }`,
    `- date: ${new Date().toISOString()}`,
    `- mode: ${
      quick ? "`pnpm bench --quick` (reduced sizes: not comparable with the full run)" : "`pnpm bench` (full)"
    }`
  ].join("\n")
}

const started = performance.now()
const header = machine()
log(header)
const parts: Array<string> = []
const timed = async (name: string, f: () => Promise<string>) => {
  if (!sections.has(name)) return
  const t0 = performance.now()
  try {
    parts.push(await f())
  } catch (e) {
    problems.push(`${name}: ${e instanceof Error ? e.message : String(e)}`)
    parts.push(`## ${name}\n\nnot measured: ${e instanceof Error ? e.message : String(e)}`)
  }
  log(`  (${name}: ${fixed((performance.now() - t0) / 1000, 1)} s)`)
}
await timed("throughput", throughput)
await timed("throttling", throttling)
await timed("concurrent", concurrent)
await timed("workers", () =>
  workersSection({
    workers: 4,
    pagesPerWorker: plan.workersPages,
    runs: plan.workersRuns,
    pageSize: PAGE_SIZE,
    rate: RATE,
    burst: BURST,
    log,
    problem: (text) => problems.push(text)
  }))
await timed("export", () =>
  exportSection({
    sizes: plan.exportSizes,
    runs: plan.exportRuns,
    pageSize: PAGE_SIZE,
    log,
    problem: (text) => problems.push(text)
  }))
await timed("memory", memory)
await timed("size", size)

const notes = [
  "## Notes",
  "",
  "- Each client is its own Node process (`bench/dist/clients/*.js`) and reports one JSON line: rooms, pages, " +
  "wall and CPU time of the listing (module loading excluded, client construction included), peak RSS " +
  "(`process.resourceUsage().maxRSS`), requests and 429s where it can see them.",
  "- The emulator (`@chime-rooms/testing`) runs in a separate process on 127.0.0.1, one instance per section, " +
  "shared by every row of the section (the throttling section's Retry-After row has its own). It runs with signature verification off so that the floor can call it " +
  "unsigned; our library and the SDK still sign every request, which is the client cost being measured.",
  `- Total time: ${fixed((performance.now() - started) / 1000, 0)} s.`,
  ...(problems.length === 0 ? [] : ["", "**Problems:**", ...problems.map((p) => `- ${p}`)])
].join("\n")

const document = [`# chime-rooms benchmarks`, "", header, "", ...parts.flatMap((p) => [p, ""]), notes, ""].join("\n")
process.stdout.write("\n" + document)
if (!cli["no-write"]) {
  const file = join(benchDir, quick ? "results.quick.md" : "results.md")
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, document)
  log(`written to ${file}`)
}
if (problems.length > 0) {
  log(`\n${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join("\n")}`)
  process.exitCode = 1
}
