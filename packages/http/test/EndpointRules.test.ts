/**
 * Endpoints as the AWS SDK resolves them: our generated rules data against the SDK's, and every
 * region of the partitions data × FIPS × dual-stack × custom endpoint through the SDK's own
 * resolver and client, and through ours.
 */
import { ChimeClient, ListRoomsCommand } from "@aws-sdk/client-chime"
import { ChimeConfig } from "@chime-rooms/http"
import { describe, expect, it, onTestFinished, vi } from "@effect/vitest"
import { Either } from "effect"
import { createRequire } from "node:module"
import { join } from "node:path"
import { decide, type RuleSet } from "../src/internal/endpointRules.js"
import { partitions, rules } from "../src/internal/endpointRulesData.js"
import {
  chimeClientDir,
  generateRulesData,
  loadSdkPartitions,
  loadSdkRules,
  type SdkPartition,
  toPartitions,
  toRuleSet
} from "./endpointRulesSource.js"

// The SDK warns about Node 20 on every client; the warning says nothing about these tests.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true"

const sdkRequire = createRequire(join(chimeClientDir, "package.json"))
/** The SDK's evaluator and partition switch, the very instances its client uses. */
const smithyEndpoints = sdkRequire("@smithy/core/endpoints") as {
  decideEndpoint: (bdd: unknown, options: { endpointParams: Record<string, unknown> }) => SdkEndpoint
}
const awsClient = sdkRequire("@aws-sdk/core/client") as {
  setPartitionInfo: (info: { partitions: ReadonlyArray<SdkPartition> }) => void
  useDefaultPartitionInfo: () => void
}

interface SdkEndpoint {
  readonly url: URL
  readonly properties?: { readonly authSchemes?: ReadonlyArray<{ signingRegion?: string; signingName?: string }> }
}

interface Params {
  readonly Region: string
  readonly UseFIPS: boolean
  readonly UseDualStack: boolean
  readonly Endpoint?: string | undefined
}

/** The function `ChimeClient` resolves endpoints with: `defaultEndpointResolver` of its `endpoint/endpointResolver`. */
const sdkResolver = new ChimeClient({ region: "us-east-1" }).config.endpointProvider as unknown as (
  params: Params
) => SdkEndpoint

type Outcome =
  | { readonly url: string; readonly signingRegion: string; readonly signingName: string }
  | { readonly refused: string }

/** What the SDK makes of an endpoint: its URL, and the signing its middleware takes from it. */
const sdkOutcome = (resolve: (params: Params) => SdkEndpoint, params: Params): Outcome => {
  try {
    const endpoint = resolve(params)
    const scheme = endpoint.properties?.authSchemes?.[0]
    return {
      url: endpoint.url.href,
      signingRegion: scheme?.signingRegion ?? params.Region,
      signingName: scheme?.signingName ?? "chime"
    }
  } catch (error) {
    return { refused: (error as Error).message }
  }
}

const ourOutcome = (params: Params): Outcome =>
  Either.match(
    ChimeConfig.resolveEndpoint({
      region: params.Region,
      useFipsEndpoint: params.UseFIPS,
      useDualstackEndpoint: params.UseDualStack,
      endpoint: params.Endpoint
    }),
    {
      onLeft: (error) => ({ refused: error.message }),
      onRight: (r) => ({ url: new URL(r.endpoint).href, signingRegion: r.signingRegion, signingName: r.signingName })
    }
  )

/**
 * Every region the partitions data names, and for each partition regions only its regex knows
 * (an explicit name with its number raised), and names no partition claims.
 */
const regionsOf = (partitions: ReadonlyArray<SdkPartition>): ReadonlyArray<string> => {
  const named = partitions.flatMap((p) => Object.keys(p.regions))
  const examples = partitions.flatMap((p) =>
    Object.keys(p.regions).flatMap((name) => {
      const match = /^(.*-)(\d+)$/.exec(name)
      if (match === null) return []
      const example = `${match[1]}${Number(match[2]) + 97}`
      return new RegExp(p.regionRegex).test(example) && !named.includes(example) ? [example] : []
    })
  )
  return [...new Set([...named, ...examples, "local", "moon-base-1", "xx-yy-1", "us-gov-1", "cn-1", "eusc-fr-east-1"])]
}

