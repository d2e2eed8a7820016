/**
 * AWS credentials as a service: static values, the environment through `Config`, the AWS default
 * provider chain, or any AWS-SDK-style async provider. Temporary credentials are cached and
 * refreshed before they expire; concurrent callers share one refresh.
 *
 * @since 0.1.0
 */
import { CredentialsError, safeExcerpt } from "@chime-rooms/core"
import { Clock, Config, Context, Duration, Effect, Layer, Option, Redacted, SynchronizedRef } from "effect"

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
  /** Refresh this long before `expiration` (default 5 minutes). */
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
  readonly get: Effect.Effect<AwsCredentials, CredentialsError>
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
 * const creds = yield* Credentials.get
 * @since 0.1.0
 */
export class Credentials extends Context.Tag("@chime-rooms/http/Credentials")<
  Credentials,
  CredentialsService
>() {
  /** The current credentials of whichever `Credentials` is provided. */
  static readonly get: Effect.Effect<AwsCredentials, CredentialsError, Credentials> = Effect.flatMap(
    Credentials,
    (c) => c.get
  )

  /**
   * Fixed credentials.
   *
   * @example
   * Credentials.layerStatic({ accessKeyId: "AKID", secretAccessKey: Redacted.make("secret") })
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
            new CredentialsError({
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

  /** Any AWS-SDK-style async provider, cached and refreshed before expiry. */
  static readonly layerProvider = (
    provider: AwsCredentialsProvider,
    options?: ProviderOptions
  ): Layer.Layer<Credentials> => Layer.effect(Credentials, makeCached(provider, options))

  /**
   * The AWS default provider chain (`fromNodeProviderChain` of `@aws-sdk/credential-providers`):
   * environment, SSO and shared config/credentials files (`AWS_PROFILE`), web identity, ECS/EKS
   * container credentials, EC2 instance metadata.
   */
  static readonly layerDefaultChain = (
    options?: Record<string, unknown> & ProviderOptions
  ): Layer.Layer<Credentials> =>
    Layer.effect(
      Credentials,
      Effect.flatMap(
        // Loaded on demand: the chain pulls in the SDK's config loaders, unneeded elsewhere.
        Effect.promise(() => import("@aws-sdk/credential-providers")),
        (sdk) => {
          let chain: AwsCredentialsProvider | undefined
          const provider: AwsCredentialsProvider = () => {
            chain ??= sdk.fromNodeProviderChain(options as Parameters<typeof sdk.fromNodeProviderChain>[0]) as AwsCredentialsProvider
            return chain()
          }
          return makeCached(provider, { sources: defaultChainSources, ...options })
        }
      )
    )
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
  /** Epoch millis after which a refresh is due; `Infinity` for long-term credentials. */
  readonly refreshAt: number
  /** Epoch millis after which the credentials no longer work. */
  readonly expiresAt: number
}

/** Only the error's kind and a scrubbed start of its message: providers may quote file contents. */
const describe = (cause: unknown): string => {
  if (cause instanceof Error) {
    return `${cause.name}: ${safeExcerpt(cause.message, 200)}`
  }
  return "the provider failed"
}

/**
 * Wraps a provider: the fast path reads a ref; a due refresh runs under the ref's lock, so callers
 * that arrive during it wait for it and reuse its result instead of calling the provider again.
 *
 * @since 0.1.0
 */
export const makeCached = (
  provider: AwsCredentialsProvider,
  options?: ProviderOptions
): Effect.Effect<CredentialsService> =>
  Effect.gen(function*() {
    const refreshBefore = Duration.toMillis(Duration.decode(options?.refreshBefore ?? Duration.minutes(5)))
    const sources = options?.sources ?? ["credentials provider"]
    const ref = yield* SynchronizedRef.make<Cached | undefined>(undefined)
    // The ref's value, readable without an effect (for `current`).
    let latest: Cached | undefined

    const fetch = (now: number, previous: Cached | undefined) =>
      Effect.tryPromise({
        try: () => provider(),
        catch: (cause) =>
          new CredentialsError({ message: `Could not load AWS credentials: ${describe(cause)}`, sources: [...sources] })
      }).pipe(
        Effect.flatMap((raw) => {
          if (
            typeof raw !== "object" || raw === null || typeof raw.accessKeyId !== "string" ||
            typeof raw.secretAccessKey !== "string" || raw.accessKeyId === "" || raw.secretAccessKey === ""
          ) {
            return Effect.fail(
              new CredentialsError({
                message: "The credentials provider returned no access key id or secret access key",
                sources: [...sources]
              })
            )
          }
          const credentials = fromInput(raw)
          const expiresAt = raw.expiration instanceof Date ? raw.expiration.getTime() : Infinity
          return Effect.succeed<Cached>({ credentials, expiresAt, refreshAt: expiresAt - refreshBefore })
        }),
        // A failed refresh while the old credentials still work keeps them for now.
        Effect.catchAll((error) =>
          previous !== undefined && now < previous.expiresAt ? Effect.succeed(previous) : Effect.fail(error)
        )
      )

    const refresh = SynchronizedRef.modifyEffect(ref, (current) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        if (current !== undefined && now < current.refreshAt) {
          return Effect.succeed([current.credentials, current] as const)
        }
        return Effect.map(fetch(now, current), (next) => {
          latest = next
          return [next.credentials, next] as const
        })
      }))

    const get = Effect.flatMap(SynchronizedRef.get(ref), (current) =>
      current === undefined
        ? refresh
        : Effect.flatMap(Clock.currentTimeMillis, (now) => (now < current.refreshAt ? Effect.succeed(current.credentials) : refresh)))

    const current = (now: number): AwsCredentials | undefined =>
      latest !== undefined && now < latest.refreshAt ? latest.credentials : undefined

    return { get, current }
  })
