/**
 * Measures listing 100,000 rooms (1,011 pages of 99) from a loopback server in a child process:
 * the floor (bare undici `request` + `JSON.parse`) against `HttpChimeRooms` with signing and full
 * decoding over the lean `UndiciHttpClient`, the platform's `NodeHttpClient.layerUndici` and
 * `FetchHttpClient`. Runs are interleaved round-robin; the table shows medians of wall time and of
 * the client process's CPU time (the server runs in its own process; on a busy machine CPU time
 * is the steadier measure of what the client itself costs).
 *
 * Usage: `pnpm measure:http [runs] [rooms]`; `ONLY=0,2` keeps those rows.
 * It uses the packages' public API only.
 */
import { ChimeRooms } from "@chime-rooms/core"
import { Credentials, HttpChimeRooms, UndiciHttpClient } from "@chime-rooms/http"
import { NodeHttpClient } from "@effect/platform-node"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import { Duration, Effect, Layer, ManagedRuntime } from "effect"
import { fork } from "node:child_process"
import { createServer } from "node:http"
import { fileURLToPath } from "node:url"
import { Agent, request } from "undici"

const PAGE = 99

const serve = (): void => {
  const rooms: Array<string> = []
  for (let i = 0; i < PAGE; i++) {
    rooms.push(JSON.stringify({
      AccountId: "12a3456b-7c89-012d-3456-78901e23fg45",
      CreatedBy: `arn:aws:iam::111122223333:user/user-${i}`,
      CreatedTimestamp: "2019-12-02T22:29:31.549Z",
      Name: `room-${i}`,
      RoomId: `abcd1e2d-3e45-6789-01f2-${String(i).padStart(12, "0")}`,
      UpdatedTimestamp: "2019-12-02T22:33:19.310Z"
    }))
  }
  const roomsJson = `[${rooms.join(",")}]`
  const server = createServer((req, res) => {
    const url = req.url ?? "/"
    const match = /[?&]next-token=(\d+)/.exec(url)
    const page = match === null ? 0 : Number(match[1])
    const pages = Number(process.env.PAGES)
    const next = page + 1 < pages ? `"${page + 1}"` : "null"
    const body = `{"NextToken":${next},"Rooms":${roomsJson}}`
    res.writeHead(200, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      "x-amzn-requestid": `req-${page}`
    })
    res.end(body)
  })
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    process.send?.({ port: typeof address === "object" && address !== null ? address.port : 0 })
  })
}

type Runner = () => Promise<number>

const floor = (endpoint: string): Runner => {
  const agent = new Agent({ keepAliveTimeout: 10_000 })
  return async () => {
    let rooms = 0
    let token: string | null = null
    do {
      const path: string = `${endpoint}/accounts/acc/rooms?max-results=99${
        token === null ? "" : `&next-token=${token}`
      }`
      const res = await request(path, { dispatcher: agent })
      const page = JSON.parse(await res.body.text()) as { NextToken: string | null; Rooms: Array<unknown> }
      rooms += page.Rooms.length
      token = page.NextToken
    } while (token !== null)
    return rooms
  }
}

const floorInEffect = (endpoint: string): Runner => {
  const agent = new Agent({ keepAliveTimeout: 10_000 })
  const page = (token: string | null) =>
    Effect.promise(async () => {
      const res = await request(
        `${endpoint}/accounts/acc/rooms?max-results=99${token === null ? "" : `&next-token=${token}`}`,
        {
          dispatcher: agent
        }
      )
      return JSON.parse(await res.body.text()) as { NextToken: string | null; Rooms: Array<unknown> }
    })
  const program = Effect.gen(function*() {
    let rooms = 0
    let token: string | null = null
    do {
      const p: { NextToken: string | null; Rooms: Array<unknown> } = yield* page(token)
      rooms += p.Rooms.length
      token = p.NextToken
    } while (token !== null)
    return rooms
  })
  return () => Effect.runPromise(program)
}

const credentials = Credentials.layerStatic({ accessKeyId: "AKIDMEASURE", secretAccessKey: "measure-secret" })

