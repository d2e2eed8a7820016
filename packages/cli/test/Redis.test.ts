/**
 * `list --live --redis URL` (or `CHIME_ROOMS_REDIS_URL`), in-process against the emulator and a real
 * `redis-server`: what is refused (exit 2), what fails (exit 1, typed, in bounded time), and that the
 * URL's password is never printed.
 */
import * as RedisServer from "@chime-rooms/servers/Redis"
import { Emulator } from "@chime-rooms/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import * as net from "node:net"
import { ExitCode } from "../src/Io.js"
import { run } from "../src/Run.js"
import { allIds, capture, jsonIds, small, withEnv, withEnvCredentials } from "./support.js"

const PASSWORD = "hunter2-s3cret"

/** The emulator of `small`, its credentials in the environment, and `list --live` arguments for it. */
const live = Effect.gen(function*() {
  const emulator = yield* Emulator.make(small)
  yield* withEnvCredentials(emulator.credentials)
  const argv = [
    "list",
    "--live",
    "--endpoint",
    emulator.endpoint,
    "--region",
    emulator.region,
    "--account",
    emulator.accounts[0]!,
    "--json"
  ]
  return { emulator, argv }
})

const redisServer = (options: { readonly password?: string } = {}) =>
  Effect.acquireRelease(Effect.promise(() => RedisServer.start(options)), (s) => Effect.promise(() => s.close()))

