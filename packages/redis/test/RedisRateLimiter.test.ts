/**
 * The Redis limiters against a real `redis-server` on a loopback port (`@chime-rooms/servers/Redis`): live
 * clock, small numbers, every wait bounded.
 */
import { ChimeError } from "@chime-rooms/core"
import { Credentials } from "@chime-rooms/http"
import { RedisRateLimiter } from "@chime-rooms/redis"
import * as RedisServer from "@chime-rooms/servers/Redis"
import { ServerModel } from "@chime-rooms/stream"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Either, Exit, Logger, Option, Redacted, Schedule, Scope, TestClock } from "effect"
import { Redis } from "ioredis"
import * as net from "node:net"
import { afterAll, beforeAll } from "vitest"
import * as Connection from "../src/internal/connection.js"
import { fixedScript, modelReadScript, modelWriteScript } from "../src/internal/scripts.js"

const endpoint = "https://chime.us-east-1.amazonaws.com"

/** The wall time `effect` took, in ms. */
const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const start = performance.now()
    const exit = yield* Effect.exit(effect)
    return { exit, millis: performance.now() - start }
  })

/** Every log line's message, for checking that no secret is printed. */
const capture = () => {
  const lines: Array<string> = []
  const logger = Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ logLevel, message }) => lines.push(`${logLevel.label} ${JSON.stringify(message)}`))
  )
  return { lines, logger }
}

/** A raw client, to look at what the limiters left in Redis. */
const inspect = <A>(url: string, f: (redis: Redis) => Promise<A>): Promise<A> => {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 })
  return redis.connect().then(() => f(redis)).finally(() => redis.disconnect())
}

/** A loopback port with nothing listening on it. */
const closedPort = (): Promise<number> =>
  new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })

describe("RedisRateLimiter: URLs", () => {
  it("reads redis:// and rediss:// URLs; the password stays Redacted and TLS is set for rediss", () => {
    const plain = Either.getOrThrow(Connection.parseUrl("redis://127.0.0.1"))
    assert.deepStrictEqual(
      { host: plain.host, port: plain.port, db: plain.db, tls: plain.tls, password: plain.password },
      { host: "127.0.0.1", port: 6379, db: 0, tls: false, password: undefined }
    )
    const secure = Either.getOrThrow(
      Connection.parseUrl(Redacted.make("rediss://worker:p%40ss%2Fw0rd@cache.example.com:6380/2"))
    )
    assert.strictEqual(secure.tls, true)
    assert.strictEqual(secure.username, "worker")
    assert.strictEqual(secure.db, 2)
    assert.strictEqual(secure.port, 6380)
    assert.strictEqual(Redacted.value(secure.password!), "p@ss/w0rd")
    assert.notInclude(String(secure.password), "p@ss")
    assert.notInclude(JSON.stringify(secure), "p@ss")
    assert.strictEqual(Connection.describe(secure), "Redis at cache.example.com:6380")
    const options = Connection.redisOptions(secure, Duration.seconds(1), { rejectUnauthorized: true })
    assert.deepStrictEqual(options.tls, { servername: "cache.example.com", rejectUnauthorized: true })
    assert.strictEqual(options.password, "p@ss/w0rd")
    assert.strictEqual(options.enableOfflineQueue, false)
    assert.strictEqual(options.commandTimeout, 1000)
    assert.strictEqual(options.connectTimeout, 1000)
    // No TLS for redis://.
    assert.isUndefined(Connection.redisOptions(plain, Duration.seconds(1), undefined).tls)
  })

  it("refuses other schemes and malformed URLs without quoting them", () => {
    for (const url of ["http://:hunter2@host", "hunter2", "redis://:hunter2@host/x"]) {
      const result = Connection.parseUrl(url)
      assert.isTrue(Either.isLeft(result))
      const error = Either.getLeft(result).pipe(Option.getOrThrow)
      assert.strictEqual(error.reason, "Configuration")
      assert.notInclude(error.message, "hunter2")
    }
  })

  it("the scripts time everything by the Redis server's clock", () => {
    for (const script of [fixedScript, modelReadScript, modelWriteScript]) {
      assert.include(script, "redis.call('TIME')")
    }
  })
})

