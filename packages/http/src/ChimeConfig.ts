/**
 * Where `ListRooms` requests go and how they are signed: endpoint, signing region, per-attempt
 * timeout. Built from explicit values, from the environment, or from the environment and the
 * AWS shared config files, as the AWS SDK for JavaScript v3 reads them.
 *
 * The endpoint is what Chime's published endpoint rules give, evaluated over the AWS partitions
 * data, both generated from the AWS SDK (`internal/endpointRulesData.ts`): the `aws` partition is
 * one global endpoint, `https://chime.us-east-1.amazonaws.com`, signed for `us-east-1` whatever the
 * region; the regions of other partitions resolve to `https://chime.{region}.{dnsSuffix}` (FIPS:
 * `chime-fips.…`, dual-stack: `….{dualStackDnsSuffix}`) and are signed for that region. A custom
 * endpoint replaces the URL and is signed for the configured region (`us-east-1` when none is).
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { decide } from "./internal/endpointRules.js"
import { partitions, rules } from "./internal/endpointRulesData.js"
import { loadSharedConfigFiles } from "./internal/sharedConfigFiles.js"
import type { SharedConfigFiles } from "./internal/sharedConfigFiles.js"

/**
 * The resolved configuration of the HTTP `ChimeRooms`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ChimeConfig {
  /**
   * Base URL, for example `https://chime.us-east-1.amazonaws.com`: no trailing slash when the
   * path is the root, otherwise the endpoint's path as given (the request path is appended to it).
   */
  readonly endpoint: string
  /** SigV4 signing region: the rules' (`us-east-1` in the `aws` partition), else the region. */
  readonly signingRegion: string
  /** SigV4 signing name, `chime`. */
  readonly signingName: string
  /** Time allowed for one attempt: connect, send, response head and body. */
  readonly timeout: Duration.Duration
  /** The largest response body read, in bytes; a larger one is refused as it streams in. */
  readonly maxResponseBytes: number
}

/**
 * What a caller may set; everything is optional.
 *
 * @category models
 * @since 0.1.0
 */
export interface ChimeConfigInput {
  /** A custom endpoint URL (http or https): replaces the one the rules give. */
  readonly endpoint?: string | undefined
  /**
   * The client region (`AWS_REGION`): picks the partition, and signs a custom endpoint. Default
   * `us-east-1`. `fips-REGION` and `REGION-fips` mean `REGION` with FIPS, as in the AWS SDK.
   */
  readonly region?: string | undefined
  /** Use the FIPS endpoint (`AWS_USE_FIPS_ENDPOINT`). Default `false`. */
  readonly useFipsEndpoint?: boolean | undefined
  /** Use the dual-stack (IPv4 and IPv6) endpoint (`AWS_USE_DUALSTACK_ENDPOINT`). Default `false`. */
  readonly useDualstackEndpoint?: boolean | undefined
  /** Per-attempt timeout, default {@link defaultTimeout}. */
  readonly timeout?: Duration.DurationInput | undefined
  /** The largest response body read, in bytes, default {@link defaultMaxResponseBytes}. */
  readonly maxResponseBytes?: number | undefined
}

/**
 * Settings that lead to no endpoint, with the reason the AWS SDK would give:
 *
 * - `InvalidRegion`: the region is empty or not a host name label (`Region not accepted…`);
 * - `InvalidEndpoint`: the custom endpoint is not an http(s) URL;
 * - `Refused`: Chime's endpoint rules refuse the combination; `message` is theirs (FIPS or
 *   dual-stack with a custom endpoint, a partition without FIPS or dual-stack).
 *
 * @category errors
 * @since 0.1.0
 */
export class EndpointConfigError extends Schema.TaggedError<EndpointConfigError>()("EndpointConfigError", {
  reason: Schema.Literal("InvalidRegion", "InvalidEndpoint", "Refused"),
  message: Schema.String
}) {}