/** A loopback port with nothing listening on it (a moment ago). */
const closedPort = Effect.async<number>((resume) => {
  const server = net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as net.AddressInfo
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** A server that accepts connections and never answers: a Redis that hangs. */
const silentServer = Effect.acquireRelease(
  Effect.async<net.Server>((resume) => {
    const server = net.createServer(() => {})
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
  }),
  (server) => Effect.sync(() => server.close())
).pipe(Effect.map((server) => (server.address() as net.AddressInfo).port))

describe("list --redis: refusals", () => {
  it.scopedLive("without --live, or with a URL that is not a Redis one, exit 2 naming the setting, quoting no URL", () =>
    Effect.gen(function*() {
      const { argv, emulator } = yield* live
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, Record<string, string>, string]> = [
        [["list", "--redis", `redis://:${PASSWORD}@127.0.0.1:6379`], {}, "--redis needs --live"],
        [["list", "--redis-key", "acct"], {}, "--redis-key needs --live"],
        [[...argv, "--redis", `http://:${PASSWORD}@127.0.0.1:6379`], {}, "--redis: the Redis URL's scheme is http:"],
        [[...argv, "--redis", `not a url ${PASSWORD}`], {}, "--redis: the Redis URL is not a URL"],
        [
          argv,
          { CHIME_ROOMS_REDIS_URL: `ftp://:${PASSWORD}@x` },
          "CHIME_ROOMS_REDIS_URL: the Redis URL's scheme is ftp:"
        ],
        [[...argv, "--redis-key", "acct"], {}, "--redis-key needs --redis (or CHIME_ROOMS_REDIS_URL)"],
        [[...argv, "--redis-key", " "], {}, "--redis-key must contain a non-space character"]
      ]
      for (const [args, vars, message] of cases) {
        const io = capture()
        const code = yield* Effect.scoped(Effect.zipRight(withEnv(vars), run(args, io)))
        expect(code, args.join(" ")).toBe(ExitCode.usage)
        expect(io.stderr().startsWith(message), io.stderr()).toBe(true)
        expect(io.stderr()).toMatch(/\nRun with --help to see the options\.\n$/)
        expect(io.stderr()).not.toContain(PASSWORD)
        expect(io.stdout()).toBe("")
      }
      expect(emulator.received()).toEqual([])
    }))

  it.live("--help describes --redis and its environment variable", () =>
    Effect.gen(function*() {
      const io = capture()
      expect(yield* run(["list", "--help"], io)).toBe(ExitCode.ok)
      expect(io.stdout()).toContain("--redis URL")
      expect(io.stdout()).toContain("CHIME_ROOMS_REDIS_URL")
      expect(io.stdout()).toContain("--redis-key KEY")
    }))

  it.scopedLive(
    "a Redis that cannot be reached, or never answers, exits 1 with a RateLimiterError, nothing sent",
    () =>
      Effect.gen(function*() {
        const { argv, emulator } = yield* live
        for (const port of [yield* closedPort, yield* silentServer]) {
          const io = capture()
          const started = Date.now()
          expect(yield* run([...argv, "--redis", `redis://:${PASSWORD}@127.0.0.1:${port}`], io)).toBe(
            ExitCode.serviceError
          )
          // The limiter's timeout (1 s) bounds connecting: no hang.
          expect(Date.now() - started).toBeLessThan(10_000)
          const lines = io.stderr().trimEnd().split("\n")
          expect(lines[0]).toMatch(
            new RegExp(`^Error: RateLimiterError \\(request id none\\): Redis at 127\\.0\\.0\\.1:${port} `)
          )
          expect(lines[1]).toBe("No page was received: run the same command again to retry.")
          expect(io.stderr()).not.toContain(PASSWORD)
          expect(io.stdout()).toBe("")
        }
        expect(emulator.received()).toEqual([])
      }),
    30_000
  )
})

if (RedisServer.available) {
  describe("list --redis: a real redis-server", () => {
    it.scopedLive(
      "--redis wins over CHIME_ROOMS_REDIS_URL; a password is used and never printed",
      () =>
        Effect.gen(function*() {
          const { argv, emulator } = yield* live
          const redis = yield* redisServer({ password: PASSWORD })
          const account = emulator.accounts[0]!
          yield* withEnv({ CHIME_ROOMS_REDIS_URL: "redis://127.0.0.1:1" })
          const io = capture()
          expect(yield* run([...argv, "--redis", redis.url, "--rate", "100"], io)).toBe(ExitCode.ok)
          expect(jsonIds(io.stdout())).toEqual(allIds(account))
          expect(io.stderr()).toMatch(/^230 rooms in 5 pages/)
          expect(io.stderr()).not.toContain(PASSWORD)

          const wrong = capture()
          const url = `redis://:wrong-${PASSWORD}@127.0.0.1:${redis.port}`
          expect(yield* run([...argv, "--redis", url], wrong)).toBe(ExitCode.serviceError)
          expect(wrong.stderr()).toMatch(
            /^Error: RateLimiterError \(request id none\): Redis at 127\.0\.0\.1:\d+ refused/
          )
          expect(wrong.stderr()).not.toContain(PASSWORD)
        }),
      30_000
    )

    it.scopedLive(
      "Redis stopped mid-listing: exit 1 with the token to resume from; resuming lists the rest",
      () =>
        Effect.gen(function*() {
          const { argv, emulator } = yield* live
          const redis = yield* redisServer()
          // 46 pages at 20 a second: Redis stops while the listing goes on.
          const args = [...argv, "--max-results", "5", "--rate", "20"]
          const io = capture()
          const fiber = yield* Effect.fork(run([...args, "--redis", redis.url], io))
          yield* io.firstLine
          yield* Effect.promise(() => redis.stop())
          expect(yield* Fiber.join(fiber)).toBe(ExitCode.serviceError)
          const lines = io.stderr().trimEnd().split("\n")
          expect(lines.at(-2)).toMatch(/^Error: RateLimiterError \(request id none\): Redis at 127\.0\.0\.1:\d+ /)
          expect(lines.at(-1)).toMatch(/^Resume with: --next-token \S+$/)
          const token = lines.at(-1)!.slice("Resume with: --next-token ".length)
          const first = jsonIds(io.stdout())
          expect(first.length).toBeGreaterThan(0)
          expect(first.length).toBeLessThan(230)

          const restarted = yield* Effect.acquireRelease(
            Effect.promise(() => RedisServer.start({ port: redis.port })),
            (s) => Effect.promise(() => s.close())
          )
          const resumed = capture()
          expect(yield* run([...args, "--redis", restarted.url, "--next-token", token], resumed)).toBe(
            ExitCode.ok
          )
          expect([...first, ...jsonIds(resumed.stdout())]).toEqual(allIds(emulator.accounts[0]!))
        }),
      30_000
    )
  })
}