if (RedisServer.available) {
  describe("RedisRateLimiter against redis-server", () => {
    let server: RedisServer.Server
    beforeAll(async () => {
      server = await RedisServer.start()
    })
    afterAll(async () => {
      await server?.close()
    })

    it.scopedLive("fixed: two limiters (two connections) share one token bucket", () =>
      Effect.gen(function*() {
        const options = {
          url: server.url,
          key: "fixed-shared",
          endpoint,
          mode: { kind: "fixed", rate: 20, burst: 2 }
        } as const
        const a = yield* RedisRateLimiter.make(options)
        const b = yield* RedisRateLimiter.make(options)
        // 12 permits at 20/s with a burst of 2, half from each: the last one at (12 − 2) / 20 = 0.5 s.
        const { exit, millis } = yield* timed(
          Effect.all(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? a : b).acquire), { concurrency: "unbounded" })
        )
        assert.isTrue(Exit.isSuccess(exit))
        assert.isAtLeast(millis, 450)
        assert.isBelow(millis, 1500)
        assert.strictEqual(yield* a.currentRate, 20)
      }), 10_000)

    it.scopedLive(
      "keys are namespaced by endpoint and key, expire after the TTL, and are refreshed by every update",
      () =>
        Effect.gen(function*() {
          const limiter = yield* RedisRateLimiter.make({
            url: server.url,
            key: "ttl-account",
            endpoint,
            mode: { kind: "fixed", rate: 100 },
            ttl: Duration.millis(1000)
          })
          yield* limiter.acquire
          const prefix = RedisRateLimiter.namespace(endpoint, "ttl-account")
          assert.match(prefix, /^chime-rooms:\{[0-9a-f]{32}\}:$/)
          const keys = yield* Effect.promise(() => inspect(server.url, (r) => r.keys(`${prefix}*`)))
          assert.deepStrictEqual(keys, [`${prefix}fixed`])
          const ttl = yield* Effect.promise(() => inspect(server.url, (r) => r.pttl(`${prefix}fixed`)))
          assert.isAbove(ttl, 0)
          assert.isAtMost(ttl, 1000)
          // Another endpoint or key is another limit.
          assert.notStrictEqual(RedisRateLimiter.namespace(endpoint, "other"), prefix)
          assert.notStrictEqual(RedisRateLimiter.namespace("https://chime.example.com", "ttl-account"), prefix)
          yield* Effect.sleep(Duration.millis(600))
          yield* limiter.acquire
          yield* Effect.sleep(Duration.millis(600))
          assert.strictEqual(yield* Effect.promise(() => inspect(server.url, (r) => r.exists(`${prefix}fixed`))), 1)
          yield* Effect.sleep(Duration.millis(1100))
          assert.strictEqual(yield* Effect.promise(() => inspect(server.url, (r) => r.exists(`${prefix}fixed`))), 0)
        }),
      10_000
    )

    it.scoped(
      "the time is the Redis server's, not the worker's (here a TestClock at 1970)",
      () =>
        Effect.gen(function*() {
          yield* TestClock.setTime(0)
          const fixed = yield* RedisRateLimiter.make({
            url: server.url,
            key: "server-time",
            endpoint,
            mode: { kind: "fixed", rate: 1 }
          })
          yield* fixed.acquire
          const adaptive = yield* RedisRateLimiter.make({ url: server.url, key: "server-time", endpoint })
          yield* adaptive.acquire
          const prefix = RedisRateLimiter.namespace(endpoint, "server-time")
          const [last, model, [seconds], modelTtl] = yield* Effect.promise(() =>
            inspect(
              server.url,
              (r) =>
                Promise.all([
                  r.hget(`${prefix}fixed`, "last"),
                  r.hget(`${prefix}model`, "s"),
                  r.time(),
                  r.pttl(`${prefix}model`)
                ])
            )
          )
          const serverSeconds = Number(seconds)
          // The model expires too (default TTL: 10 minutes).
          assert.isAbove(modelTtl, 0)
          assert.isAtMost(modelTtl, 600_000)
          assert.closeTo(Number(last) / 1e6, serverSeconds, 5)
          const fields = JSON.parse(model!).f as Record<string, unknown>
          // The model counted the request in flight at the server's time (its clock starts there).
          assert.strictEqual(fields.inflight, 1)
          assert.isTrue(Option.isSome(ServerModel.decode(model!)))
        }),
      10_000
    )

    it.scopedLive("adaptive: what one worker's throttle teaches paces the other", () =>
      Effect.gen(function*() {
        const options = { url: server.url, key: "adaptive-shared", endpoint } as const
        const a = yield* RedisRateLimiter.make(options)
        const b = yield* RedisRateLimiter.make(options)
        // Unlimited at first; a burst of successes then a throttle, all through `a`.
        for (let i = 0; i < 6; i++) yield* a.acquire
        for (let i = 0; i < 5; i++) yield* a.onSuccess
        yield* a.onThrottle
        const rate = yield* a.currentRate
        assert.isDefined(rate)
        assert.isUndefined(yield* b.currentRate, "b has not talked to Redis yet")
        yield* b.acquire
        assert.strictEqual(yield* b.currentRate, rate)
        // b now waits its turn: a few permits take about (n − 1) / rate.
        const n = 4
        const { millis } = yield* timed(Effect.all(Array.from({ length: n }, () => b.acquire)))
        assert.isAtLeast(millis, ((n - 1) / rate! - 0.05) * 1000)
      }), 10_000)

    it.scopedLive(
      "adaptive: 4 workers with 25 concurrent callers each lose no update (compare-and-set on a version)",
      () =>
        Effect.gen(function*() {
          const options = { url: server.url, key: "adaptive-contention", endpoint, mode: { kind: "adaptive" } } as const
          const workers = yield* Effect.all(Array.from({ length: 4 }, () => RedisRateLimiter.make(options)))
          const perWorker = 100
          const { exit, millis } = yield* timed(
            Effect.all(
              workers.map((worker) =>
                Effect.all(Array.from({ length: perWorker }, () => Effect.zipRight(worker.acquire, worker.onSuccess)), {
                  concurrency: 25
                })
              ),
              { concurrency: "unbounded" }
            )
          )
          assert.isTrue(Exit.isSuccess(exit), String(exit))
          const prefix = RedisRateLimiter.namespace(endpoint, "adaptive-contention")
          const [version, text] = yield* Effect.promise(() =>
            inspect(server.url, (r) => r.hmget(`${prefix}model`, "v", "s"))
          )
          const fields = JSON.parse(text!).f as Record<string, unknown>
          // Every reservation was booked and every answer fed back: none in flight, all 400 in the
          // history (the first success only marks the start). A worker writes its callers' operations
          // together: fewer writes than operations.
          assert.strictEqual(fields.inflight, 0)
          assert.strictEqual(fields.count, 4 * perWorker - 1)
          const writes = Number(version)
          assert.isAbove(writes, 0)
          assert.isAtMost(writes, 2 * 4 * perWorker)
          yield* Effect.logInfo(
            `adaptive shared model: ${2 * 4 * perWorker} operations of 4 workers in ${writes} writes, ${
              millis.toFixed(0)
            } ms`
          )
        }),
      30_000
    )

    it.scopedLive(
      "without a key, the access key id of the provided Credentials names the limit",
      () =>
        Effect.gen(function*() {
          const limiter = yield* RedisRateLimiter.make({ url: server.url, endpoint, mode: { kind: "fixed", rate: 5 } })
            .pipe(
              Effect.provide(
                Credentials.layerStatic({ accessKeyId: "AKIDEXAMPLEKEY", secretAccessKey: "wJalrXUtnFEMI" })
              )
            )
          yield* limiter.acquire
          const prefix = RedisRateLimiter.namespace(endpoint, "AKIDEXAMPLEKEY")
          assert.strictEqual(yield* Effect.promise(() => inspect(server.url, (r) => r.exists(`${prefix}fixed`))), 1)
          // Without either (the types ask for Credentials; untyped callers get an error, not a crash).
          const untyped = RedisRateLimiter.make as (
            options: RedisRateLimiter.Options
          ) => Effect.Effect<unknown, ChimeError.ChimeError, Scope.Scope>
          const error = yield* Effect.flip(untyped({ url: server.url, endpoint }))
          assert.strictEqual(error._tag, "RateLimiterError")
          // Temporary credentials: a warning that the key changes with every session, and no secret.
          const { lines, logger } = capture()
          yield* RedisRateLimiter.make({ url: server.url, endpoint }).pipe(
            Effect.provide(
              Credentials.layerStatic({
                accessKeyId: "ASIAEXAMPLEKEY",
                secretAccessKey: "wJalrXUtnFEMI",
                sessionToken: "FQoGZXIvYXdzEXAMPLE"
              })
            ),
            Effect.provide(logger)
          )
          assert.strictEqual(lines.filter((line) => line.startsWith("WARN") && line.includes("temporary")).length, 1)
          assert.notInclude(lines.join("\n"), "FQoGZXIvYXdzEXAMPLE")
          assert.notInclude(lines.join("\n"), "wJalrXUtnFEMI")
        }),
      10_000
    )
  })
}

