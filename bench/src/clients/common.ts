/**
 * What every benchmark client shares: its command line and the one JSON line it reports.
 *
 * A client is a child process that lists every room of one account and prints a {@link Report}
 * on stdout. The timed window starts just before the client (or layer) is built and ends after the
 * last page, so module loading is left out (bundle size is measured on its own) while building a
 * client is not.
 *
 * @since 0.1.0
 */
import { parseArgs } from "node:util"

/** The command line every client accepts; clients ignore options they have no use for. */
export interface ClientArgs {
  readonly endpoint: string
  readonly account: string
  readonly accessKey: string
  readonly secret: string
  /** `MaxResults` of every request. */
  readonly pageSize: number
  /** Stop after this many rooms (0 = list the whole account). */
  readonly limit: number
  /** Client-specific variant, e.g. `adaptive` or `fixed` for the rate limiter, `standard` for the SDK. */
  readonly mode: string
  /** Requests per second of a fixed limiter. */
  readonly rate: number
  /** Stop listing after this many milliseconds and report what was done (0 = no deadline). */
  readonly deadlineMs: number
  /**
   * List this many times in the one process and report the last listing (default 1: a fresh
   * process, JIT compilation included). 2 measures a warm process: the code paths are compiled.
   */
  readonly repeat: number
  /** Pages our stream requests ahead of the consumer (`prefetch`; other clients ignore it). */
  readonly prefetch: number
  /** Synchronous work, in milliseconds, the consumer does on each page (0 = none): see {@link work}. */
  readonly workMs: number
  /** Listings of the account run at once on one layer (ours only; default 1). Rooms and pages are summed. */
  readonly streams: number
}

/** Parses `process.argv` into {@link ClientArgs}. */
export const parseClientArgs = (): ClientArgs => {
  const { values } = parseArgs({
    options: {
      endpoint: { type: "string" },
      account: { type: "string" },
      "access-key": { type: "string", default: "AKIDBENCH" },
      secret: { type: "string", default: "bench-secret" },
      "page-size": { type: "string", default: "99" },
      limit: { type: "string", default: "0" },
      mode: { type: "string", default: "" },
      rate: { type: "string", default: "50" },
      "deadline-ms": { type: "string", default: "0" },
      repeat: { type: "string", default: "1" },
      prefetch: { type: "string", default: "0" },
      "work-ms": { type: "string", default: "0" },
      streams: { type: "string", default: "1" }
    },
    strict: true
  })
  if (values.endpoint === undefined || values.account === undefined) {
    throw new Error(
      "usage: <client> --endpoint URL --account ID [--access-key K --secret S --page-size N --limit N --mode M --rate R --deadline-ms N --repeat N --prefetch N --work-ms N --streams N]"
    )
  }
  return {
    endpoint: values.endpoint,
    account: values.account,
    accessKey: values["access-key"],
    secret: values.secret,
    pageSize: Number(values["page-size"]),
    limit: Number(values.limit),
    mode: values.mode,
    rate: Number(values.rate),
    deadlineMs: Number(values["deadline-ms"]),
    repeat: Math.max(1, Number(values.repeat)),
    prefetch: Number(values.prefetch),
    workMs: Number(values["work-ms"]),
    streams: Math.max(1, Number(values.streams))
  }
}

/**
 * Keeps the thread busy for `ms` milliseconds without yielding: a consumer whose work on each page
 * is CPU-bound, which only prefetch that really overlaps can hide.
 */
export const work = (ms: number): void => {
  if (ms <= 0) return
  const until = performance.now() + ms
  while (performance.now() < until) {
    // busy
  }
}

/** Counts a client keeps while it lists. */
export interface Counts {
  rooms: number
  pages: number
  /** HTTP requests sent (every attempt), when the client can see them. */
  requests: number | undefined
  /** Requests answered 429, when the client can see them. */
  throttled: number | undefined
  /** Milliseconds from the start of the timed window to the first page in hand. */
  firstPageMs: number | undefined
}

/** Marks the first page in hand (later calls do nothing). */
export const firstPage = (counts: Counts): void => {
  if (counts.firstPageMs === undefined) counts.firstPageMs = performance.now() - windowStart
}

