/**
 * `ChimeRateLimiter` layers whose state lives in Redis, shared by every worker that draws on the
 * same service limit: fixed (one token bucket for all) or adaptive (one learned model of the
 * server's bucket, fed by every worker's throttles, paced by for all). Timed by the Redis server's
 * clock; keyed by the endpoint and a key (by default the signing identity); idle state expires.
 *
 * @since 0.2.0
 */
import { ChimeError } from "@chime-rooms/core"
import { ChimeConfig, Credentials } from "@chime-rooms/http"
import { type ChimeRateLimiter, ServerModel } from "@chime-rooms/stream"
import { ChimeRateLimiter as Limiter } from "@chime-rooms/stream"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { createHash } from "node:crypto"
import type { ConnectionOptions } from "node:tls"
import * as Connection from "./internal/connection.js"

/**
 * A token bucket shared by every worker: `burst` permits at once, then `rate` per second, whoever
 * asks.
 *
 * @category models
 * @since 0.2.0
 */
export interface FixedMode extends ChimeRateLimiter.FixedOptions {
  readonly kind: "fixed"
}

/**
 * The adaptive limiter's model mode (`ChimeRateLimiter.makeAdaptive()`'s default), learned once for
 * every worker: each worker's throttles and successes feed one model, and every worker paces by it.
 * The options are `makeAdaptive`'s (the AWS mode is not offered: its state is not shared).
 *
 * @category models
 * @since 0.2.0
 */
export interface AdaptiveMode extends Omit<ChimeRateLimiter.AdaptiveOptions, "mode"> {
  readonly kind: "adaptive"
}

/**
 * Options of the Redis limiters.
 *
 * @category models
 * @since 0.2.0
 */
export interface Options {
  /**
   * `redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS. Pass it `Redacted` when it
   * holds a password; it is never printed either way (errors name only host and port).
   */
  readonly url: string | Redacted.Redacted<string>
  /** Default `{ kind: "adaptive" }`. */
  readonly mode?: FixedMode | AdaptiveMode | undefined
  /**
   * Who shares the limit. Default: the signing identity (the access key id of the provided
   * `Credentials`). Temporary credentials get a new access key id with every session: set `key`
   * then (for example to the AWS account id), or each session gets a limiter of its own.
   */
  readonly key?: string | undefined
  /** The Chime endpoint, the limit's other half. Default: the one `ChimeConfig` resolves from the environment. */
  readonly endpoint?: string | undefined
  /** Idle state expires this long after its last update. Default 10 minutes. */
  readonly ttl?: Duration.DurationInput | undefined
  /** The longest wait for one Redis round trip (and for connecting). Default 1 second. */
  readonly timeout?: Duration.DurationInput | undefined
  /**
   * When Redis cannot be reached in time: `"fail"` (default) fails the request with a
   * `RateLimiterError`; `"fallback"` paces by an in-process limiter of the same mode instead (with
   * one warning logged), and tries Redis again `retryAfter` later.
   */
  readonly onUnavailable?: "fail" | "fallback" | undefined
  /** With `onUnavailable: "fallback"`: how long to stay on the in-process limiter before trying Redis again. Default 5 seconds. */
  readonly retryAfter?: Duration.DurationInput | undefined
  /** TLS options for `rediss://` (a CA, a client certificate), merged into the connection's. */
  readonly tls?: ConnectionOptions | undefined
}

/** Options with the key given: the layer needs no `Credentials`. */
type KeyedOptions = Options & { readonly key: string }

/**
 * The prefix of every Redis key of the limit shared by callers of `endpoint` under `key`:
 * `chime-rooms:{<hash>}:` (the hash of both, so neither appears in Redis; in braces, so a Redis
 * Cluster keeps all of one limit's keys on one node).
 *
 * @example
 * ```ts
 * import { RedisRateLimiter } from "@chime-rooms/redis"
 *
 * RedisRateLimiter.namespace("https://chime.us-east-1.amazonaws.com", "AKIAEXAMPLE")
 * // "chime-rooms:{…32 hex digits…}:"
 * ```
 *
 * @category utils
 * @since 0.2.0
 */
export const namespace = (endpoint: string, key: string): string =>
  `chime-rooms:{${createHash("sha256").update(`${endpoint}\n${key}`).digest("hex").slice(0, 32)}}:`