/** Custom endpoints as the client hands them to the rules (URL rebuilt from protocol, host, port, path). */
const customEndpoints = [
  undefined,
  "https://chime.example.test/",
  "http://127.0.0.1:4566/base/path",
  "http://[::1]:8080/"
]

const matrix = (regions: ReadonlyArray<string>): ReadonlyArray<Params> =>
  regions.flatMap((Region) =>
    [false, true].flatMap((UseFIPS) =>
      [false, true].flatMap((UseDualStack) =>
        customEndpoints.map((Endpoint) => ({ Region, UseFIPS, UseDualStack, Endpoint }))
      )
    )
  )

/** Each disagreement, with its case: an empty list when all agree. */
const disagreements = (cases: ReadonlyArray<Params>, sdk: (p: Params) => Outcome, ours: (p: Params) => Outcome) =>
  cases.flatMap((params) => {
    const expected = sdk(params)
    const actual = ours(params)
    return JSON.stringify(expected) === JSON.stringify(actual) ? [] : [{ params, sdk: expected, ours: actual }]
  })

describe("the endpoint rules data", () => {
  it("is what the installed AWS SDK holds (pnpm generate:endpoints writes it again)", async () => {
    const text = generateRulesData(toRuleSet(await loadSdkRules()), toPartitions(await loadSdkPartitions()))
    await expect(text).toMatchFileSnapshot("../src/internal/endpointRulesData.ts")
  })
})

describe("endpoints: every region of the partitions data × FIPS × dual-stack × custom endpoint", () => {
  it("the SDK's defaultEndpointResolver and resolveEndpoint agree: URL, signing region and name, refusals", async () => {
    const regions = regionsOf(await loadSdkPartitions())
    const cases = matrix(regions)
    expect(regions).toEqual(
      expect.arrayContaining(["aws-global", "aws-us-gov-global", "aws-cn-global", "aws-iso-global", "eusc-de-east-1"])
    )
    expect(disagreements(cases, (p) => sdkOutcome(sdkResolver, p), ourOutcome)).toEqual([])
    // The matrix reaches every kind of outcome the partitions data allows today.
    const outcomes = cases.map(ourOutcome)
    const refusals = new Set(outcomes.flatMap((o) => ("refused" in o ? [o.refused] : [])))
    expect([...refusals].sort()).toEqual([
      "Invalid Configuration: Dualstack and custom endpoint are not supported",
      "Invalid Configuration: FIPS and custom endpoint are not supported"
    ])
    const urls = outcomes.flatMap((o) => ("url" in o ? [o.url] : []))
    for (
      const url of [
        "https://chime.us-east-1.amazonaws.com/",
        "https://chime-fips.us-east-1.api.aws/",
        "https://chime.cn-north-1.api.amazonwebservices.com.cn/",
        "https://chime-fips.us-gov-west-1.amazonaws.com/",
        "https://chime.eusc-de-east-1.amazonaws.eu/",
        "https://chime.aws-us-gov-global.amazonaws.com/",
        "http://127.0.0.1:4566/base/path"
      ]
    ) expect(urls).toContain(url)
  })

  it("with partitions that lack FIPS or dual-stack, the SDK's evaluator and ours refuse alike", async () => {
    const sdkPartitions = await loadSdkPartitions()
    // Today every partition has both; the rules' refusals for those that lack one must still agree.
    const variant = sdkPartitions.map((p, i) => ({
      ...p,
      outputs: { ...p.outputs, supportsFIPS: i % 3 !== 1, supportsDualStack: i % 3 !== 2 && i !== 0 }
    }))
    const bdd = await loadSdkRules()
    const ours = toPartitions(variant)
    const cases = matrix(regionsOf(sdkPartitions))
    awsClient.setPartitionInfo({ partitions: variant })
    try {
      const found = disagreements(
        cases,
        (p) => sdkOutcome((params) => smithyEndpoints.decideEndpoint(bdd, { endpointParams: { ...params } }), p),
        (p) => {
          const outcome = decide(rules, ours, p)
          if (outcome._tag === "Error") return { refused: outcome.message }
          const scheme = (outcome.properties as SdkEndpoint["properties"])?.authSchemes?.[0]
          return {
            url: new URL(outcome.url).href,
            signingRegion: scheme?.signingRegion ?? p.Region,
            signingName: scheme?.signingName ?? "chime"
          }
        }
      )
      expect(found).toEqual([])
    } finally {
      awsClient.useDefaultPartitionInfo()
    }
    const refusals = new Set(cases.flatMap((p) => {
      const o = decide(rules, ours, p)
      return o._tag === "Error" ? [o.message] : []
    }))
    expect(refusals).toEqual(
      new Set([
        "Invalid Configuration: FIPS and custom endpoint are not supported",
        "Invalid Configuration: Dualstack and custom endpoint are not supported",
        "FIPS and DualStack are enabled, but this partition does not support one or both",
        "FIPS is enabled but this partition does not support FIPS",
        "DualStack is enabled but this partition does not support DualStack"
      ])
    )
  })
})

