#!/usr/bin/env node
/**
 * Measures how many `ListRooms` pages per second the emulator serves: it starts the CLI emulator
 * in a child process (one account of `--rooms` rooms), then lists that account over and over with
 * `--connections` keep-alive connections (undici), 99 rooms a page, every request signed.
 *
 * `node packages/testing/dist/bin/measure.js [--seconds 10] [--connections 8] [--rooms 100000]`
 *
 * A development tool: it needs the repository's dev-dependencies (undici).
 *
 * @since 0.1.0
 */
import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { Pool } from "undici"
import * as sigv4 from "../internal/sigv4.js"

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
  readonly accounts: ReadonlyArray<string>
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string }
}

const emulatorPath = fileURLToPath(new URL("./emulator.js", import.meta.url))
const child = spawn(process.execPath, [...(process.env.MEASURE_EMULATOR_NODE_ARGS ?? "").split(" ").filter((a) => a !== ""), emulatorPath, "--rooms", String(rooms), "--record", "0"], {
  stdio: ["ignore", "pipe", "inherit"]
})

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

// The signing key changes once a day: derive it once, as SDKs do.
let keyDate = ""
let signingKey: Buffer | undefined

/** A plain SigV4 signature over host and x-amz-date, the way an SDK signs a bodiless GET. */
const sign = (query: string): Record<string, string> => {
  const amzDate = sigv4.formatAmzDate(Date.now())
  const date = amzDate.slice(0, 8)
  const canonical = `GET\n${sigv4.canonicalUri(path)}\n${sigv4.canonicalQuery(query)}\n` +
    `host:${url.host}\nx-amz-date:${amzDate}\n\nhost;x-amz-date\n${sigv4.EMPTY_SHA256}`
  const scope = `${date}/us-east-1/chime/aws4_request`
  if (date !== keyDate) {
    keyDate = date
    signingKey = sigv4.deriveSigningKey(info.credentials.secretAccessKey, date, "us-east-1", "chime")
  }
  const key = signingKey!
  const signature = sigv4.hmacHex(key, sigv4.stringToSign(amzDate, scope, canonical))
  return {
    host: url.host,
    "x-amz-date": amzDate,
    authorization:
      `AWS4-HMAC-SHA256 Credential=${info.credentials.accessKeyId}/${scope}, SignedHeaders=host;x-amz-date, Signature=${signature}`
  }
}

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
    const next = body.startsWith('{"NextToken":"') ? body.slice(14, body.indexOf('"', 14)) : undefined
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
