/**
 * Where `ListRooms` requests go and how they are signed: endpoint, signing region, per-attempt
 * timeout. Built from explicit values or from `Config` (the environment by default).
 *
 * Reading of the Chime endpoint rules: the `aws` partition is a global endpoint,
 * `https://chime.us-east-1.amazonaws.com`, signed for `us-east-1`, whatever `AWS_REGION` says.
 * Regions of the other partitions resolve to `https://chime.{region}.{dnsSuffix}` and are signed for
 * that region. `AWS_REGION` therefore only matters outside the `aws` partition. A custom endpoint
 * (`AWS_ENDPOINT_URL_CHIME` or `endpoint`) replaces the URL and keeps the signing region.
 *
 * @since 0.1.0
 */
import { Config, Duration, Option } from "effect"

/**
 * The resolved configuration of the HTTP `ChimeRooms`.
 *
 * @since 0.1.0
 */
export interface ChimeConfig {
  /** Base URL without a trailing slash, for example `https://chime.us-east-1.amazonaws.com`. */
  readonly endpoint: string
  /** SigV4 signing region (`us-east-1` unless configured or implied by a non-`aws` partition). */
  readonly signingRegion: string
  /** SigV4 signing name, always `chime`. */
  readonly signingName: string
  /** Time allowed for one attempt: connect, send, response head and body. */
  readonly timeout: Duration.Duration
  /** The largest response body read, in bytes; a larger one is refused as it streams in. */
  readonly maxResponseBytes: number
}

/**
 * What a caller may set; everything is optional.
 *
 * @since 0.1.0
 */
export interface ChimeConfigInput {
  /** A custom endpoint URL (overrides the one the region resolves to). */
  readonly endpoint?: string | undefined
  /** The client region (`AWS_REGION`); picks the partition. */
  readonly region?: string | undefined
  /** Overrides the signing region. */
  readonly signingRegion?: string | undefined
  /** Per-attempt timeout, default {@link defaultTimeout}. */
  readonly timeout?: Duration.DurationInput | undefined
  /** The largest response body read, in bytes, default {@link defaultMaxResponseBytes}. */
  readonly maxResponseBytes?: number | undefined
}

/**
 * The default endpoint: what the endpoint rules give for the `aws` partition.
 *
 * @since 0.1.0
 */
export const defaultEndpoint = "https://chime.us-east-1.amazonaws.com"

/**
 * The default signing region.
 *
 * @since 0.1.0
 */
export const defaultSigningRegion = "us-east-1"

/**
 * The default per-attempt timeout: 10 seconds.
 *
 * @since 0.1.0
 */
export const defaultTimeout: Duration.Duration = Duration.seconds(10)

/**
 * The default cap on a response body: 4 MiB. A page of 99 rooms is about 30 KB; a body larger
 * than this is refused with `ResponseDecodeError` (`TooLarge`) while it streams in, so that a
 * broken or hostile server cannot make the client buffer without bound.
 *
 * @since 0.1.0
 */
export const defaultMaxResponseBytes = 4 * 1024 * 1024

interface Partition {
  readonly id: string
  readonly pattern: RegExp
  readonly dnsSuffix: string
}

/** The partitions of the AWS endpoint rules, most specific first. */
const partitions: ReadonlyArray<Partition> = [
  { id: "aws-us-gov", pattern: /^us-gov-\w+-\d+$/, dnsSuffix: "amazonaws.com" },
  { id: "aws-iso", pattern: /^us-iso-\w+-\d+$/, dnsSuffix: "c2s.ic.gov" },
  { id: "aws-iso-b", pattern: /^us-isob-\w+-\d+$/, dnsSuffix: "sc2s.sgov.gov" },
  { id: "aws-iso-e", pattern: /^eu-isoe-\w+-\d+$/, dnsSuffix: "cloud.adc-e.uk" },
  { id: "aws-iso-f", pattern: /^us-isof-\w+-\d+$/, dnsSuffix: "csp.hci.ic.gov" },
  { id: "aws-cn", pattern: /^cn-\w+-\d+$/, dnsSuffix: "amazonaws.com.cn" },
  { id: "aws", pattern: /^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$/, dnsSuffix: "amazonaws.com" }
]

/**
 * The endpoint and signing region the rules give for a client region.
 *
 * @example
 * resolveEndpoint("eu-west-1")  // { endpoint: "https://chime.us-east-1.amazonaws.com", signingRegion: "us-east-1" }
 * resolveEndpoint("cn-north-1") // { endpoint: "https://chime.cn-north-1.amazonaws.com.cn", signingRegion: "cn-north-1" }
 * @since 0.1.0
 */
export const resolveEndpoint = (
  region: string | undefined
): { readonly endpoint: string; readonly signingRegion: string } => {
  if (region === undefined || region === "" || region === "aws-global") {
    return { endpoint: defaultEndpoint, signingRegion: defaultSigningRegion }
  }
  const partition = partitions.find((p) => p.pattern.test(region))
  if (partition === undefined || partition.id === "aws") {
    return { endpoint: defaultEndpoint, signingRegion: defaultSigningRegion }
  }
  return { endpoint: `https://chime.${region}.${partition.dnsSuffix}`, signingRegion: region }
}

const trimSlash = (url: string): string => (url.endsWith("/") ? url.replace(/\/+$/, "") : url)

/**
 * Resolves explicit settings to a {@link ChimeConfig}.
 *
 * @example
 * makeChimeConfig({ endpoint: "http://127.0.0.1:4566", timeout: "2 seconds" })
 * @since 0.1.0
 */
export const makeChimeConfig = (input: ChimeConfigInput = {}): ChimeConfig => {
  const resolved = resolveEndpoint(input.region)
  return {
    endpoint: trimSlash(input.endpoint ?? resolved.endpoint),
    signingRegion: input.signingRegion ?? resolved.signingRegion,
    signingName: "chime",
    timeout: input.timeout === undefined ? defaultTimeout : Duration.decode(input.timeout),
    maxResponseBytes: input.maxResponseBytes === undefined || !(input.maxResponseBytes > 0)
      ? defaultMaxResponseBytes
      : Math.floor(input.maxResponseBytes)
  }
}

/**
 * The settings from the environment: `AWS_ENDPOINT_URL_CHIME`, `AWS_REGION` (both optional).
 *
 * @since 0.1.0
 */
export const chimeConfigInput: Config.Config<ChimeConfigInput> = Config.all({
  endpoint: Config.option(Config.string("AWS_ENDPOINT_URL_CHIME")),
  region: Config.option(Config.string("AWS_REGION"))
}).pipe(
  Config.map(({ endpoint, region }) => ({
    endpoint: Option.getOrUndefined(endpoint),
    region: Option.getOrUndefined(region)
  }))
)