/** Defaults. */
const defaults = {
  ttl: Duration.minutes(10),
  timeout: Duration.seconds(1),
  retryAfter: Duration.seconds(5),
  /** Tries of a compare-and-set of the shared model before giving up with `Contention`. */
  writeTries: 32
}

/** The Redis side of a limiter, every step a round trip or two. */
interface Remote {
  /** Books a permit: how long (ms) to wait for it, and the booking to settle when the wait ends. */
  readonly reserve: Effect.Effect<Booking, ChimeError.RateLimiterError>
  /**
   * When a wait ends: `undefined` to go, or a new booking when the shared model withdrew this one
   * (another worker's throttle cut the rate meanwhile) or the caller woke far past its time.
   */
  readonly settle: (booking: Booking) => Effect.Effect<Booking | undefined, ChimeError.RateLimiterError>
  /** Gives back the permit of a caller that stopped waiting. */
  readonly giveBack: (booking: Booking) => Effect.Effect<void, ChimeError.RateLimiterError>
  readonly feedback: (throttled: boolean) => Effect.Effect<void, ChimeError.RateLimiterError>
  readonly currentRate: () => number | undefined
}

const fixedRemote = (
  redis: Connection.Connection,
  call: <A>(f: () => Promise<A>) => Effect.Effect<A, ChimeError.RateLimiterError>,
  prefix: string,
  mode: FixedMode,
  ttlMillis: number
): Remote => {
  const key = `${prefix}fixed`
  const rate = mode.rate > 0 ? mode.rate : 1
  const burst = Math.max(1, mode.burst ?? 1)
  return {
    reserve: call(() => redis.chimeFixed(key, "reserve", rate, burst, ttlMillis)).pipe(
      Effect.map((micros) => ({ millis: Number(micros) / 1000, epoch: 0, due: 0 }))
    ),
    // A fixed rate never changes: a booking stands.
    settle: () => Effect.succeed(undefined),
    giveBack: () => Effect.asVoid(call(() => redis.chimeFixed(key, "refund", rate, burst, ttlMillis))),
    feedback: () => Effect.void,
    currentRate: () => rate
  }
}