describe("the diagram walk", () => {
  it("follows inverted references and templated refusals as the SDK's decideEndpoint does", () => {
    // Chime's diagram has no inverted reference today; a small one that has them, walked by both.
    const R = 100_000_000
    const conditions = [
      ["isSet", [{ ref: "Endpoint" }]],
      ["booleanEquals", [{ ref: "UseFIPS" }, true]],
      ["aws.partition", [{ ref: "Region" }], "P"]
    ] as const
    const results = [
      [-1],
      ["https://a.{Region}.{P#dnsSuffix}", { authSchemes: [{ signingRegion: "{P#implicitGlobalRegion}" }] }],
      ["{Endpoint}", {}],
      [-1, "refused {Region} in {P#name}"]
    ] as const
    const shapes = [
      { root: 2, nodes: [-1, 1, -1, 0, -3, R + 1, 1, R + 2, 4, 2, R + 3, -1] },
      { root: -2, nodes: [-1, 1, -1, 0, -3, R + 1, 1, R + 2, -4, 2, R + 3, 1] },
      { root: 4, nodes: [-1, 1, -1, 0, R + 2, 3, 1, -1, R + 1, 2, -3, R + 3] }
    ]
    // The SDK logs the URL it could not build before throwing; the outcome is compared below.
    const quiet = vi.spyOn(console, "error").mockImplementation(() => {})
    onTestFinished(() => quiet.mockRestore())
    for (const shape of shapes) {
      const bdd = { ...shape, conditions, results }
      for (const p of matrix(["eu-west-1", "cn-north-1", "us-iso-east-1"])) {
        const sdk = sdkOutcome(
          (params) =>
            smithyEndpoints.decideEndpoint({ ...bdd, nodes: Int32Array.from(bdd.nodes) }, {
              endpointParams: { ...params }
            }),
          p
        )
        const outcome = decide(bdd as unknown as RuleSet, partitions, p)
        const scheme = outcome._tag === "Endpoint"
          ? (outcome.properties as SdkEndpoint["properties"])?.authSchemes?.[0]
          : undefined
        const ours: Outcome = outcome._tag === "Error"
          ? { refused: outcome.message }
          : !URL.canParse(outcome.url)
          ? { refused: "Invalid URL" }
          : {
            url: new URL(outcome.url).href,
            signingRegion: scheme?.signingRegion ?? p.Region,
            signingName: scheme?.signingName ?? "chime"
          }
        expect(ours, JSON.stringify({ shape, p })).toEqual(sdk)
      }
    }
  })
})

/** The request a `ChimeClient` would send, caught by its request handler: nothing leaves the process. */
interface Caught {
  readonly url: string
  readonly scope: string
}

const CAUGHT = "caught by the test's request handler"

/** Sends one `ListRooms` through a `ChimeClient` configured with `config`; its URL and credential scope, or its refusal. */
const sdkSend = async (config: Record<string, unknown>): Promise<Caught | { readonly refused: true }> => {
  let caught: Caught | undefined
  try {
    const client = new ChimeClient({
      ...config,
      maxAttempts: 1,
      ignoreConfiguredEndpointUrls: true,
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "not-a-secret" },
      requestHandler: {
        handle: async (request: {
          protocol: string
          hostname: string
          port?: number
          path: string
          headers: Record<string, string>
        }) => {
          const credential = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(
            request.headers["authorization"] ?? ""
          )
          caught = {
            url: `${request.protocol}//${request.hostname}${
              request.port === undefined ? "" : `:${request.port}`
            }${request.path}`,
            scope: credential === null ? "none" : `${credential[1]}/${credential[2]}`
          }
          throw new Error(CAUGHT)
        }
      }
    })
    await client.send(new ListRoomsCommand({ AccountId: "acc" }))
  } catch (error) {
    if ((error as Error).message === CAUGHT && caught !== undefined) return caught
    return { refused: true }
  }
  throw new Error("the request handler was not called")
}

