/**
 * What `list` and `export` share: the options that say which service to call and how fast, their
 * checks, the client and limiter they build, and the progress line.
 */
import { type ChimeError, ChimeRooms } from "@chime-rooms/core"
import { ChimeConfig, Credentials, CredentialsChain, HttpChimeRooms, UndiciHttpClient } from "@chime-rooms/http"
import { ChimeMetrics, ChimeRateLimiter } from "@chime-rooms/stream"
import { Emulator } from "@chime-rooms/testing"
import { Options } from "@effect/cli"
import { Config, ConfigProvider, Effect, Either, Layer, Option, Redacted, Schedule } from "effect"
import { type Io, UsageError } from "../Io.js"
import { printable } from "../Printable.js"
import { integer, positive, withHelp } from "./flags.js"

/** The environment variable a `--live` job reads the Redis URL from when `--redis` is not given. */
export const redisUrlVariable = "CHIME_ROOMS_REDIS_URL"

/** Which service a job calls, and how fast, every option checked. */
export interface ServiceOptions {
  readonly live: boolean
  readonly maxResults?: number
  readonly rate?: number
  readonly endpoint?: string
  readonly region?: string
  readonly profile?: string
  /** With `live`: the Redis whose limiter every worker of the account shares (else {@link redisUrlVariable}). */
  readonly redis?: Redacted.Redacted<string>
  /** With a Redis: who shares the limit (default: the access key id). */
  readonly redisKey?: string
}

/** The options behind {@link ServiceOptions}, unchecked. */
export const serviceFields = {
  maxResults: integer("max-results", 1, 99).pipe(
    Options.withDescription("The page size asked of the service, from 1 to 99."),
    Options.optional
  ),
  rate: positive("rate", " of requests per second").pipe(
    Options.withDescription(
      "A fixed rate limit in requests per second (default: adaptive). With a Redis (--redis): the account-wide " +
        "rate, shared by every worker and paced evenly."
    ),
    Options.optional
  ),
  live: Options.boolean("live").pipe(
    Options.withDescription("Use the real service, with the AWS default credential chain (environment first).")
  ),
  endpoint: withHelp(
    Options.text("endpoint"),
    "URL",
    "With --live: a custom endpoint (for example a separate `chime-rooms emulator`)."
  ).pipe(Options.optional),
  region: withHelp(
    Options.text("region"),
    "REGION",
    "With --live: the region (default: AWS_REGION or the AWS profile's, else us-east-1)."
  ).pipe(Options.optional),
  profile: withHelp(
    Options.text("profile"),
    "NAME",
    "With --live: the AWS profile (as AWS_PROFILE) for the credentials and the shared config files' settings."
  ).pipe(Options.optional),
  redis: withHelp(
    Options.redacted("redis"),
    "URL",
    `With --live: redis://[user:password@]host[:port][/db] (or rediss:// for TLS), where the rate limiter lives ` +
      `that every worker calling the account shares (default: ${redisUrlVariable}; without either, a limiter of ` +
      "this process's own). The URL is never printed."
  ).pipe(Options.optional),
  redisKey: withHelp(
    Options.text("redis-key"),
    "KEY",
    "With a Redis: who shares the limit (default: the access key id; set it, for example to the AWS account id, " +
      "when workers sign with temporary credentials, whose access key id changes with every session)."
  ).pipe(Options.optional)
}

/** The names of {@link serviceFields}, as `--name`, for `normalize`. */
export const serviceValued: ReadonlyArray<string> = [
  "max-results",
  "rate",
  "endpoint",
  "region",
  "profile",
  "redis",
  "redis-key"
]

type ServiceRaw = {
  readonly [K in keyof typeof serviceFields]: (typeof serviceFields)[K] extends Options.Options<infer A> ? A : never
}

/** `--prefetch N`: pages requested ahead of what consumes them. */
export const prefetchOption = (consumer: string, defaultPages: number) =>
  integer("prefetch", 0, 100).pipe(
    Options.withDescription(
      `Pages requested ahead of the ${consumer}, from 0 to 100 (default ${defaultPages}` +
        (defaultPages === 0 ? ": strict backpressure)." : ").")
    ),
    Options.optional
  )

/** Copies the options that were given, leaving out those that were not. */
export const given = <A extends object>(
  values: { readonly [K in keyof A]-?: Option.Option<NonNullable<A[K]>> }
): Partial<A> => {
  const out: Partial<Record<keyof A, unknown>> = {}
  for (const key of Object.keys(values) as Array<keyof A>) {
    const value = values[key]
    if (Option.isSome(value)) out[key] = value.value
  }
  return out as Partial<A>
}