const modelRemote = (
  redis: Connection.Connection,
  call: <A>(f: () => Promise<A>) => Effect.Effect<A, ChimeError.RateLimiterError>,
  prefix: string,
  mode: AdaptiveMode,
  ttlMillis: number,
  where: string,
  scope: Scope.Scope
): Remote => {
  const key = `${prefix}model`
  const { kind: _, ...options } = mode
  let rate: number | undefined = options.initialRate
  /**
   * Applies `f` to the shared model at the server's time: read model and time in one step, apply,
   * write back only if nobody wrote in between; else apply again to the newer model and time.
   */
  const update = <A>(
    f: (model: ServerModel.ServerModel, now: number) => A
  ): Effect.Effect<A, ChimeError.RateLimiterError> => {
    const attempt = (
      tries: number,
      version: string,
      text: string,
      seconds: string,
      micros: string
    ): Effect.Effect<A, ChimeError.RateLimiterError> => {
      const now = Number(seconds) + Number(micros) / 1e6
      const model = text === ""
        ? ServerModel.make(options, now)
        : Option.getOrElse(ServerModel.decode(text, options), () => ServerModel.make(options, now))
      const out = f(model, now)
      const written = ServerModel.encode(model)
      return Effect.flatMap(call(() => redis.chimeModelWrite(key, version, written, ttlMillis)), (reply) => {
        if (reply[0] === 1) {
          rate = model.rate
          return Effect.succeed(out)
        }
        if (tries <= 1) {
          return Effect.fail(
            new ChimeError.RateLimiterError({
              reason: "Contention",
              message: `${where}: the shared limiter state changed under ${defaults.writeTries} tries in a row`
            })
          )
        }
        const [, v, s, sec, us] = reply
        return attempt(tries - 1, String(v), s, sec, us)
      })
    }
    return Effect.flatMap(
      call(() => redis.chimeModelRead(key)),
      ([version, text, seconds, micros]) => attempt(defaults.writeTries, String(version), text, seconds, micros)
    )
  }
  /**
   * The operations waiting for the next write, applied in order in one read-and-write: a worker
   * writes the model at most once at a time, so that its concurrent callers do not compete with one
   * another for the version (which, a hundred at a time, they lose), only with the other workers.
   */
  let pending: Array<Pending> = []
  let flushing = false
  const flush: Effect.Effect<void> = Effect.suspend(() => {
    if (pending.length === 0) {
      flushing = false
      return Effect.void
    }
    const batch = pending
    pending = []
    return update((model, now) => batch.map((op) => op.apply(model, now))).pipe(
      Effect.exit,
      Effect.flatMap((exit) =>
        Effect.forEach(batch, (op, i) => {
          if (Exit.isFailure(exit)) return Deferred.failCause(op.deferred, exit.cause)
          // A caller that stopped waiting for its permit gives it back with the next write.
          if (op.abandoned && op.refundable) pending.push(background((model) => model.refund()))
          return Deferred.succeed(op.deferred, exit.value[i])
        }, { discard: true })
      ),
      Effect.zipRight(flush)
    )
  })
  const background = (apply: Pending["apply"]): Pending => ({
    apply,
    deferred: Deferred.unsafeMake(FiberId.none),
    abandoned: false,
    refundable: false
  })
  const submit = <A>(
    apply: (model: ServerModel.ServerModel, now: number) => A,
    refundable: boolean
  ): Effect.Effect<A, ChimeError.RateLimiterError> =>
    Effect.suspend(() => {
      const op: Pending = { apply, deferred: Deferred.unsafeMake(FiberId.none), abandoned: false, refundable }
      pending.push(op)
      const start = flushing ? Effect.void : Effect.asVoid(Effect.forkIn(flush, scope))
      flushing = true
      return Effect.zipRight(
        start,
        Effect.onInterrupt(Deferred.await(op.deferred) as Effect.Effect<A, ChimeError.RateLimiterError>, () =>
          Effect.sync(() => {
            op.abandoned = true
          }))
      )
    })
  return {
    reserve: submit((model, now) => bookingOf(model, now, model.reserve(now)), true),
    settle: (booking) =>
      submit(
        (model, now) =>
          model.epoch === booking.epoch && !model.overdue(booking.due, now)
            ? undefined
            : bookingOf(model, now, model.rebook(now)),
        // A caller that stops waiting here sends nothing: the permit it holds goes back.
        true
      ),
    giveBack: (booking) => submit((model) => model.epoch === booking.epoch ? model.refund() : model.forget(), false),
    feedback: (throttled) => submit((model, now) => model.update(now, throttled), false),
    currentRate: () => rate
  }
}

/**
 * A permit booked: the wait (ms); for the shared model, the epoch it was booked in and when it is
 * due (seconds of the Redis server's clock).
 */
interface Booking {
  readonly millis: number
  readonly epoch: number
  readonly due: number
}

const bookingOf = (model: ServerModel.ServerModel, now: number, seconds: number): Booking => ({
  millis: seconds * 1000,
  epoch: model.epoch,
  due: now + seconds
})

/** An operation on the shared model waiting for the next write. */
interface Pending {
  readonly apply: (model: ServerModel.ServerModel, now: number) => unknown
  readonly deferred: Deferred.Deferred<unknown, ChimeError.RateLimiterError>
  abandoned: boolean
  /** A reservation: when its caller stopped waiting, it is given back. */
  readonly refundable: boolean
}

/**
 * The limiter: the Redis side, or (with `onUnavailable: "fallback"`) the in-process `local` while
 * Redis fails, trying Redis again `retryAfter` after each failure.
 */