const ours = (
  endpoint: string,
  client: Layer.Layer<HttpClient.HttpClient>,
  tracing: boolean,
  timeout: Duration.DurationInput = HttpChimeRooms.defaultTimeout
): Runner => {
  const runtime = ManagedRuntime.make(
    HttpChimeRooms.layer({ endpoint, timeout }).pipe(Layer.provide(client), Layer.provide(credentials))
  )
  const list = Effect.gen(function*() {
    const service = yield* ChimeRooms.ChimeRooms
    let rooms = 0
    let token: string | undefined
    do {
      const page = yield* service.listRooms({
        AccountId: "acc",
        MaxResults: 99,
        ...(token !== undefined ? { NextToken: token } : {})
      })
      rooms += page.Rooms.length
      token = page.NextToken
    } while (token !== undefined)
    return rooms
  })
  const program = tracing ? list : Effect.withTracerEnabled(list, false)
  return () => runtime.runPromise(program)
}

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

const main = async (): Promise<void> => {
  const runs = Number(process.argv[2] ?? 7)
  const roomsWanted = Number(process.argv[3] ?? 100_000)
  const pages = Math.ceil(roomsWanted / PAGE)
  const child = fork(fileURLToPath(import.meta.url), ["--serve"], { env: { ...process.env, PAGES: String(pages) } })
  const port = await new Promise<number>((resolve) => child.once("message", (m: { port: number }) => resolve(m.port)))
  const endpoint = `http://127.0.0.1:${port}`
  const only = process.env.ONLY?.split(",")
  const all: Array<readonly [string, Runner]> = [
    ["floor: undici request + JSON.parse", floor(endpoint)],
    ["floor inside Effect (Effect.promise per page)", floorInEffect(endpoint)],
    ["HttpChimeRooms + UndiciHttpClient", ours(endpoint, UndiciHttpClient.layer, true)],
    [
      "HttpChimeRooms + UndiciHttpClient, no per-attempt timeout",
      ours(endpoint, UndiciHttpClient.layer, true, Duration.infinity)
    ],
    ["HttpChimeRooms + NodeHttpClient.layerUndici", ours(endpoint, NodeHttpClient.layerUndici, true)],
    ["HttpChimeRooms + NodeHttpClient.layerUndici (tracing off)", ours(endpoint, NodeHttpClient.layerUndici, false)],
    ["HttpChimeRooms + FetchHttpClient", ours(endpoint, FetchHttpClient.layer, true)]
  ]
  const runners = only === undefined ? all : all.filter((_, i) => only.includes(String(i)))
  const times = runners.map(() => [] as Array<number>)
  const cpu = runners.map(() => [] as Array<number>)
  for (const [, run] of runners) await run() // warm up
  for (let r = 0; r < runs; r++) {
    for (let i = 0; i < runners.length; i++) {
      const start = performance.now()
      const startCpu = process.cpuUsage()
      const rooms = await runners[i]![1]()
      times[i]!.push(performance.now() - start)
      const used = process.cpuUsage(startCpu)
      cpu[i]!.push((used.user + used.system) / 1000)
      if (rooms !== pages * PAGE) throw new Error(`listed ${rooms} rooms, expected ${pages * PAGE}`)
    }
  }
  const base = median(times[0]!)
  const baseCpu = median(cpu[0]!)
  process.stdout.write(`${pages} pages, ${pages * PAGE} rooms, ${runs} runs each, median\n\n`)
  process.stdout.write("| client | wall ms | × floor | client CPU ms | × floor |\n|---|---:|---:|---:|---:|\n")
  runners.forEach(([name], i) => {
    const m = median(times[i]!)
    const c = median(cpu[i]!)
    process.stdout.write(
      `| ${name} | ${m.toFixed(0)} | ${(m / base).toFixed(2)}× | ${c.toFixed(0)} | ${(c / baseCpu).toFixed(2)}× |\n`
    )
  })
  child.kill()
  process.exit(0)
}

if (process.argv.includes("--serve")) serve()
else void main()