/** The checks across the service options; `account` is the first account asked for, if any. */
export const checkService = (
  raw: ServiceRaw,
  account: string | undefined
): Either.Either<ServiceOptions, string> => {
  const endpoint = Option.getOrUndefined(raw.endpoint)
  if (endpoint !== undefined) {
    if (!raw.live) return Either.left("--endpoint needs --live (without it the embedded emulator is used)")
    if (!URL.canParse(endpoint) || !/^https?:$/.test(new URL(endpoint).protocol)) {
      return Either.left(`--endpoint must be an http(s) URL, got ${JSON.stringify(endpoint)}`)
    }
  }
  if (Option.isSome(raw.region) && !raw.live) return Either.left("--region needs --live")
  if (Option.isSome(raw.profile) && !raw.live) return Either.left("--profile needs --live")
  // The embedded emulator is this process's own: there is no limit to share with anyone.
  if (Option.isSome(raw.redis) && !raw.live) return Either.left("--redis needs --live")
  if (Option.isSome(raw.redisKey) && !raw.live) return Either.left("--redis-key needs --live")
  if (Option.isSome(raw.redisKey) && !/\S/.test(raw.redisKey.value)) {
    return Either.left("--redis-key must contain a non-space character")
  }
  if (Option.isSome(raw.profile) && !/\S/.test(raw.profile.value)) {
    return Either.left("--profile must contain a non-space character")
  }
  if (raw.live && account === undefined) return Either.left("--live needs --account ID")
  return Either.right({
    live: raw.live,
    ...given<Omit<ServiceOptions, "live">>({
      maxResults: raw.maxResults,
      rate: raw.rate,
      endpoint: raw.endpoint,
      region: raw.region,
      profile: raw.profile,
      redis: raw.redis,
      redisKey: raw.redisKey
    })
  })
}

/** The service a job calls. */
export interface Target {
  /** The client; it signs with `credentials`, which a Redis limiter also reads its default key from. */
  readonly chime: Layer.Layer<ChimeRooms.ChimeRooms, never, Credentials.Credentials>
  readonly credentials: Layer.Layer<Credentials.Credentials>
  /** The endpoint the client calls: half of what names a shared limit. */
  readonly endpoint: string
}

/** The emulator in this scope, a client signing for its region, and the emulator's accounts. */
export const embedded = (emulatorOptions: Emulator.EmulatorOptions) =>
  Effect.map(Emulator.make(emulatorOptions), (emulator) => ({
    accounts: emulator.accounts,
    target: {
      endpoint: emulator.endpoint,
      credentials: Credentials.layerStatic(emulator.credentials),
      chime: HttpChimeRooms.layer({ endpoint: emulator.endpoint, region: emulator.region }).pipe(
        // The emulator's endpoint and region always resolve: a refusal here would be a defect.
        Layer.orDie,
        Layer.provide(UndiciHttpClient.layer)
      )
    } satisfies Target
  }))

/**
 * The real service (or `--endpoint`), the AWS default credential chain; the settings as the AWS SDK
 * reads them (environment, then the shared config files' profile: `--profile`, else `AWS_PROFILE`),
 * the flags over them. Settings that cannot be read or lead to no endpoint are a usage error,
 * reported before anything is sent.
 */
export const live = (options: ServiceOptions): Effect.Effect<Target, UsageError> => {
  const config = options.profile === undefined
    ? ChimeConfig.loadInput
    : Effect.withConfigProvider(
      ChimeConfig.loadInput,
      ConfigProvider.fromMap(new Map([["AWS_PROFILE", options.profile]])).pipe(
        ConfigProvider.orElse(() => ConfigProvider.fromEnv())
      )
    )
  return Effect.flatMap(config, (input) =>
    Effect.map(
      ChimeConfig.make({
        ...input,
        ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
        ...(options.region === undefined ? {} : { region: options.region })
      }),
      (resolved): Target => ({
        endpoint: resolved.endpoint,
        credentials: CredentialsChain.layer(options.profile === undefined ? undefined : { profile: options.profile }),
        chime: Layer.effect(ChimeRooms.ChimeRooms, HttpChimeRooms.make(resolved)).pipe(
          Layer.provide(UndiciHttpClient.layer)
        )
      })
    )).pipe(
      Effect.mapError((error) =>
        new UsageError({
          message: printable(
            error._tag === "EndpointConfigError"
              ? `No endpoint for this configuration: ${error.message}`
              : `Cannot read the configuration: ${String(error)}`
          )
        })
      )
    )
}

/** The rate limiter of a job: one of this process's own, or one in Redis (whose layer may fail). */
export type Limiter = Layer.Layer<
  ChimeRateLimiter.ChimeRateLimiter,
  ChimeError.RateLimiterError | ChimeError.CredentialsError,
  Credentials.Credentials
