/**
 * AWS credentials as a service: static values, the environment through `Config`, or any
 * AWS-SDK-style async provider (the AWS default provider chain is `CredentialsChain.layer`, a
 * module of its own). Temporary credentials are cached and refreshed before they expire;
 * concurrent callers share one refresh, and a refresh that brings nothing better is retried with
 * backoff while the credentials still work.
 *
 * @since 0.1.0
 */
import { ChimeError } from "@chime-rooms/core"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"

/**
 * One set of AWS credentials. Secrets stay `Redacted` until the signer needs them.
 *
 * @since 0.1.0
 */
export interface AwsCredentials {
  readonly accessKeyId: string
  readonly secretAccessKey: Redacted.Redacted<string>
  readonly sessionToken?: Redacted.Redacted<string> | undefined
  /** When temporary credentials stop working. */
  readonly expiration?: Date | undefined
}

/**
 * Credentials as AWS SDK providers return them (plain strings).
 *
 * @since 0.1.0
 */
export interface AwsSdkCredentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string | undefined
  readonly expiration?: Date | undefined
}

/**
 * An AWS-SDK-style credentials provider: `fromNodeProviderChain()`, `fromIni()`, `fromTemporaryCredentials()`...
 *
 * @since 0.1.0
 */
export type AwsCredentialsProvider = () => Promise<AwsSdkCredentials>

/**
 * Options for provider-backed credentials.
 *
 * @since 0.1.0
 */
export interface ProviderOptions {
  /**
   * Refresh this long before `expiration` (default 5 minutes, as the AWS SDK). A refresh that fails,
   * or brings credentials expiring sooner than this, is retried with backoff (see `makeCached`).
   */
  readonly refreshBefore?: Duration.DurationInput | undefined
  /** Where the provider looks, for the `CredentialsError` it fails with. */
  readonly sources?: ReadonlyArray<string> | undefined
}

const envSource = "environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)"

const envConfig = Config.all({
  accessKeyId: Config.string("AWS_ACCESS_KEY_ID"),
  secretAccessKey: Config.redacted("AWS_SECRET_ACCESS_KEY"),
  sessionToken: Config.option(Config.redacted("AWS_SESSION_TOKEN"))
})

/**
 * What a `Credentials` layer provides.
 *
 * @since 0.1.0
 */
export interface CredentialsService {
  /** The current credentials, refreshed first when due. */
  readonly get: Effect.Effect<AwsCredentials, ChimeError.CredentialsError>
  /**
   * The credentials at `now` (epoch millis) when they are at hand without waiting: fixed ones, or
   * cached ones not yet due for refresh; `undefined` otherwise (then use `get`). Optional: lets
   * `HttpChimeRooms` sign without an effect on its fast path.
   */
  readonly current?: ((now: number) => AwsCredentials | undefined) | undefined
}

/**
 * The credentials service.
 *
 * @example
 * ```ts
 * import { Credentials } from "@chime-rooms/http"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const creds = yield* Credentials.get
 *   return creds.accessKeyId
 * })
 * ```
 *
 * @since 0.1.0
 */
export class Credentials extends Context.Tag("@chime-rooms/http/Credentials")<
  Credentials,
  CredentialsService
>() {
  /** The current credentials of whichever `Credentials` is provided. */
  static readonly get: Effect.Effect<AwsCredentials, ChimeError.CredentialsError, Credentials> = Effect.flatMap(
    Credentials,
    (c) => c.get
  )

  /**
   * Fixed credentials.
   *
   * @example
   * ```ts
   * import { Credentials } from "@chime-rooms/http"
   * import { Redacted } from "effect"
   *
   * Credentials.layerStatic({ accessKeyId: "AKID", secretAccessKey: Redacted.make("secret") })
   * ```
   */
  static readonly layerStatic = (credentials: {
    readonly accessKeyId: string
    readonly secretAccessKey: string | Redacted.Redacted<string>
    readonly sessionToken?: string | Redacted.Redacted<string> | undefined
  }): Layer.Layer<Credentials> => {
    const fixed = fromInput(credentials)
    return Layer.succeed(Credentials, { get: Effect.succeed(fixed), current: () => fixed })
  }

  /**
   * Credentials read once from `Config`; missing values make every `get` fail with a
   * `CredentialsError` naming the variables.
   */
  static readonly layerConfig = (
    config: Config.Config<{
      readonly accessKeyId: string
      readonly secretAccessKey: Redacted.Redacted<string>
      readonly sessionToken: Option.Option<Redacted.Redacted<string>>
    }> = envConfig
  ): Layer.Layer<Credentials> =>
    Layer.effect(
      Credentials,
      Effect.match(config, {
        onFailure: () => ({
          get: Effect.fail(
            new ChimeError.CredentialsError({
              message:
                "No credentials in the environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must both be set",
              sources: [envSource]
            })
          )
        }),
        onSuccess: (c): CredentialsService => {
          const fixed: AwsCredentials = {
            accessKeyId: c.accessKeyId,
            secretAccessKey: c.secretAccessKey,
            ...(Option.isSome(c.sessionToken) ? { sessionToken: c.sessionToken.value } : {})
          }
          return { get: Effect.succeed(fixed), current: () => fixed }
        }
      })
    )

  /** `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and optional `AWS_SESSION_TOKEN` via `Config`. */
  static readonly layerEnv: Layer.Layer<Credentials> = Credentials.layerConfig()

  /**
   * Any AWS-SDK-style async provider, cached and refreshed `refreshBefore` its `expiration`; one
   * provider call serves every concurrent request, and refreshes back off while the credentials
   * still work (see `makeCached`).
   */
  static readonly layerProvider = (
    provider: AwsCredentialsProvider,
    options?: ProviderOptions
  ): Layer.Layer<Credentials> => Layer.effect(Credentials, makeCached(provider, options))
}