/**
 * The default endpoint: what the endpoint rules give for the `aws` partition.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultEndpoint = "https://chime.us-east-1.amazonaws.com"

/**
 * The region assumed when none is configured (the AWS SDK has none and refuses to resolve).
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultRegion = "us-east-1"

/**
 * The default signing region: the `aws` partition's.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultSigningRegion = "us-east-1"

/**
 * The default per-attempt timeout: 10 seconds.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultTimeout: Duration.Duration = Duration.seconds(10)

/**
 * The default cap on a response body: 4 MiB. A page of 99 rooms is about 30 KB; a body larger
 * than this is refused with `ResponseDecodeError` (`TooLarge`) while it streams in, so that a
 * broken or hostile server cannot make the client buffer without bound.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultMaxResponseBytes = 4 * 1024 * 1024

/** `isValidHostLabel` of `@smithy/core`, which the SDK's `checkRegion` applies. */
const HOST_LABEL = /^(?!.*-$)(?!-)[a-zA-Z0-9-]{1,63}$/

const isFipsRegion = (region: string) => region.startsWith("fips-") || region.endsWith("-fips")

/** `getRealRegion` of `@smithy/core`: the region a FIPS pseudo-region stands for. */
const realRegionOf = (region: string) =>
  !isFipsRegion(region)
    ? region
    : region === "fips-aws-global" || region === "aws-fips"
    ? "us-east-1"
    : region.replace(/fips-(dkr-|prod-)?|-fips/, "")

const refuse = (reason: EndpointConfigError["reason"], message: string) =>
  Either.left(new EndpointConfigError({ reason, message }))

/**
 * The `Endpoint` parameter the SDK passes to the rules for a custom endpoint: the URL rebuilt from
 * its protocol, host name, port and path (user info, query and fragment dropped). A string that is
 * not an http(s) URL is refused (the SDK refuses what `URL` cannot parse and takes any scheme).
 */
const endpointParam = (endpoint: string): Either.Either<string, EndpointConfigError> => {
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    return refuse("InvalidEndpoint", "the endpoint is not a URL")
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return refuse("InvalidEndpoint", `the endpoint must be an http or https URL, not ${url.protocol}`)
  }
  return Either.right(`${url.protocol}//${url.hostname}${url.port === "" ? "" : `:${url.port}`}${url.pathname}`)
}

/**
 * The endpoint and signing of a region and its options, by Chime's endpoint rules, with the AWS
 * SDK's handling of the region first (a FIPS pseudo-region, a region that is not a host label).
 *
 * @example
 * ```ts
 * import { ChimeConfig } from "@chime-rooms/http"
 *
 * ChimeConfig.resolveEndpoint({ region: "eu-west-1" })
 * // Right({ endpoint: "https://chime.us-east-1.amazonaws.com", signingRegion: "us-east-1", signingName: "chime" })
 * ChimeConfig.resolveEndpoint({ region: "cn-north-1", useDualstackEndpoint: true })
 * // Right({ endpoint: "https://chime.cn-north-1.api.amazonwebservices.com.cn", signingRegion: "cn-north-1", … })
 * ChimeConfig.resolveEndpoint({ endpoint: "http://127.0.0.1:4566", useFipsEndpoint: true })
 * // Left(EndpointConfigError: Invalid Configuration: FIPS and custom endpoint are not supported)
 * ```
 *
 * @category utils
 * @since 0.1.0
 */
export const resolveEndpoint = (
  input: Pick<ChimeConfigInput, "endpoint" | "region" | "useFipsEndpoint" | "useDualstackEndpoint"> = {}
): Either.Either<
  { readonly endpoint: string; readonly signingRegion: string; readonly signingName: string },
  EndpointConfigError
