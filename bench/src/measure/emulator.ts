/**
 * Measures how many `ListRooms` pages per second the emulator serves: it starts `chime-rooms
 * emulator` (the CLI's bin) in a child process, one account of `--rooms` rooms, then lists that
 * account over and over from this process with `--connections` keep-alive connections (undici),
 * 99 rooms a page, every request signed. The server's CPU time is read from its own process.
 *
 * `pnpm measure:emulator [--seconds 10] [--connections 8] [--rooms 100000]`
 * (`MEASURE_EMULATOR_NODE_ARGS="--cpu-prof"` passes node flags to the emulator's process).
 */
import { SigV4 } from "@chime-rooms/http"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Effect, Redacted } from "effect"
import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { Pool } from "undici"

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  const value = i === -1 ? undefined : Number(process.argv[i + 1])
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback
}

const seconds = arg("seconds", 10)
const connections = arg("connections", 8)
const rooms = arg("rooms", 100_000)
const PAGE = 99

interface Announcement {
  readonly endpoint: string
  readonly region: string
  readonly accounts: ReadonlyArray<string>
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string }
}

// Built by `pnpm build` (bench/tsconfig.json references packages/cli for it).
const cliPath = fileURLToPath(new URL("../../../packages/cli/dist/bin/chime-rooms.js", import.meta.url))
const nodeArgs = (process.env.MEASURE_EMULATOR_NODE_ARGS ?? "").split(" ").filter((a) => a !== "")
const child = spawn(
  process.execPath,
  [...nodeArgs, cliPath, "emulator", "--rooms", String(rooms), "--record", "0"],
  { stdio: ["ignore", "pipe", "inherit"] }
)

const info = await new Promise<Announcement>((resolve, reject) => {
  let out = ""
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString()
    const nl = out.indexOf("\n")
    if (nl !== -1) resolve(JSON.parse(out.slice(0, nl)) as Announcement)
  })
  child.on("exit", (code) => reject(new Error(`emulator exited with ${code}`)))
})

const url = new URL(info.endpoint)
const accountId = info.accounts[0]!
const path = `/accounts/${encodeURIComponent(accountId)}/rooms`

// The library's signer, as a client signs: it derives the signing key once a day.
const signer = Effect.runSync(SigV4.makeSigner({
  credentials: Effect.succeed({
    accessKeyId: info.credentials.accessKeyId,
    secretAccessKey: Redacted.make(info.credentials.secretAccessKey)
  }),
  region: info.region,
  service: "chime"
}))

/** The headers of a signed bodiless GET of `path?query`: host, x-amz-date and authorization. */
const sign = (query: string): Record<string, string> => ({
  host: url.host,
  ...Effect.runSync(signer.sign(HttpClientRequest.get(`${info.endpoint}${path}?${query}`))).headers
})

const pool = new Pool(info.endpoint, { connections, pipelining: 1 })
let measuring = false
let stop = false
let pages = 0
let roomsSeen = 0
let bytes = 0
const latencies: Array<number> = []

const worker = async (offset: number) => {
  let token: string | undefined
  // Stagger the workers over the listing so they do not all serve the same pages.
  let skip = offset
  while (!stop) {
    const query = `max-results=${PAGE}${token === undefined ? "" : `&next-token=${encodeURIComponent(token)}`}`
    const started = performance.now()
    const response = await pool.request({ method: "GET", path: `${path}?${query}`, headers: sign(query) })
    const body = await response.body.text()
    if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}: ${body.slice(0, 200)}`)
    const elapsed = performance.now() - started
    // The token sits at the start of the body; a full parse now and then checks the pages.
    const next = body.startsWith("{\"NextToken\":\"") ? body.slice(14, body.indexOf("\"", 14)) : undefined
    if (measuring) {
      pages++
      bytes += body.length
      latencies.push(elapsed)
      if (pages % 50 === 0) {
        const parsed = JSON.parse(body) as { NextToken: string | null; Rooms: ReadonlyArray<unknown> }
        if ((parsed.NextToken ?? undefined) !== next) throw new Error("NextToken mismatch")
        if (next !== undefined && parsed.Rooms.length !== PAGE) throw new Error(`page of ${parsed.Rooms.length} rooms`)
        roomsSeen += parsed.Rooms.length * 50
      }
    }
    token = next
    if (skip > 0 && token !== undefined) skip--
  }
}

/**
 * The emulator's CPU time (user + system) in seconds, from /proc (Linux): pages per CPU-second
 * says what the server costs whatever else the machine is running.
 */
const cpuSeconds = (): number | undefined => {
  try {
    const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]!.split(" ")
    // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return undefined
  }
}

const workers = Array.from({ length: connections }, (_, i) => worker(i * 50))
await new Promise((r) => setTimeout(r, 1000))
measuring = true
const cpuBefore = cpuSeconds()
const started = performance.now()
await new Promise((r) => setTimeout(r, seconds * 1000))
measuring = false
const elapsed = (performance.now() - started) / 1000
const cpuAfter = cpuSeconds()
const serverCpu = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore
stop = true
await Promise.all(workers)
await pool.close()
child.kill("SIGTERM")

latencies.sort((a, b) => a - b)
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0
const result = {
  pagesPerSecond: Math.round(pages / elapsed),
  roomsPerSecondApprox: Math.round((pages * PAGE) / elapsed),
  megabytesPerSecond: Math.round((bytes / elapsed / 1e6) * 10) / 10,
  latencyMillis: { p50: Math.round(pct(0.5) * 100) / 100, p99: Math.round(pct(0.99) * 100) / 100 },
  serverCpuSeconds: serverCpu === undefined ? null : Math.round(serverCpu * 100) / 100,
  pagesPerServerCpuSecond: serverCpu === undefined || serverCpu === 0 ? null : Math.round(pages / serverCpu),
  pages,
  checkedRooms: roomsSeen,
  seconds: Math.round(elapsed * 10) / 10,
  connections,
  roomsInAccount: rooms,
  pageSize: PAGE
}
process.stdout.write(JSON.stringify(result) + "\n")