let windowStart = 0

/** The JSON line a client prints. */
export interface Report extends Counts {
  readonly ok: boolean
  /** Set when the deadline stopped the listing: the counts are what was done by then. */
  readonly stopped?: boolean
  /** Why listing failed (no secrets or room names: a tag and a status at most). */
  readonly error?: string
  readonly wallMs: number
  /** User + system CPU of the timed window. */
  readonly cpuMs: number
  /** User + system CPU of the whole process, module loading included. */
  readonly processCpuMs: number
  /** Peak resident set size of the process, in bytes. */
  readonly maxRssBytes: number
  /** V8 heap in use at the end (after a full GC when run with `--expose-gc`), in bytes. */
  readonly heapUsedBytes: number
}

/**
 * Runs `list` inside the timed window and prints its report. Failures become `ok: false` with a
 * short reason rather than a crash, so the harness can show what a client did before it gave up.
 */
export const runClient = async (list: (args: ClientArgs, counts: Counts) => Promise<void>): Promise<void> => {
  const args = parseClientArgs()
  // Earlier listings of a `--repeat` run only warm the process up; a failure there is reported.
  for (let i = 1; i < args.repeat; i++) {
    try {
      await list(args, { rooms: 0, pages: 0, requests: undefined, throttled: undefined, firstPageMs: undefined })
    } catch (e) {
      process.stdout.write(JSON.stringify({ ok: false, error: `warm-up listing: ${describe(e)}` }) + "\n")
      process.exit(0)
    }
  }
  const counts: Counts = { rooms: 0, pages: 0, requests: undefined, throttled: undefined, firstPageMs: undefined }
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  windowStart = t0
  let error: string | undefined
  let stopped = false
  try {
    const listing = list(args, counts)
    if (args.deadlineMs > 0) {
      let timer: NodeJS.Timeout | undefined
      const deadline = new Promise<"stopped">((
        resolve
      ) => (timer = setTimeout(() => resolve("stopped"), args.deadlineMs)))
      stopped = (await Promise.race([listing, deadline])) === "stopped"
      clearTimeout(timer)
    } else {
      await listing
    }
  } catch (e) {
    error = describe(e)
  }
  const wallMs = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  const total = process.cpuUsage()
  // With --expose-gc (the memory table), what is still reachable rather than what awaits collection.
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc !== undefined) gc()
  const report: Report = {
    ok: error === undefined,
    ...(stopped ? { stopped } : {}),
    ...(error === undefined ? {} : { error }),
    ...counts,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    processCpuMs: (total.user + total.system) / 1000,
    // `maxRSS` is in kilobytes.
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    heapUsedBytes: process.memoryUsage().heapUsed
  }
  process.stdout.write(JSON.stringify(report) + "\n")
  // Open sockets or timers of a failed client must not keep the harness waiting.
  process.exit(0)
}

/** A one-line reason that never carries a message body (which might hold a room name). */
const describe = (e: unknown): string => {
  if (typeof e === "object" && e !== null) {
    const o = e as { _tag?: unknown; name?: unknown; status?: unknown; $metadata?: { httpStatusCode?: unknown } }
    const name = typeof o._tag === "string" ? o._tag : typeof o.name === "string" ? o.name : "Error"
    const status = typeof o.status === "number" ? o.status : o.$metadata?.httpStatusCode
    return status === undefined ? name : `${name} (${String(status)})`
  }
  return "Error"
}

/** A page as `JSON.parse` gives it, for the loops that validate nothing. */
export interface RawPage {
  readonly NextToken?: string | null
  readonly Rooms?: ReadonlyArray<unknown>
}

/** The `ListRooms` path (with query) of each page of `account` under `endpoint`, `pageSize` a page. */
export const pagePaths = (endpoint: string, account: string, pageSize: number) => {
  const base = `${new URL(endpoint).pathname.replace(/\/$/, "")}/accounts/${
    encodeURIComponent(account)
  }/rooms?max-results=${pageSize}`
  return (
    token: string | undefined
  ): string => (token === undefined ? base : `${base}&next-token=${encodeURIComponent(token)}`)
}