> => {
  const given = input.region ?? defaultRegion
  if (given === "") return refuse("InvalidRegion", "Region is missing")
  const region = realRegionOf(given)
  // As the SDK's `checkRegion`, which lets `*` through (with a warning about SigV4a).
  if (region !== "*" && !HOST_LABEL.test(region)) {
    return refuse(
      "InvalidRegion",
      `Region not accepted: region=${JSON.stringify(region)} is not a valid hostname component.`
    )
  }
  const custom = input.endpoint === undefined ? Either.right(undefined) : endpointParam(input.endpoint)
  if (Either.isLeft(custom)) return Either.left(custom.left)
  const outcome = decide(rules, partitions, {
    Region: region,
    UseFIPS: isFipsRegion(given) || input.useFipsEndpoint === true,
    UseDualStack: input.useDualstackEndpoint === true,
    Endpoint: custom.right
  })
  if (outcome._tag === "Error") return refuse("Refused", outcome.message)
  let url: URL
  try {
    url = new URL(outcome.url)
  } catch {
    return refuse("InvalidRegion", `the endpoint rules give no valid URL for region ${JSON.stringify(region)}`)
  }
  // The SDK signs with the rules' first auth scheme when they name one, else for the client's region.
  const schemes = outcome.properties["authSchemes"]
  const scheme = Array.isArray(schemes) ? (schemes[0] as { signingRegion?: unknown; signingName?: unknown }) : undefined
  return Either.right({
    endpoint: `${url.protocol}//${url.host}${url.pathname === "/" ? "" : url.pathname}`,
    signingRegion: typeof scheme?.signingRegion === "string" ? scheme.signingRegion : region,
    signingName: typeof scheme?.signingName === "string" ? scheme.signingName : "chime"
  })
}

/**
 * Resolves explicit settings to a {@link ChimeConfig}, or the reason there is no endpoint for them.
 *
 * @example
 * ```ts
 * import { ChimeConfig } from "@chime-rooms/http"
 *
 * ChimeConfig.make({ endpoint: "http://127.0.0.1:4566", region: "eu-west-1", timeout: "2 seconds" })
 * // Right({ endpoint: "http://127.0.0.1:4566", signingRegion: "eu-west-1", … })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (input: ChimeConfigInput = {}): Either.Either<ChimeConfig, EndpointConfigError> =>
  Either.map(resolveEndpoint(input), (resolved) => ({
    ...resolved,
    timeout: input.timeout === undefined ? defaultTimeout : Duration.decode(input.timeout),
    maxResponseBytes: input.maxResponseBytes === undefined || !(input.maxResponseBytes > 0)
      ? defaultMaxResponseBytes
      : Math.floor(input.maxResponseBytes)
  }))

/** The environment variables the settings are read from (with those that locate the shared files). */
const ENV_NAMES = [
  "AWS_REGION",
  "AWS_USE_FIPS_ENDPOINT",
  "AWS_USE_DUALSTACK_ENDPOINT",
  "AWS_ENDPOINT_URL_CHIME",
  "AWS_ENDPOINT_URL",
  "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
  "AWS_PROFILE",
  "AWS_CONFIG_FILE",
  "AWS_SHARED_CREDENTIALS_FILE",
  "HOME",
  "USERPROFILE",
  "HOMEPATH",
  "HOMEDRIVE"
] as const

type Env = { readonly [K in (typeof ENV_NAMES)[number]]?: string | undefined }

// Annotated pure (as below): a program that reads no configuration bundles none of this.
const rawEnv: Config.Config<Env> = /* @__PURE__ */ Config.map(
  Config.all(ENV_NAMES.map((name) => Config.option(Config.string(name)))),
  (values) => Object.fromEntries(ENV_NAMES.map((name, i) => [name, Option.getOrUndefined(values[i]!)]))
)

type Profile = { readonly [key: string]: string | undefined }

const noFiles: SharedConfigFiles = { configFile: {}, credentialsFile: {} }

/**
 * A boolean setting: the SDK's `booleanSelector` takes `"true"` and `"false"`, and silently skips
 * anything else to the next source (so `AWS_USE_FIPS_ENDPOINT=TRUE` does not use FIPS). We refuse
 * anything else instead; an empty value counts as unset.
 */
const booleanOf = (
  value: string | undefined,
  name: string,
  where: string
): Either.Either<boolean | undefined, ConfigError.ConfigError> =>
  value === undefined || value === ""
    ? Either.right(undefined)
    : value === "true"
    ? Either.right(true)
    : value === "false"
    ? Either.right(false)
    : Either.left(ConfigError.InvalidData([name], `${where} ${name} must be "true" or "false"`))

/** `getEndpointUrlConfig`'s reading of the profile: its `services` section's `chime`, else its own `endpoint_url`. */
const endpointFromFiles = (profile: Profile, files: SharedConfigFiles): string | undefined => {
  const services = profile["services"]
  if (services === undefined) return profile["endpoint_url"] || undefined
  const section = files.configFile[`services.${services}`]
  // A section the profile names but the file lacks: the SDK's error there only moves it past the files.
  if (section === undefined) return undefined
  return section["chime.endpoint_url"] || profile["endpoint_url"] || undefined
}