/**
 * Where the AWS default provider chain looks, in order.
 *
 * @since 0.1.0
 */
export const defaultChainSources: ReadonlyArray<string> = [
  envSource,
  "SSO (AWS_PROFILE, ~/.aws/config)",
  "shared credentials and config files (~/.aws/credentials, ~/.aws/config)",
  "process credentials (credential_process)",
  "web identity token (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN)",
  "container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI)",
  "EC2 instance metadata (IMDS)"
]


const redact = (s: string | Redacted.Redacted<string>): Redacted.Redacted<string> =>
  typeof s === "string" ? Redacted.make(s) : s

const fromInput = (c: {
  readonly accessKeyId: string
  readonly secretAccessKey: string | Redacted.Redacted<string>
  readonly sessionToken?: string | Redacted.Redacted<string> | undefined
  readonly expiration?: Date | undefined
}): AwsCredentials => ({
  accessKeyId: c.accessKeyId,
  secretAccessKey: redact(c.secretAccessKey),
  ...(c.sessionToken !== undefined && c.sessionToken !== "" ? { sessionToken: redact(c.sessionToken) } : {}),
  ...(c.expiration !== undefined ? { expiration: c.expiration } : {})
})

interface Cached {
  readonly credentials: AwsCredentials
  /** Epoch millis after which the next refresh is due; `Infinity` for long-term credentials. */
  readonly refreshAt: number
  /** Epoch millis after which the credentials no longer work. */
  readonly expiresAt: number
  /** Refreshes in a row that failed or brought credentials already inside the refresh window. */
  readonly misses: number
}

/** What one call of the provider brought: usable credentials, or why not (already scrubbed). */
type Loaded = { readonly credentials: AwsCredentials; readonly expiresAt: number } | { readonly reason: string }

/** Only the error's kind and a scrubbed start of its message: providers may quote file contents. */
const describe = (cause: unknown): string => {
  if (cause instanceof Error) {
    return `${cause.name}: ${ChimeError.safeExcerpt(cause.message, 200)}`
  }
  return "the provider failed"
}

/** The wait before the first retry of a refresh that brought nothing better. */
const backoffStartMillis = 1_000
/** The longest wait between refresh attempts while the current credentials still work. */
const backoffCapMillis = 10_000

const backoffMillis = (misses: number): number =>
  Math.min(backoffStartMillis * 2 ** Math.max(0, misses - 1), backoffCapMillis)

/**
 * Wraps a provider. A refresh is due `refreshBefore` before `expiration`; callers that arrive while
 * one runs wait for it and share its outcome (credentials or `CredentialsError`), so the provider
 * is called once however many requests need it.
 *
 * When a refresh fails, or brings credentials already inside the refresh window, whatever still
 * works is used (the old credentials, or the new ones) and the next attempt backs off: 1 second,
 * doubling to a cap of 10 seconds, and never later than the credentials' expiry. These are the AWS
 * SDK for Java v2's numbers (its `CachedSupplier` asks again 1 second after a value that came back
 * stale, and backs repeated failures off exponentially to at most 10 seconds); the JavaScript SDK's
 * `memoize` has no backoff and calls the provider again on every request inside the window. There
 * is no jitter: each process's attempts follow its own requests. A provider that brings credentials
 * outside the window again resets the backoff. Once the credentials have expired, a failed refresh is a
 * `CredentialsError` naming `sources`, with the provider's error scrubbed; credentials that come
 * back already expired count as a failed refresh.
 *
 * Expiry and backoff are both measured on `Clock.currentTimeMillis`, the wall clock: `expiration`
 * is a wall-clock instant, and a backoff of seconds needs no monotonic clock (a clock stepped back
 * delays the next attempt as it delays the expiry, which still bounds it).
 *
 * `current(now)` returns the credentials exactly when `get` would return them without calling the
 * provider, so a synchronous fast path backs off with it.
 *
 * @since 0.1.0
 */
