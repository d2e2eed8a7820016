/**
 * The connection to Redis: the URL read without ever printing it, ioredis set up so that nothing
 * waits longer than the timeout (no offline queue, no retried commands, bounded connect), and
 * every ioredis failure turned into a `RateLimiterError` with a message of our own.
 */
import { ChimeError } from "@chime-rooms/core"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { Redis, type RedisOptions } from "ioredis"
import { isIP } from "node:net"
import type { ConnectionOptions } from "node:tls"
import { fixedScript, modelReadScript, modelWriteScript } from "./scripts.js"

/** What a `redis://` or `rediss://` URL says; the password stays `Redacted`. */
export interface ParsedUrl {
  readonly host: string
  readonly port: number
  readonly username: string | undefined
  readonly password: Redacted.Redacted<string> | undefined
  readonly db: number
  readonly tls: boolean
}

const configError = (message: string) => new ChimeError.RateLimiterError({ reason: "Configuration", message })

/** Reads a Redis URL. Its errors never quote the URL: it may hold the password. */
export const parseUrl = (
  url: string | Redacted.Redacted<string>
): Either.Either<ParsedUrl, ChimeError.RateLimiterError> => {
  let parsed: URL
  try {
    parsed = new URL(Redacted.isRedacted(url) ? Redacted.value(url) : url)
  } catch {
    return Either.left(configError("the Redis URL is not a URL (expected redis://[user:password@]host[:port][/db])"))
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    return Either.left(configError(`the Redis URL's scheme is ${parsed.protocol} (expected redis: or rediss:)`))
  }
  const host = parsed.hostname.startsWith("[") ? parsed.hostname.slice(1, -1) : parsed.hostname
  if (host === "") return Either.left(configError("the Redis URL has no host"))
  const port = parsed.port === "" ? 6379 : Number(parsed.port)
  const path = parsed.pathname.replace(/^\//, "")
  const db = path === "" ? 0 : Number(path)
  if (!Number.isInteger(db) || db < 0) {
    return Either.left(configError("the Redis URL's path is not a database number"))
  }
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s)
    } catch {
      return s
    }
  }
  return Either.right({
    host,
    port,
    username: parsed.username === "" ? undefined : decode(parsed.username),
    password: parsed.password === "" ? undefined : Redacted.make(decode(parsed.password)),
    db,
    tls: parsed.protocol === "rediss:"
  })
}

/** Where the store is, for messages: host and port, nothing else of the URL. */
export const describe = (url: ParsedUrl): string =>
  `Redis at ${isIP(url.host) === 6 ? `[${url.host}]` : url.host}:${url.port}`

/** The ioredis options for `url`. Only here does the password leave its `Redacted`. */
export const redisOptions = (
  url: ParsedUrl,
  timeout: Duration.Duration,
  tls: ConnectionOptions | undefined
): RedisOptions => {
  const millis = Math.max(1, Math.round(Duration.toMillis(timeout)))
  return {
    host: url.host,
    port: url.port,
    ...(url.username === undefined ? {} : { username: url.username }),
    ...(url.password === undefined ? {} : { password: Redacted.value(url.password) }),
    db: url.db,
    ...(url.tls ? { tls: { ...(isIP(url.host) === 0 ? { servername: url.host } : {}), ...tls } } : {}),
    lazyConnect: true,
    connectTimeout: millis,
    commandTimeout: millis,
    // A command fails at once while the connection is down, instead of waiting in a queue for it.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResubscribe: false,
    // Reconnects in the background, so that a fallback can come back to Redis.
    retryStrategy: (times) => Math.min(100 * times, 2000)
  }
}

/** The limiter's commands, defined on the connection (EVALSHA, and EVAL once after a restart). */
export interface Commands {
  chimeFixed(
    key: string,
    op: "reserve" | "refund",
    rate: number,
    burst: number,
    ttlMillis: number
  ): Promise<number>
  chimeModelRead(key: string): Promise<[string, string, string, string]>
  chimeModelWrite(
    key: string,
    version: string,
    state: string,
    ttlMillis: number
  ): Promise<[1] | [0, string, string, string, string]>
}

export type Connection = Redis & Commands & {
  /** The last failure ioredis reported on the connection: a refused password shows only there. */
  chimeLastError?: unknown
}

const authFailure = /NOAUTH|WRONGPASS|NOPERM|invalid password|invalid username/i
const timeoutFailure = /timed? ?out/i

/**
 * A `RateLimiterError` for an ioredis failure. ioredis's own message is not used: it may quote a
 * reply, and our message should say only where and what.
 */
export const toError = (where: string, cause: unknown, last?: unknown): ChimeError.RateLimiterError => {
  const text = cause instanceof Error ? cause.message : String(cause)
  // A refused AUTH closes the connection: the command only sees "closed", the error event saw why.
  if (last instanceof Error && authFailure.test(last.message)) {
    return new ChimeError.RateLimiterError({ reason: "Unauthorized", message: `${where} refused the credentials` })
  }
  const code = cause instanceof Error && typeof (cause as { code?: unknown }).code === "string"
    ? (cause as unknown as { code: string }).code
    : undefined
  if (authFailure.test(text)) {
    return new ChimeError.RateLimiterError({ reason: "Unauthorized", message: `${where} refused the credentials` })
  }
  if (timeoutFailure.test(text) || code === "ETIMEDOUT") {
    return new ChimeError.RateLimiterError({ reason: "Timeout", message: `${where} did not answer in time` })
  }
  const why = code !== undefined && /^[A-Z_]+$/.test(code)
    ? code
    : /writeable|closed|Connection is closed/i.test(text)
    ? "not connected"
    : "failed"
  return new ChimeError.RateLimiterError({ reason: "Unavailable", message: `${where} is unavailable (${why})` })
}

/** One round trip, failing with a `RateLimiterError` when it fails or outlasts `timeout`. */
export const call = <A>(
  redis: Connection,
  where: string,
  timeout: Duration.Duration,
  f: () => Promise<A>
): Effect.Effect<A, ChimeError.RateLimiterError> =>
  Effect.tryPromise({ try: f, catch: (cause) => toError(where, cause, redis.chimeLastError) }).pipe(
    Effect.timeoutFail({
      duration: timeout,
      onTimeout: () =>
        new ChimeError.RateLimiterError({
          reason: "Timeout",
          message: `${where} did not answer within ${Duration.format(timeout)}`
        })
    })
  )

/**
 * A connection for the scope: made (not yet connected), then quit, or dropped if quitting does not
 * finish within `timeout`.
 */
export const acquire = (
  options: RedisOptions,
  timeout: Duration.Duration
): Effect.Effect<Connection, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const redis = new Redis(options) as Connection
      // Failures reach the callers as rejected commands; without a listener ioredis would print them.
      redis.on("error", (error: unknown) => {
        redis.chimeLastError = error
      })
      redis.on("ready", () => {
        redis.chimeLastError = undefined
      })
      redis.defineCommand("chimeFixed", { numberOfKeys: 1, lua: fixedScript })
      redis.defineCommand("chimeModelRead", { numberOfKeys: 1, lua: modelReadScript })
      redis.defineCommand("chimeModelWrite", { numberOfKeys: 1, lua: modelWriteScript })
      return redis
    }),
    (redis) =>
      Effect.promise(() => (redis.status === "ready" ? redis.quit().then(() => {}, () => {}) : Promise.resolve())).pipe(
        Effect.timeout(timeout),
        Effect.ignore,
        Effect.ensuring(Effect.sync(() => redis.disconnect()))
      )
  )