/**
 * The settings from the environment and the profile, with the AWS SDK's precedence: see
 * {@link loadInput}.
 */
const combine = (env: Env, files: SharedConfigFiles): Either.Either<ChimeConfigInput, ConfigError.ConfigError> =>
  Either.gen(function*() {
    const profileName = env.AWS_PROFILE || "default"
    const fromConfig: Profile = files.configFile[profileName] ?? {}
    const fromCredentials: Profile = files.credentialsFile[profileName] ?? {}
    // The region prefers the credentials file (`NODE_REGION_CONFIG_FILE_OPTIONS`); the rest the config file.
    const regionProfile: Profile = { ...fromConfig, ...fromCredentials }
    const profile: Profile = { ...fromCredentials, ...fromConfig }
    const where = `profile ${JSON.stringify(profileName)}:`
    const setting = (envName: keyof Env, key: string) =>
      Either.flatMap(
        booleanOf(env[envName], envName, "environment variable"),
        (fromEnv) => fromEnv !== undefined ? Either.right(fromEnv) : booleanOf(profile[key], key, where)
      )
    const useFipsEndpoint = yield* setting("AWS_USE_FIPS_ENDPOINT", "use_fips_endpoint")
    const useDualstackEndpoint = yield* setting("AWS_USE_DUALSTACK_ENDPOINT", "use_dualstack_endpoint")
    const ignore = yield* setting("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "ignore_configured_endpoint_urls")
    const region = env.AWS_REGION !== undefined ? env.AWS_REGION : regionProfile["region"]
    const endpoint = ignore === true
      ? undefined
      : env.AWS_ENDPOINT_URL_CHIME || env.AWS_ENDPOINT_URL || endpointFromFiles(profile, files)
    return { region, endpoint, useFipsEndpoint, useDualstackEndpoint }
  })

/**
 * The settings from the environment alone (no shared config files): `AWS_REGION`,
 * `AWS_USE_FIPS_ENDPOINT`, `AWS_USE_DUALSTACK_ENDPOINT`, and the endpoint from
 * `AWS_ENDPOINT_URL_CHIME`, else `AWS_ENDPOINT_URL`, unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`
 * is `true`. Read through `Config`, so any `ConfigProvider` can supply them.
 *
 * @category config
 * @since 0.1.0
 */
export const inputFromEnv: Config.Config<ChimeConfigInput> = /* @__PURE__ */ Config.mapOrFail(
  rawEnv,
  (env) => combine(env, noFiles)
)

/**
 * The settings as the AWS SDK for JavaScript v3 reads them: each from the environment first, then
 * from the profile (`AWS_PROFILE`, else `default`) of the shared config file (`AWS_CONFIG_FILE`,
 * else `~/.aws/config`) and credentials file (`AWS_SHARED_CREDENTIALS_FILE`, else
 * `~/.aws/credentials`).
 *
 * - region: `AWS_REGION`, else the profile's `region` (the credentials file's first);
 * - FIPS: `AWS_USE_FIPS_ENDPOINT`, else `use_fips_endpoint`; dual-stack: `AWS_USE_DUALSTACK_ENDPOINT`,
 *   else `use_dualstack_endpoint` (`true` or `false`; anything else is a `ConfigError`);
 * - endpoint: `AWS_ENDPOINT_URL_CHIME`, else `AWS_ENDPOINT_URL`, else the `chime` `endpoint_url` of the
 *   `[services NAME]` section the profile names in `services`, else the profile's `endpoint_url`;
 *   none of them when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` (else `ignore_configured_endpoint_urls`)
 *   is `true`.
 *
 * The environment is read through `Config` (so a `ConfigProvider` can supply it); the files from
 * the file system, a missing or unreadable one counting as empty.
 *
 * @category config
 * @since 0.1.0
 */
export const loadInput: Effect.Effect<ChimeConfigInput, ConfigError.ConfigError> = /* @__PURE__ */ Effect.flatMap(
  rawEnv,
  (env) => Effect.flatMap(loadSharedConfigFiles(env), (files) => combine(env, files))
)