const makeService = (
  remote: Remote,
  makeLocal: ((rate: number | undefined) => Effect.Effect<ChimeRateLimiter.ChimeRateLimiterService>) | undefined,
  retryAfterMillis: number,
  where: string,
  startsDown: boolean
): ChimeRateLimiter.ChimeRateLimiterService => {
  let retryAt = -Infinity
  // Down from the start (the warning was logged when connecting): the first call tries Redis again.
  let down = startsDown
  /** The in-process limiter of this outage, started at the rate last read from Redis. */
  let local: ChimeRateLimiter.ChimeRateLimiterService | undefined
  const localLimiter = (make: NonNullable<typeof makeLocal>) =>
    local !== undefined ? Effect.succeed(local) : Effect.tap(make(remote.currentRate()), (made) => {
      local = made
    })
  const guarded = <A>(
    onRemote: Effect.Effect<A, ChimeError.RateLimiterError>,
    onLocal: (local: ChimeRateLimiter.ChimeRateLimiterService) => Effect.Effect<A, ChimeError.RateLimiterError>
  ): Effect.Effect<A, ChimeError.RateLimiterError> => {
    if (makeLocal === undefined) return onRemote
    return Effect.flatMap(Clock.currentTimeMillis, (now) => {
      if (down && now < retryAt) return Effect.flatMap(localLimiter(makeLocal), onLocal)
      return Effect.matchEffect(onRemote, {
        onSuccess: (a) => {
          if (!down) return Effect.succeed(a)
          down = false
          local = undefined
          return Effect.as(Effect.logInfo(`${where} is reachable again: the limiter paces by Redis`), a)
        },
        onFailure: (error) => {
          retryAt = now + retryAfterMillis
          const warn = down ? Effect.void : Effect.logWarning(
            `${error.message}: pacing by an in-process limiter, trying Redis again every ${
              Duration.format(Duration.millis(retryAfterMillis))
            }`
          )
          down = true
          return Effect.zipRight(warn, Effect.flatMap(localLimiter(makeLocal), onLocal))
        }
      })
    })
  }
  /** Waits out a booking, then settles it: goes, or waits out the new booking it was given. */
  const wait = (booking: Booking): Effect.Effect<void, ChimeError.RateLimiterError> =>
    booking.millis > 0
      ? Effect.onInterrupt(
        Effect.sleep(Duration.millis(booking.millis)),
        () => Effect.ignore(remote.giveBack(booking))
      ).pipe(
        Effect.zipRight(remote.settle(booking)),
        Effect.flatMap((next) => next === undefined ? Effect.void : wait(next))
      )
      : Effect.void
  // Feedback never fails the request it reports on: the response is there. Redis being away shows on the next `acquire`.
  const feedback = (throttled: boolean) =>
    Effect.ignore(
      guarded(remote.feedback(throttled), (local) => throttled ? local.onThrottle : local.onSuccess)
    )
  return {
    acquire: guarded(Effect.flatMap(remote.reserve, wait), (local) => local.acquire),
    onThrottle: feedback(true),
    onSuccess: feedback(false),
    currentRate: Effect.suspend(() =>
      down && local !== undefined ? local.currentRate : Effect.succeed(remote.currentRate())
    )
  }
}

/** The endpoint whose limit is shared: the option, or the one `ChimeConfig` resolves. */
const endpointOf = (options: Options): Effect.Effect<string, ChimeError.RateLimiterError> =>
  options.endpoint !== undefined ? Effect.succeed(options.endpoint) : ChimeConfig.loadInput.pipe(
    Effect.flatMap((input) => ChimeConfig.make(input)),
    Effect.map((config) => config.endpoint),
    Effect.mapError((error) =>
      new ChimeError.RateLimiterError({
        reason: "Configuration",
        message: `no endpoint for the Redis limiter's key (${
          error._tag === "EndpointConfigError" ? error.message : "the configuration could not be read"
        }): set \`endpoint\``
      })
    )
  )

/** The key: the option, or the access key id of the provided `Credentials`. */
const keyOf = (
  options: Options
): Effect.Effect<string, ChimeError.RateLimiterError | ChimeError.CredentialsError> =>
  options.key !== undefined ? Effect.succeed(options.key) : Effect.flatMap(
    Effect.serviceOption(Credentials.Credentials),
    (credentials): Effect.Effect<string, ChimeError.RateLimiterError | ChimeError.CredentialsError> =>
      Option.isSome(credentials)
        ? Effect.flatMap(
          credentials.value.get,
          (c) =>
            c.sessionToken === undefined ? Effect.succeed(c.accessKeyId) : Effect.as(
              Effect.logWarning(
                "the Redis limiter's key is the access key id of temporary credentials, which changes with every " +
                  "session: workers on other sessions will not share the limit (set `key`, e.g. to the AWS account id)"
              ),
              c.accessKeyId
            )
        )
        : Effect.fail(
          new ChimeError.RateLimiterError({
            reason: "Configuration",
            message: "the Redis limiter needs a `key` or a provided `Credentials` to take the access key id from"
          })
        )
  )

/**
 * A limiter whose state lives in Redis, for the scope: connects (within `timeout`), and quits when
 * the scope closes. With `onUnavailable: "fail"` (the default) an unreachable Redis fails here with
 * a `RateLimiterError`; with `"fallback"` it starts on the in-process limiter.
 *
 * @category constructors
 * @since 0.2.0
 */
