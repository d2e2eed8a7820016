/**
 * `node bench/dist/decompose.js [--rooms N] [--rounds R] [--only a,b]`: where the CPU of one
 * listing goes, one layer at a time, in one warm process against an emulator child. Each step adds
 * one piece of our stack to the one before, so the difference between two lines is that piece's
 * cost (the `effect` and `makeWith` lines are references for the transport). `--only timeout` adds
 * `Effect.timeoutFail` per request to the decode step, to price that combinator. Prints CPU per listing (median of the rounds after a warm-up) relative to the floor.
 *
 * With `--memory STEP` it instead runs that one step once and prints the process's peak heap, RSS
 * and ArrayBuffers (sampled every 100 ms), to see which layer makes the heap grow with the count.
 *
 * @since 0.1.0
 */
import { ChimeRooms } from "@chime-rooms/core"
import { Credentials, HttpChimeRooms, RestJson1, SigV4, UndiciHttpClient } from "@chime-rooms/http"
import { ChimeRoomsStream, Resilience } from "@chime-rooms/stream"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Effect, Layer, Redacted, Stream } from "effect"
import { parseArgs } from "node:util"
import { Agent, Client } from "undici"
import { pagePaths, type RawPage } from "./clients/common.js"
import { startServer } from "./emulatorChild.js"
import { fixed, median } from "./stats.js"

const { values } = parseArgs({
  options: {
    rooms: { type: "string", default: "100000" },
    rounds: { type: "string", default: "5" },
    only: { type: "string" },
    memory: { type: "string" }
  },
  strict: true
})

const server = await startServer(["--rooms", values.rooms])
const { endpoint, account } = server
const origin = new URL(endpoint).origin
const pathFor = pagePaths(endpoint, account, 99)
const secret = { accessKeyId: "AKIDBENCH", secretAccessKey: Redacted.make("bench-secret") }

/** Pages through `get` and counts rooms. */
const pagesOf = <E>(get: (token: string | undefined) => Effect.Effect<RawPage, E>): Effect.Effect<number, E> =>
  Effect.gen(function*() {
    let token: string | undefined
    let rooms = 0
    do {
      const page = yield* get(token)
      rooms += page.Rooms?.length ?? 0
      token = page.NextToken ?? undefined
    } while (token !== undefined && token !== "")
    return rooms
  })

/** An `HttpClient` on `HttpClient.makeWith` that reads the (small) body inside the dispatch promise. */
const eagerClient = (agent: Agent): HttpClient.HttpClient.With<never> =>
  HttpClient.makeWith<never, never, never, never>(
    (effect) =>
      Effect.flatMap(effect, (request) =>
        Effect.async<HttpClientResponse.HttpClientResponse>((resume) => {
          const url = new URL(request.url)
          agent.request({
            origin: url.origin,
            path: url.pathname + url.search,
            method: "GET",
            headers: request.headers
          })
            .then(async (data) => ({ status: data.statusCode, text: await data.body.text() }))
            .then(
              // Only `status` and `text` are read by this experiment.
              (data) =>
                resume(
                  Effect.succeed(
                    {
                      status: data.status,
                      headers: {},
                      text: Effect.succeed(data.text)
                    } as unknown as HttpClientResponse.HttpClientResponse
                  )
                ),
              (cause: unknown) => resume(Effect.die(cause))
            )
        })),
    Effect.succeed
  )

const viaClient = <E>(client: HttpClient.HttpClient.With<E>, decode: boolean, timeout: boolean) =>
  pagesOf((token) => {
    const page = Effect.flatMap(client.execute(HttpClientRequest.get(endpoint + pathFor(token))), (r) =>
      Effect.map(r.text, (text): RawPage => {
        if (!decode) {
          return JSON.parse(text) as RawPage
        }
        const out = RestJson1.decodeSuccess(200, undefined, text)
        if (!("$metadata" in out)) {
          throw new Error("decode failed")
        }
        return { Rooms: out.Rooms, ...(out.NextToken === undefined ? {} : { NextToken: out.NextToken }) }
      }))
    return timeout
      ? Effect.timeoutFail(page, {
        duration: "10 seconds",
        onTimeout: () =>
          new Error("timeout")
      })
      : page
  })

const undiciStep = (signed: boolean, decode: boolean, timeout: boolean) =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const agent = yield* UndiciHttpClient.makeAgent()
    const plain = UndiciHttpClient.make(agent)
    return yield* signed
      ? viaClient(
        SigV4.withSigV4(plain, { credentials: Effect.succeed(secret), region: "us-east-1", service: "chime" }),
        decode,
        timeout
      )
      : viaClient(plain, decode, timeout)
  })))