const ourSend = (
  config: { region: string; useFipsEndpoint: boolean; useDualstackEndpoint: boolean; endpoint?: string | undefined }
) =>
  Either.match(ChimeConfig.make(config), {
    onLeft: () => ({ refused: true as const }),
    onRight: (c): Caught => ({ url: `${c.endpoint}/accounts/acc/rooms`, scope: `${c.signingRegion}/${c.signingName}` })
  })

describe("endpoints through the whole client: a ChimeClient's request and ChimeConfig.make's", () => {
  it(
    "every region × FIPS × dual-stack × custom endpoint (as users write them), FIPS pseudo-regions and bad regions too",
    async () => {
      const regions = [
        ...regionsOf(await loadSdkPartitions()),
        "fips-us-gov-west-1",
        "us-gov-east-1-fips",
        "fips-aws-global",
        "aws-fips",
        "fips-dkr-us-east-2",
        "eu_west_1",
        "-east-1",
        "us-east-1.",
        ""
      ]
      const endpoints = [
        undefined,
        "https://chime.example.test",
        "http://127.0.0.1:4566/base/",
        "HTTP://User:Pass@Example.TEST:80/x?y=1#z",
        "not a url"
      ]
      const found: Array<unknown> = []
      const seen = new Map<string, unknown>()
      for (const region of regions) {
        for (const useFipsEndpoint of [false, true]) {
          for (const useDualstackEndpoint of [false, true]) {
            for (const endpoint of endpoints) {
              const config = { region, useFipsEndpoint, useDualstackEndpoint, endpoint }
              const sdk = await sdkSend(
                endpoint === undefined ? { region, useFipsEndpoint, useDualstackEndpoint } : config
              )
              const ours = ourSend(config)
              seen.set(JSON.stringify(config), ours)
              if (JSON.stringify(sdk) !== JSON.stringify(ours)) found.push({ config, sdk, ours })
            }
          }
        }
      }
      expect(found).toEqual([])
      const at = (region: string, endpoint?: string, useFipsEndpoint = false, useDualstackEndpoint = false) =>
        seen.get(JSON.stringify({ region, useFipsEndpoint, useDualstackEndpoint, endpoint }))
      expect(at("eu-west-1")).toEqual({
        url: "https://chime.us-east-1.amazonaws.com/accounts/acc/rooms",
        scope: "us-east-1/chime"
      })
      expect(at("eu-west-1", "http://127.0.0.1:4566/base/")).toEqual({
        url: "http://127.0.0.1:4566/base//accounts/acc/rooms",
        scope: "eu-west-1/chime"
      })
      expect(at("eu-west-1", "HTTP://User:Pass@Example.TEST:80/x?y=1#z")).toEqual({
        url: "http://example.test/x/accounts/acc/rooms",
        scope: "eu-west-1/chime"
      })
      expect(at("fips-us-gov-west-1")).toEqual({
        url: "https://chime-fips.us-gov-west-1.amazonaws.com/accounts/acc/rooms",
        scope: "us-gov-west-1/chime"
      })
      expect(at("fips-us-gov-west-1", "https://chime.example.test")).toEqual({ refused: true })
      expect(at("eu_west_1")).toEqual({ refused: true })
      expect(at("eu-west-1", "not a url")).toEqual({ refused: true })
    },
    120_000
  )

  it("deliberate deviation: a custom endpoint that is not http(s) is refused (the SDK sends to it, and fails there)", async () => {
    expect(await sdkSend({ region: "eu-west-1", endpoint: "ftp://chime.example.test/x" })).toEqual({
      url: "ftp://chime.example.test/x/accounts/acc/rooms",
      scope: "eu-west-1/chime"
    })
    expect(
      ourSend({
        region: "eu-west-1",
        useFipsEndpoint: false,
        useDualstackEndpoint: false,
        endpoint: "ftp://chime.example.test/x"
      })
    )
      .toEqual({ refused: true })
  })
})