export function make(
  options: KeyedOptions
): Effect.Effect<ChimeRateLimiter.ChimeRateLimiterService, ChimeError.RateLimiterError, Scope.Scope>
export function make(
  options: Options
): Effect.Effect<
  ChimeRateLimiter.ChimeRateLimiterService,
  ChimeError.RateLimiterError | ChimeError.CredentialsError,
  Scope.Scope | Credentials.Credentials
>
export function make(options: Options): Effect.Effect<
  ChimeRateLimiter.ChimeRateLimiterService,
  ChimeError.RateLimiterError | ChimeError.CredentialsError,
  Scope.Scope
> {
  return Effect.gen(function*() {
    const url = yield* Either.match(Connection.parseUrl(options.url), {
      onLeft: (error) => Effect.fail(error),
      onRight: (url) => Effect.succeed(url)
    })
    const where = Connection.describe(url)
    const mode = options.mode ?? { kind: "adaptive" }
    const timeout = Duration.decode(options.timeout ?? defaults.timeout)
    const ttlMillis = Math.max(1, Math.round(Duration.toMillis(options.ttl ?? defaults.ttl)))
    const retryAfterMillis = Duration.toMillis(options.retryAfter ?? defaults.retryAfter)
    const prefix = namespace(yield* endpointOf(options), yield* keyOf(options))
    const fallback = options.onUnavailable === "fallback"
    // The in-process limiter for an outage: the fixed one at its rate; the adaptive one from the rate
    // the shared model had when Redis went away (then learning on its own).
    const makeLocal = !fallback ? undefined : mode.kind === "fixed"
      ? () => Limiter.makeFixed(mode)
      : (rate: number | undefined) => {
        const { kind: _, ...options } = mode
        const initialRate = rate ?? options.initialRate
        return Limiter.makeAdaptive({
          ...options,
          mode: "model",
          ...(initialRate === undefined ? {} : { initialRate })
        })
      }
    const redis = yield* Connection.acquire(Connection.redisOptions(url, timeout, options.tls), timeout)
    const call = <A>(f: () => Promise<A>) => Connection.call(redis, where, timeout, f)
    const connected = yield* Effect.either(call(() => redis.connect()))
    if (Either.isLeft(connected)) {
      if (!fallback) return yield* Effect.fail(connected.left)
      yield* Effect.logWarning(`${connected.left.message}: pacing by an in-process limiter until it is reachable`)
    }
    const remote = mode.kind === "fixed"
      ? fixedRemote(redis, call, prefix, mode, ttlMillis)
      : modelRemote(redis, call, prefix, mode, ttlMillis, where, yield* Effect.scope)
    return makeService(remote, makeLocal, retryAfterMillis, where, Either.isLeft(connected))
  })
}

/**
 * A `ChimeRateLimiter` layer whose state lives in Redis (see {@link make}). Without `key`, it
 * needs `Credentials`, whose access key id names the shared limit.
 *
 * @example
 * ```ts
 * import { RedisRateLimiter } from "@chime-rooms/redis"
 * import { Redacted } from "effect"
 *
 * // Every worker with this layer shares one adaptive limiter for the account.
 * RedisRateLimiter.layer({ url: Redacted.make("redis://:secret@127.0.0.1:6379"), key: "123456789012" })
 * // One token bucket of 10 requests a second for all; the in-process one while Redis is away.
 * RedisRateLimiter.layer({
 *   url: "redis://127.0.0.1:6379",
 *   key: "123456789012",
 *   mode: { kind: "fixed", rate: 10, burst: 5 },
 *   onUnavailable: "fallback"
 * })
 * ```
 *
 * @category layers
 * @since 0.2.0
 */
export function layer(options: KeyedOptions): Layer.Layer<Limiter.ChimeRateLimiter, ChimeError.RateLimiterError>
export function layer(
  options: Options
): Layer.Layer<
  Limiter.ChimeRateLimiter,
  ChimeError.RateLimiterError | ChimeError.CredentialsError,
  Credentials.Credentials
>
export function layer(
  options: Options
): Layer.Layer<
  Limiter.ChimeRateLimiter,
  ChimeError.RateLimiterError | ChimeError.CredentialsError,
  Credentials.Credentials
> {
  return Layer.scoped(Limiter.ChimeRateLimiter, make(options))
}