const live = HttpChimeRooms.layer({ endpoint }).pipe(
  Layer.provide(UndiciHttpClient.layer),
  Layer.provide(Credentials.layerStatic(secret))
)

const steps: ReadonlyArray<readonly [string, () => Promise<number>]> = [
  ["floor: undici Client + JSON.parse", async () => {
    const client = new Client(origin, { pipelining: 1 })
    let token: string | undefined
    let rooms = 0
    do {
      const { body } = await client.request({ method: "GET", path: pathFor(token) })
      const page = JSON.parse(await body.text()) as RawPage
      rooms += page.Rooms?.length ?? 0
      token = page.NextToken ?? undefined
    } while (token !== undefined && token !== "")
    await client.close()
    return rooms
  }],
  ["effect: Effect.promise(undici Agent request + body)", () => {
    const agent = new Agent({ keepAliveTimeout: 10_000 })
    return Effect.runPromise(pagesOf((token) =>
      Effect.promise(async () => {
        const { body } = await agent.request({ origin, method: "GET", path: pathFor(token) })
        return JSON.parse(await body.text()) as RawPage
      })
    )).finally(() => agent.close())
  }],
  ["makeWith: an HttpClient on HttpClient.makeWith, body read in the dispatch promise", () => {
    const agent = new Agent({ keepAliveTimeout: 10_000 })
    return Effect.runPromise(viaClient(eagerClient(agent), false, false)).finally(() => agent.close())
  }],
  ["transport: our UndiciHttpClient + JSON.parse", () => undiciStep(false, false, false)],
  ["sign: + SigV4.withSigV4", () => undiciStep(true, false, false)],
  ["decode: + RestJson1.decodeSuccess", () => undiciStep(true, true, false)],
  ["timeout: (aside) decode step + Effect.timeoutFail per request", () => undiciStep(true, true, true)],
  ["service: HttpChimeRooms.listRooms loop", () =>
    Effect.runPromise(Effect.provide(
      Effect.flatMap(ChimeRooms.ChimeRooms, (service) =>
        pagesOf((token) =>
          service.listRooms(
            token === undefined
              ? { AccountId: account, MaxResults: 99 }
              : { AccountId: account, MaxResults: 99, NextToken: token }
          )
        )),
      live
    ))],
  [
    "stream: ChimeRoomsStream.rooms (Resilience.layer)",
    () =>
      Effect.runPromise(
        Stream.runCount(ChimeRoomsStream.rooms({ AccountId: account, MaxResults: 99 })).pipe(
          Effect.provide(Layer.merge(live, Resilience.layer()))
        )
      )
  ]
]

const expected = Number(values.rooms)
const chosen = values.only === undefined
  ? steps.filter(([name]) => !name.startsWith("timeout"))
  : steps.filter(([name]) => values.only!.split(",").some((o) => name.startsWith(o)))

if (values.memory !== undefined) {
  const step = steps.find(([name]) => name.startsWith(values.memory!))
  if (step === undefined) throw new Error(`no step named ${values.memory}`)
  const peak = { heapUsed: 0, rss: 0, arrayBuffers: 0 }
  const sample = () => {
    const m = process.memoryUsage()
    peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed)
    peak.rss = Math.max(peak.rss, m.rss)
    peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers)
  }
  const timer = setInterval(sample, 100)
  const rooms = await step[1]()
  sample()
  clearInterval(timer)
  const MB = 1024 * 1024
  process.stdout.write(
    `${step[0]}: ${rooms} rooms; peak heap ${fixed(peak.heapUsed / MB, 1)} MB, ` +
      `RSS ${fixed(peak.rss / MB, 1)} MB, ArrayBuffers ${fixed(peak.arrayBuffers / MB, 1)} MB\n`
  )
} else {
  const cpu = new Map<string, Array<number>>()
  const rounds = Number(values.rounds)
  for (let round = 0; round <= rounds; round++) {
    for (const [name, run] of chosen) {
      const c0 = process.cpuUsage()
      const rooms = await run()
      const c = process.cpuUsage(c0)
      if (rooms !== expected) throw new Error(`${name}: ${rooms} rooms, expected ${expected}`)
      // Round 0 warms the JIT up.
      if (round > 0) cpu.set(name, [...(cpu.get(name) ?? []), (c.user + c.system) / 1000])
    }
  }
  const floor = median(cpu.get(steps[0]![0]) ?? [])
  for (const [name] of chosen) {
    const ms = median(cpu.get(name) ?? [])
    process.stdout.write(`${name.padEnd(66)} ${fixed(ms, 0).padStart(6)} ms CPU  ${fixed(ms / floor, 2)}× floor\n`)
  }
}
server.stop()
process.exit(0)