>

/** Where the shared limiter lives, and which setting said so (to name it in a refusal). */
export interface Redis {
  readonly url: Redacted.Redacted<string>
  readonly source: string
}

/**
 * The Redis of a `--live` job: `--redis`, else {@link redisUrlVariable} (empty is unset). The
 * embedded emulator is this process's own: its job never shares a limit.
 */
export const redisOf = (options: ServiceOptions): Effect.Effect<Option.Option<Redis>, UsageError> => {
  if (!options.live) return Effect.succeed(Option.none())
  if (options.redis !== undefined) return Effect.succeed(Option.some({ url: options.redis, source: "--redis" }))
  return Config.option(Config.redacted(redisUrlVariable)).pipe(
    Effect.map(Option.filter((url) => Redacted.value(url) !== "")),
    Effect.mapError(() => new UsageError({ message: `Cannot read ${redisUrlVariable}` })),
    Effect.flatMap((url) =>
      Option.isNone(url) && options.redisKey !== undefined
        ? Effect.fail(new UsageError({ message: `--redis-key needs --redis (or ${redisUrlVariable})` }))
        : Effect.succeed(Option.map(url, (url) => ({ url, source: redisUrlVariable })))
    )
  )
}

/**
 * The limiter: `--rate` fixed or the default adaptive one, this process's own or (with a Redis)
 * shared by every worker calling `target` with the same key. A shared fixed rate is paced evenly
 * (a burst of 1): N workers at once would otherwise spend a burst N times faster than one does.
 */
export const limiterOf = (options: ServiceOptions, target: Target, redis: Option.Option<Redis>): Limiter =>
  Option.match(redis, {
    onNone: () =>
      options.rate === undefined
        ? ChimeRateLimiter.layerAdaptive()
        : ChimeRateLimiter.layerFixed({ rate: options.rate, burst: Math.max(1, Math.floor(options.rate)) }),
    onSome: ({ url }) =>
      // Loaded only when used: Redis's client would add to every start-up (measured: 1.3 s to 1.2 s for --version).
      Layer.unwrapEffect(Effect.map(Effect.promise(() => import("@chime-rooms/redis")), ({ RedisRateLimiter }) =>
        RedisRateLimiter.layer({
          url,
          endpoint: target.endpoint,
          ...(options.redisKey === undefined ? {} : { key: options.redisKey }),
          mode: options.rate === undefined ? { kind: "adaptive" } : { kind: "fixed", rate: options.rate, burst: 1 }
        })))
  })

/** A limiter that could not be built (nothing was sent): a URL that is not one is a usage error naming its source. */
export const isRedisUsageError = (
  error: ChimeError.ChimeError,
  redis: Option.Option<Redis>
): redis is Option.Some<Redis> =>
  error._tag === "RateLimiterError" && error.reason === "Configuration" && Option.isSome(redis)

/** A count for people: `20,000`. */
export const fmt = (n: number) => n.toLocaleString("en-US")

/** Seconds for people: `1.23 s`. */
export const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`

const rateText = (rate: number | undefined) => (rate === undefined ? "unlimited" : `${rate.toFixed(1)} req/s`)

/** The live progress line on a terminal's stderr. */
export const progressLine = (s: ChimeMetrics.StreamStats, elapsedMs: number) =>
  `pages ${fmt(s.pages)} · rooms ${fmt(s.rooms)} · ` +
  `${fmt(Math.round(s.rooms / Math.max(elapsedMs / 1000, 0.001)))} rooms/s · ` +
  `retries ${fmt(s.retries)} · throttles ${fmt(s.throttles)} · limiter ${rateText(s.currentRate)}`

/** What clears the progress line before a line of its own (nothing when stderr is not a terminal). */
export const clearLine = (io: Io) => (io.errIsTty ? "\r\u001b[K" : "")

/** The progress line every 150 ms while stderr is a terminal (never ends: interrupt it). */
export const progress = (
  io: Io,
  elapsed: Effect.Effect<number>
): Effect.Effect<never, never, ChimeMetrics.ChimeMetrics> =>
  io.errIsTty
    ? Effect.zipRight(
      Effect.repeat(
        Effect.flatMap(Effect.zip(ChimeMetrics.snapshot, elapsed), ([s, ms]) =>
          Effect.sync(() => io.err(`${clearLine(io)}${progressLine(s, ms)}`))),
        Schedule.spaced("150 millis")
      ),
      Effect.never
    )
    : Effect.never

/** `--account ID`, described for its command. */
export const accountOption = (description: string) => withHelp(Options.text("account"), "ID", description)