if (RedisServer.available) {
  describe("RedisRateLimiter when Redis fails", () => {
    it.scopedLive(
      "a password in the URL works, and never appears in an error or a log line",
      () =>
        Effect.gen(function*() {
          const password = "correct-horse-battery-staple"
          const server = yield* Effect.acquireRelease(
            Effect.promise(() => RedisServer.start({ password })),
            (s) => Effect.promise(() => s.close())
          )
          const { lines, logger } = capture()
          const ok = yield* RedisRateLimiter.make({
            url: Redacted.make(server.url),
            key: "pw",
            endpoint,
            mode: { kind: "fixed", rate: 50 }
          }).pipe(Effect.provide(logger))
          yield* ok.acquire
          const wrong = `redis://:wrong-${password}@127.0.0.1:${server.port}`
          const error = yield* Effect.flip(
            RedisRateLimiter.make({ url: wrong, key: "pw", endpoint, timeout: Duration.millis(500) }).pipe(
              Effect.provide(logger)
            )
          )
          assert.strictEqual(error._tag, "RateLimiterError")
          assert.strictEqual((error as ChimeError.RateLimiterError).reason, "Unauthorized")
          // The fallback logs the failure: still no password.
          const fallback = yield* RedisRateLimiter.make({
            url: wrong,
            key: "pw",
            endpoint,
            onUnavailable: "fallback",
            timeout: Duration.millis(500)
          }).pipe(Effect.provide(logger))
          yield* Effect.provide(fallback.acquire, logger)
          assert.isAbove(lines.length, 0)
          const printed = [String(error), JSON.stringify(error), error.message, ...lines].join("\n")
          assert.notInclude(printed, password)
          assert.include(printed, `127.0.0.1:${server.port}`)
        }),
      15_000
    )

    it.scopedLive(
      "unreachable: a typed error within the timeout, or the in-process limiter with one warning",
      () =>
        Effect.gen(function*() {
          const port = yield* Effect.promise(closedPort)
          const url = `redis://127.0.0.1:${port}`
          const failing = yield* timed(
            RedisRateLimiter.make({ url, key: "down", endpoint, timeout: Duration.millis(300) })
          )
          assert.isTrue(Exit.isFailure(failing.exit))
          const error = Exit.isFailure(failing.exit) ? Option.getOrThrow(Exit.causeOption(failing.exit)) : undefined
          assert.include(String(error), "RateLimiterError")
          assert.isBelow(failing.millis, 1500)
          const { lines, logger } = capture()
          const fallback = yield* RedisRateLimiter.make({
            url,
            key: "down",
            endpoint,
            timeout: Duration.millis(300),
            mode: { kind: "fixed", rate: 20 },
            onUnavailable: "fallback"
          }).pipe(Effect.provide(logger))
          const { exit, millis } = yield* timed(
            Effect.provide(Effect.all(Array.from({ length: 6 }, () => fallback.acquire)), logger)
          )
          assert.isTrue(Exit.isSuccess(exit))
          // Paced in process: 6 permits at 20/s, burst 1: 0.25 s.
          assert.isAtLeast(millis, 200)
          assert.isBelow(millis, 1500)
          assert.strictEqual(lines.filter((line) => line.startsWith("WARN")).length, 1)
        }),
      15_000
    )

    it.scopedLive(
      "Redis stopped mid-run: acquire fails with RateLimiterError in time; the fallback carries on",
      () =>
        Effect.gen(function*() {
          const server = yield* Effect.acquireRelease(
            Effect.promise(() => RedisServer.start()),
            (s) => Effect.promise(() => s.close())
          )
          const base = { url: server.url, key: "killed", endpoint, timeout: Duration.millis(300) } as const
          const strict = yield* RedisRateLimiter.make(base)
          const lenient = yield* RedisRateLimiter.make({
            ...base,
            onUnavailable: "fallback",
            retryAfter: Duration.millis(200)
          })
          yield* strict.acquire
          // The shared model learns a rate (a run of successes, then a throttle).
          for (let i = 0; i < 6; i++) yield* lenient.acquire
          for (let i = 0; i < 5; i++) yield* lenient.onSuccess
          yield* lenient.onThrottle
          const shared = yield* lenient.currentRate
          assert.isDefined(shared)
          yield* Effect.promise(() => server.stop())
          const { exit, millis } = yield* timed(Effect.flip(strict.acquire))
          assert.isBelow(millis, 1500)
          const failure = Exit.isSuccess(exit) ? exit.value : undefined
          assert.instanceOf(failure, ChimeError.RateLimiterError)
          assert.isTrue(ChimeError.isChimeError(failure))
          assert.isFalse(ChimeError.isRetryableError(failure!))
          // Feedback does not fail the request it reports on.
          yield* strict.onSuccess
          // The in-process limiter starts from the rate the shared model had.
          const fallback = yield* timed(
            Effect.all([lenient.acquire, lenient.currentRate, lenient.onSuccess, lenient.acquire])
          )
          assert.isTrue(Exit.isSuccess(fallback.exit))
          assert.strictEqual(Exit.isSuccess(fallback.exit) ? fallback.exit.value[1] : undefined, shared)
          assert.isBelow(fallback.millis, 1500 + 2000 / shared!)
        }),
      15_000
    )

    it.scopedLive(
      "fallback: back on Redis once it is reachable again, with one warning and one info line",
      () =>
        Effect.gen(function*() {
          const first = yield* Effect.promise(() => RedisServer.start())
          const { lines, logger } = capture()
          const limiter = yield* RedisRateLimiter.make({
            url: first.url,
            key: "comeback",
            endpoint,
            mode: { kind: "fixed", rate: 1000 },
            timeout: Duration.millis(300),
            onUnavailable: "fallback",
            retryAfter: Duration.millis(100)
          })
          const acquire = Effect.provide(limiter.acquire, logger)
          yield* acquire
          yield* Effect.promise(() => first.close())
          yield* acquire
          yield* acquire
          const second = yield* Effect.acquireRelease(
            Effect.promise(() => RedisServer.start({ port: first.port })),
            (s) => Effect.promise(() => s.close())
          )
          const key = `${RedisRateLimiter.namespace(endpoint, "comeback")}fixed`
          // ioredis reconnects in the background (within 2 s); the limiter tries Redis every 100 ms.
          const back = yield* acquire.pipe(
            Effect.zipRight(Effect.promise(() => inspect(second.url, (r) => r.exists(key)))),
            Effect.filterOrFail((n) => n === 1, () => "not yet on Redis"),
            Effect.retry(Schedule.spaced(Duration.millis(50))),
            Effect.timeout(Duration.seconds(5))
          )
          assert.strictEqual(back, 1, lines.join("\n"))
          assert.strictEqual(lines.filter((line) => line.startsWith("WARN")).length, 1)
          assert.strictEqual(
            lines.filter((line) => line.startsWith("INFO") && line.includes("reachable again")).length,
            1
          )
        }),
      15_000
    )

    it.scopedLive(
      "slow: a server that never answers, or a paused one, is a Timeout within the timeout",
      () =>
        Effect.gen(function*() {
          // Accepts the connection, never answers.
          const silent = yield* Effect.acquireRelease(
            Effect.async<net.Server>((resume) => {
              const sockets = new Set<net.Socket>()
              const server = net.createServer((socket) => {
                sockets.add(socket)
                socket.on("close", () => sockets.delete(socket))
              })
              server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
              ;(server as net.Server & { sockets?: Set<net.Socket> }).sockets = sockets
            }),
            (server) =>
              Effect.async<void>((resume) => {
                for (const socket of (server as net.Server & { sockets: Set<net.Socket> }).sockets) socket.destroy()
                server.close(() => resume(Effect.void))
              })
          )
          const port = (silent.address() as net.AddressInfo).port
          const connecting = yield* timed(
            Effect.flip(
              RedisRateLimiter.make({
                url: `redis://127.0.0.1:${port}`,
                key: "slow",
                endpoint,
                timeout: Duration.millis(300)
              })
            )
          )
          assert.isTrue(Exit.isSuccess(connecting.exit))
          assert.strictEqual(
            Exit.isSuccess(connecting.exit) ? connecting.exit.value._tag : undefined,
            "RateLimiterError"
          )
          assert.isBelow(connecting.millis, 1500)
          // Connected, then the server stops answering (CLIENT PAUSE holds every client's commands).
          const server = yield* Effect.acquireRelease(
            Effect.promise(() => RedisServer.start()),
            (s) => Effect.promise(() => s.close())
          )
          const limiter = yield* RedisRateLimiter.make({
            url: server.url,
            key: "paused",
            endpoint,
            mode: { kind: "fixed", rate: 100 },
            timeout: Duration.millis(300)
          })
          yield* limiter.acquire
          yield* Effect.promise(() => inspect(server.url, (r) => r.call("CLIENT", "PAUSE", "1500", "ALL")))
          const paused = yield* timed(Effect.flip(limiter.acquire))
          assert.isTrue(Exit.isSuccess(paused.exit))
          const error = Exit.isSuccess(paused.exit) ? paused.exit.value : undefined
          assert.strictEqual(error?.reason, "Timeout")
          assert.isBelow(paused.millis, 1000)
          assert.isAtLeast(paused.millis, 250)
        }),
      15_000
    )

    it.scopedLive(
      "fallback from the start: Redis unreachable when the layer is built, used once it runs",
      () =>
        Effect.gen(function*() {
          const port = yield* Effect.promise(closedPort)
          const limiter = yield* RedisRateLimiter.make({
            url: `redis://127.0.0.1:${port}`,
            key: "late",
            endpoint,
            mode: { kind: "fixed", rate: 1000 },
            timeout: Duration.millis(300),
            onUnavailable: "fallback",
            retryAfter: Duration.millis(100)
          })
          yield* limiter.acquire
          const server = yield* Effect.acquireRelease(
            Effect.promise(() => RedisServer.start({ port })),
            (s) => Effect.promise(() => s.close())
          )
          const key = `${RedisRateLimiter.namespace(endpoint, "late")}fixed`
          const back = yield* limiter.acquire.pipe(
            Effect.zipRight(Effect.promise(() => inspect(server.url, (r) => r.exists(key)))),
            Effect.filterOrFail((n) => n === 1, () => "not yet on Redis"),
            Effect.retry(Schedule.spaced(Duration.millis(50))),
            Effect.timeout(Duration.seconds(5))
          )
          assert.strictEqual(back, 1)
        }),
      15_000
    )

    it.scopedLive(
      "a caller that stops waiting gives its permit back (fixed and adaptive)",
      () =>
        Effect.gen(function*() {
          const server = yield* Effect.acquireRelease(
            Effect.promise(() => RedisServer.start()),
            (s) => Effect.promise(() => s.close())
          )
          for (
            const mode of [{ kind: "fixed", rate: 2 }, { kind: "adaptive", initialRate: 2 }] as const
          ) {
            const limiter = yield* RedisRateLimiter.make({
              url: server.url,
              key: `refund-${mode.kind}`,
              endpoint,
              mode
            })
            yield* limiter.acquire // the burst
            // The next permit is 0.5 s away: give up after 0.1 s, and the one after is no further.
            const gaveUp = yield* Effect.timeout(limiter.acquire, Duration.millis(100)).pipe(Effect.option)
            assert.isTrue(Option.isNone(gaveUp))
            const { millis } = yield* timed(limiter.acquire)
            assert.isBelow(millis, 600, mode.kind)
            assert.isAtLeast(millis, 250, mode.kind)
          }
        }),
      15_000
    )

    it.scopedLive("the connection is closed with its scope", () =>
      Effect.gen(function*() {
        const server = yield* Effect.acquireRelease(
          Effect.promise(() => RedisServer.start()),
          (s) => Effect.promise(() => s.close())
        )
        const clients = () => inspect(server.url, (r) => r.client("LIST") as Promise<string>)
        const scope = yield* Scope.make()
        const limiter = yield* Scope.extend(
          RedisRateLimiter.make({ url: server.url, key: "scoped", endpoint, mode: { kind: "fixed", rate: 10 } }),
          scope
        )
        yield* limiter.acquire
        assert.strictEqual((yield* Effect.promise(clients)).trim().split("\n").length, 2)
        yield* Scope.close(scope, Exit.void)
        assert.strictEqual((yield* Effect.promise(clients)).trim().split("\n").length, 1)
      }), 10_000)
  })
}
