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
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import { fromInput, makeCached } from "./internal/cachedCredentials.js"

/**
 * One set of AWS credentials. Secrets stay `Redacted` until the signer needs them.
 *
 * @category models
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
 * @category models
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
 * @category models
 * @since 0.1.0
 */
export type AwsCredentialsProvider = () => Promise<AwsSdkCredentials>

/**
 * Options for provider-backed credentials.
 *
 * @category models
 * @since 0.1.0
 */
export interface ProviderOptions {
  /**
   * Refresh this long before `expiration` (default 5 minutes, as the AWS SDK). A refresh that fails,
   * or brings credentials expiring sooner than this, is retried with backoff (see `internal/cachedCredentials.ts`).
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
 * @category models
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
  readonly unsafeCurrent?: ((now: number) => AwsCredentials | undefined) | undefined
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
 * @category tags
 * @since 0.1.0
 */
export class Credentials extends Context.Tag("@chime-rooms/http/Credentials")<
  Credentials,
  CredentialsService
>() {}

/**
 * The current credentials of whichever `Credentials` is provided.
 *
 * @category accessors
 * @since 0.1.0
 */
export const get: Effect.Effect<AwsCredentials, ChimeError.CredentialsError, Credentials> = /* @__PURE__ */ Effect
  .flatMap(
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
 *
 * @category layers
 * @since 0.1.0
 */
export const layerStatic = (credentials: {
  readonly accessKeyId: string
  readonly secretAccessKey: string | Redacted.Redacted<string>
  readonly sessionToken?: string | Redacted.Redacted<string> | undefined
}): Layer.Layer<Credentials> => {
  const fixed = fromInput(credentials)
  return Layer.succeed(Credentials, { get: Effect.succeed(fixed), unsafeCurrent: () => fixed })
}

/**
 * Credentials read once from `Config`; missing values make every `get` fail with a
 * `CredentialsError` naming the variables.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerConfig = (
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
            message: "No credentials in the environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must both be set",
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
        return { get: Effect.succeed(fixed), unsafeCurrent: () => fixed }
      }
    })
  )

/**
 * `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and optional `AWS_SESSION_TOKEN` via `Config`.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerEnv: Layer.Layer<Credentials> = /* @__PURE__ */ layerConfig()

/**
 * Any AWS-SDK-style async provider, cached and refreshed `refreshBefore` its `expiration`; one
 * provider call serves every concurrent request, and refreshes back off while the credentials
 * still work (see `internal/cachedCredentials.ts`).
 *
 * @category layers
 * @since 0.1.0
 */
export const layerProvider = (
  provider: AwsCredentialsProvider,
  options?: ProviderOptions
): Layer.Layer<Credentials> => Layer.effect(Credentials, makeCached(provider, options))

/**
 * Where the AWS default provider chain looks, in order.
 *
 * @category constants
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
