/**
 * The deployment of the README, as local processes: one throttled emulator (50 req/s, burst 5, as
 * a Chime account's limit), one `redis-server`, and 4 `chime-rooms list --live --redis …` workers
 * (the built bin) listing the same account at once.
 *
 * What is asserted is behaviour, robust on a loaded 2-core machine: every worker exits 0 with every
 * room of the account; the workers' limiter state is one entry in Redis (keyed by the endpoint and
 * the access key id they all sign with); and the emulator's own count of 429s stays small. Told the
 * account-wide rate (`--rate 50`), the shared bucket paces all 4 workers together at the server's
 * rate, and each worker has one request in flight, so a 429 needs a grant delayed on its way past
 * the server's burst of 5: measured 0 of 100. The bound (a quarter of the requests) leaves room for
 * a slow machine and no more. No contrast is asserted: with 25 pages each (0.5 s at the limit),
 * workers that start a few hundred milliseconds apart hardly overlap, so 4 limiters of their own
 * got only 16 of 116 requests throttled; `pnpm bench --only workers` lists 4 × 250 pages and shows
 * both, with the wall time against the limit, which is a measurement and not asserted here.
 */
import { RedisRateLimiter } from "@chime-rooms/redis"
import * as RedisServer from "@chime-rooms/servers/Redis"
import { Dataset, Emulator } from "@chime-rooms/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as net from "node:net"
import { beforeAll } from "vitest"
import { buildBin, type Finished, startBin } from "./bin.js"

const WORKERS = 4
const PAGES = 25
const PAGE_SIZE = 20
const dataset = Dataset.generate({ seed: 19, accounts: 1, roomsPerAccount: PAGES * PAGE_SIZE })
const account = dataset.accounts[0]!
const expected = Dataset.allRooms(dataset, account).map((room) => room.RoomId!)

/** One worker: the built bin with `args`, AWS settings from `env` only (no shared config files). */
const worker = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  startBin(["list", ...args], {
    env: {
      PATH: process.env.PATH ?? "",
      AWS_CONFIG_FILE: "/nonexistent/config",
      AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials",
      ...env
    }
  }).pipe(Effect.orDie)

/** `EXISTS key` over RESP: whether the shared limiter's state is in Redis. */
const exists = (port: number, key: string) =>
  Effect.async<boolean, Error>((resume) => {
    const socket = net.connect({ host: "127.0.0.1", port })
    let reply = ""
    socket.once("error", (e) => resume(Effect.fail(e)))
    socket.once("connect", () => socket.write(`*2\r\n$6\r\nEXISTS\r\n$${key.length}\r\n${key}\r\n`))
    socket.on("data", (data) => {
      reply += data.toString("latin1")
      if (!reply.endsWith("\r\n")) return
      socket.destroy()
      resume(Effect.succeed(reply === ":1\r\n"))
    })
    return Effect.sync(() => socket.destroy())
  })

/** The emulator and Redis of one test, for its scope. */
const topology = Effect.gen(function*() {
  const redis = yield* Effect.acquireRelease(
    Effect.promise(() => RedisServer.start()),
    (server) => Effect.promise(() => server.close())
  )
  const emulator = yield* Emulator.make({
    dataset,
    pageSize: PAGE_SIZE,
    rateLimit: { rate: 50, burst: 5 },
    recordLimit: 100_000
  })
  const env = {
    AWS_ACCESS_KEY_ID: emulator.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: Redacted.value(emulator.credentials.secretAccessKey)
  }
  const args = ["--live", "--endpoint", emulator.endpoint, "--region", emulator.region, "--account", account, "--json"]
  /** Runs the workers at once; the emulator's count of what they sent and what it throttled. */
  const runWorkers = (extra: ReadonlyArray<string>, extraEnv: Record<string, string> = {}) =>
    Effect.gen(function*() {
      emulator.clearReceived()
      const finished = yield* Effect.all(
        Array.from({ length: WORKERS }, () => worker([...args, ...extra], { ...env, ...extraEnv })),
        { concurrency: "unbounded" }
      )
      const received = emulator.received()
      const throttled = received.filter((r) => r.outcome?.status === 429).length
      return { finished, requests: received.length, throttled, share: throttled / received.length }
    })
  return { redis, emulator, env, runWorkers }
})

/** Every worker ended 0 with every room of the account, in order, once. */
const expectEveryRoom = (finished: ReadonlyArray<Finished>, secret: string) => {
  for (const [i, result] of finished.entries()) {
    expect(result.code, `worker ${i + 1}: ${result.stderr}`).toBe(0)
    const ids = result.stdout.trim().split("\n").map((line) => JSON.parse(line).RoomId as string)
    expect(ids, `worker ${i + 1}`).toEqual(expected)
    expect(result.stderr).toMatch(new RegExp(`^${expected.length} rooms in ${PAGES} pages · \\d+ requests`))
    expect(result.stderr).not.toContain(secret)
  }
}

if (RedisServer.available) {
  describe("4 workers, one Redis, one throttled emulator (50 req/s, burst 5)", () => {
    beforeAll(buildBin, 120_000)

    it.scopedLive(
      "--redis with --rate 50: every worker lists every room through one shared bucket, few 429s",
      () =>
        Effect.gen(function*() {
          const { emulator, env, redis, runWorkers } = yield* topology
          const result = yield* runWorkers(["--redis", redis.url, "--rate", "50"])
          expectEveryRoom(result.finished, env.AWS_SECRET_ACCESS_KEY)
          const prefix = RedisRateLimiter.namespace(emulator.endpoint, env.AWS_ACCESS_KEY_ID)
          expect(yield* exists(redis.port, `${prefix}fixed`)).toBe(true)
          expect(result.share, `${result.throttled} of ${result.requests} requests throttled`).toBeLessThan(0.25)
        }),
      120_000
    )

    it.scopedLive(
      "CHIME_ROOMS_REDIS_URL, adaptive (the default): every worker lists every room from one shared model",
      () =>
        Effect.gen(function*() {
          const { emulator, env, redis, runWorkers } = yield* topology
          const result = yield* runWorkers([], { CHIME_ROOMS_REDIS_URL: redis.url })
          expectEveryRoom(result.finished, env.AWS_SECRET_ACCESS_KEY)
          // Keyed by the endpoint and the access key id every worker signs with: one model for all.
          const prefix = RedisRateLimiter.namespace(emulator.endpoint, env.AWS_ACCESS_KEY_ID)
          expect(yield* exists(redis.port, `${prefix}model`)).toBe(true)
          expect(result.share, `${result.throttled} of ${result.requests} requests throttled`).toBeLessThan(0.25)
        }),
      120_000
    )
  })
}