export const makeCached = (
  provider: AwsCredentialsProvider,
  options?: ProviderOptions
): Effect.Effect<CredentialsService> =>
  Effect.sync(() => {
    const refreshBefore = Duration.toMillis(Duration.decode(options?.refreshBefore ?? Duration.minutes(5)))
    const sources = options?.sources ?? ["credentials provider"]
    let state: Cached | undefined
    // The refresh under way; `undefined` in it means its fiber was interrupted: ask again.
    let pending: Deferred.Deferred<AwsCredentials | undefined, ChimeError.CredentialsError> | undefined

    const load: Effect.Effect<Loaded> = Effect.tryPromise(() => provider()).pipe(
      Effect.match({
        onFailure: (error): Loaded => ({ reason: describe(error.error) }),
        onSuccess: (raw): Loaded => {
          if (
            typeof raw !== "object" || raw === null || typeof raw.accessKeyId !== "string" ||
            typeof raw.secretAccessKey !== "string" || raw.accessKeyId === "" || raw.secretAccessKey === ""
          ) {
            return { reason: "the provider returned no access key id or secret access key" }
          }
          const expiresAt = raw.expiration instanceof Date ? raw.expiration.getTime() : Infinity
          return { credentials: fromInput(raw), expiresAt }
        }
      })
    )

    /** The next state and the refresh's outcome, from what the provider brought at `now`. */
    const settle = (
      previous: Cached | undefined,
      loaded: Loaded,
      now: number
    ): readonly [Cached | undefined, Exit.Exit<AwsCredentials, ChimeError.CredentialsError>] => {
      if ("credentials" in loaded && now < loaded.expiresAt) {
        const refreshAt = loaded.expiresAt - refreshBefore
        const next: Cached = now < refreshAt
          ? { credentials: loaded.credentials, expiresAt: loaded.expiresAt, refreshAt, misses: 0 }
          : backedOff(loaded.credentials, loaded.expiresAt, previous, now)
        return [next, Exit.succeed(next.credentials)]
      }
      const reason = "reason" in loaded ? loaded.reason : "the provider returned credentials that had already expired"
      if (previous !== undefined && now < previous.expiresAt) {
        return [backedOff(previous.credentials, previous.expiresAt, previous, now), Exit.succeed(previous.credentials)]
      }
      const message = previous === undefined
        ? `Could not load AWS credentials: ${reason}`
        : `The AWS credentials expired and the refresh failed: ${reason}`
      return [previous, Exit.fail(new ChimeError.CredentialsError({ message, sources: [...sources] }))]
    }

    const backedOff = (
      credentials: AwsCredentials,
      expiresAt: number,
      previous: Cached | undefined,
      now: number
    ): Cached => {
      const misses = (previous?.misses ?? 0) + 1
      return { credentials, expiresAt, refreshAt: Math.min(now + backoffMillis(misses), expiresAt), misses }
    }

    const refresh = (): Effect.Effect<AwsCredentials, ChimeError.CredentialsError> => {
      if (pending !== undefined) {
        return Effect.flatMap(Deferred.await(pending), (c) => (c === undefined ? get : Effect.succeed(c)))
      }
      const deferred = Deferred.unsafeMake<AwsCredentials | undefined, ChimeError.CredentialsError>(FiberId.none)
      pending = deferred
      return Effect.flatMap(load, (loaded) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          const [next, exit] = settle(state, loaded, now)
          state = next
          pending = undefined
          Deferred.unsafeDone(deferred, exit)
          return exit
        })).pipe(
          // The provider's promise cannot be cancelled; the callers waiting on it start afresh.
          Effect.onInterrupt(() =>
            Effect.sync(() => {
              if (pending === deferred) pending = undefined
              Deferred.unsafeDone(deferred, Exit.succeed(undefined))
            })
          )
        )
    }

    const get: Effect.Effect<AwsCredentials, ChimeError.CredentialsError> = Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const cached = state
      return cached !== undefined && now < cached.refreshAt ? Effect.succeed(cached.credentials) : refresh()
    })

    const current = (now: number): AwsCredentials | undefined => {
      const cached = state
      return cached !== undefined && now < cached.refreshAt ? cached.credentials : undefined
    }

    return { get, current }
  })
