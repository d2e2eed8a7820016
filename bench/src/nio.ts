/**
 * `node bench/dist/nio.js [--rooms N] [--rounds R]`: the client's own cost per page with no I/O.
 * Pages are captured once from an emulator child, then replayed by a fake undici dispatcher (the
 * answer comes on `setImmediate`), so the socket, the kernel and the server drop out. For the
 * floor's loop, `HttpChimeRooms.listRooms` in a loop and `ChimeRoomsStream.rooms` with the default
 * resilience it prints the effects run per page (counted by an op-supervising `Supervisor`) and
 * the CPU per page: the first listing (a cold process) and the median of the rest (warm).
 *
 * @since 0.1.0
 */
import { ChimeRooms } from "@chime-rooms/core"
import { Credentials, HttpChimeRooms, UndiciHttpClient } from "@chime-rooms/http"
import { ChimeRoomsStream, Resilience } from "@chime-rooms/stream"
import * as HttpClient from "@effect/platform/HttpClient"
import { Effect, Layer, Redacted, RuntimeFlags, RuntimeFlagsPatch, Stream, Supervisor } from "effect"
import { parseArgs } from "node:util"
import { Client, Dispatcher } from "undici"
import { pagePaths, type RawPage } from "./clients/common.js"
import { startServer } from "./emulatorChild.js"
import { fixed, median } from "./stats.js"

const { values } = parseArgs({
  options: { rooms: { type: "string", default: "100000" }, rounds: { type: "string", default: "8" } },
  strict: true
})

const server = await startServer(["--rooms", values.rooms])
const { endpoint, account } = server
const origin = new URL(endpoint).origin
const pathFor = pagePaths(endpoint, account, 99)

// Capture every page once, keyed by the token that asks for it.
const pages = new Map<string, { readonly body: Buffer; readonly requestId: string }>()
{
  const client = new Client(origin)
  let token: string | undefined
  do {
    const { body, headers } = await client.request({ method: "GET", path: pathFor(token) })
    const bytes = Buffer.from(await body.arrayBuffer())
    pages.set(token ?? "", { body: bytes, requestId: String(headers["x-amzn-requestid"]) })
    token = (JSON.parse(bytes.toString("utf8")) as RawPage).NextToken ?? undefined
  } while (token !== undefined && token !== "")
  await client.close()
}
server.stop()

/** Answers each request with its captured page on the next turn of the event loop. */
class Replay extends Dispatcher {
  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const path = options.path
    const at = path.indexOf("next-token=")
    const page = pages.get(at === -1 ? "" : decodeURIComponent(path.slice(at + 11)))!
    handler.onConnect?.(() => {})
    setImmediate(() => {
      handler.onHeaders?.(200, [Buffer.from("x-amzn-RequestId"), Buffer.from(page.requestId)], () => {}, "OK")
      handler.onData?.(page.body)
      handler.onComplete?.([])
    })
    return true
  }
}
const replay = new Replay()

const secret = { accessKeyId: "AKIDBENCH", secretAccessKey: Redacted.make("bench-secret") }
const live = HttpChimeRooms.layer({ endpoint }).pipe(
  Layer.provide(Layer.succeed(HttpClient.HttpClient, UndiciHttpClient.make(replay))),
  Layer.provide(Credentials.layerStatic(secret))
)
const request = { AccountId: account, MaxResults: 99 }

const steps: ReadonlyArray<readonly [string, () => Effect.Effect<number, unknown>]> = [
  ["floor: request + JSON.parse (inside Effect.promise)", () =>
    Effect.promise(async () => {
      let token: string | undefined
      let rooms = 0
      do {
        const { body } = await replay.request({ origin, method: "GET", path: pathFor(token) })
        const page = JSON.parse(await body.text()) as RawPage
        rooms += page.Rooms?.length ?? 0
        token = page.NextToken ?? undefined
      } while (token !== undefined && token !== "")
      return rooms
    })],
  ["service: HttpChimeRooms.listRooms loop", () =>
    Effect.provide(
      Effect.flatMap(ChimeRooms.ChimeRooms, (service) =>
        Effect.gen(function*() {
          let token: string | undefined
          let rooms = 0
          do {
            const page = yield* service.listRooms(token === undefined ? request : { ...request, NextToken: token })
            rooms += page.Rooms.length
            token = page.NextToken
          } while (token !== undefined)
          return rooms
        })),
      live
    )],
  ["stream: ChimeRoomsStream.rooms + Resilience.layer()", () => {
    let rooms = 0
    return Stream.runForEachChunk(ChimeRoomsStream.rooms(request), (chunk) => {
      rooms += chunk.length
      return Effect.void
    }).pipe(Effect.map(() => rooms), Effect.provide(Layer.merge(live, Resilience.layer())))
  }]
]

/** Counts every effect the runtime evaluates. */
class Counter extends Supervisor.AbstractSupervisor<void> {
  count = 0
  get value(): Effect.Effect<void> {
    return Effect.void
  }
  override onEffect(): void {
    this.count++
  }
}

const expected = Number(values.rooms)
const rounds = Number(values.rounds)
const pageCount = pages.size
for (const [name, make] of steps) {
  const cpu: Array<number> = []
  for (let round = 0; round <= rounds; round++) {
    const c0 = process.cpuUsage()
    const rooms = await Effect.runPromise(make())
    const c = process.cpuUsage(c0)
    if (rooms !== expected) throw new Error(`${name}: ${rooms} rooms, expected ${expected}`)
    cpu.push((c.user + c.system) / pageCount)
  }
  const counter = new Counter()
  await Effect.runPromise(
    Effect.supervised(
      Effect.withRuntimeFlagsPatch(make(), RuntimeFlagsPatch.enable(RuntimeFlags.OpSupervision)),
      counter
    )
  )
  process.stdout.write(
    `${name.padEnd(54)} ${fixed(counter.count / pageCount, 1).padStart(5)} effects/page  ` +
      `cold ${fixed(cpu[0]!, 0).padStart(4)} µs/page  warm ${fixed(median(cpu.slice(1)), 0).padStart(4)} µs/page\n`
  )
}
process.exit(0)
