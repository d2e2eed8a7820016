/**
 * Settings read as the AWS SDK reads them: the same environment and shared config files given to a
 * `ChimeClient` (through `process.env`, restored afterwards) and to `ChimeConfig.loadInput` (through
 * a `ConfigProvider`), the same request URL and credential scope, the same refusals. Then both
 * clients, configured alike, sending to one loopback server.
 */
import { ChimeClient, ListRoomsCommand } from "@aws-sdk/client-chime"
import { ChimeRooms } from "@chime-rooms/core"
import { ChimeConfig, Credentials, HttpChimeRooms, UndiciHttpClient } from "@chime-rooms/http"
import { FetchHttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Layer } from "effect"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "not-a-secret-but-never-printed" }

/** What the environment holds for a scenario: the variables, and the files under its HOME. */
interface Scenario {
  readonly name: string
  /** Variables; `{home}` stands for the scenario's home directory. */
  readonly env: Record<string, string>
  /** `~/.aws/config`, `~/.aws/credentials`, or other files by path under the home directory. */
  readonly files: Record<string, string>
}

/** A fresh home directory holding the scenario's files; removed with the scope. */
const homeOf = (scenario: Scenario) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const dir = mkdtempSync(join(tmpdir(), "chime-sdk-config-"))
      mkdirSync(join(dir, ".aws"))
      for (const [path, text] of Object.entries(scenario.files)) writeFileSync(join(dir, path), text)
      return dir
    }),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

const envOf = (scenario: Scenario, home: string): Record<string, string> => ({
  HOME: home,
  ...Object.fromEntries(Object.entries(scenario.env).map(([k, v]) => [k, v.replaceAll("{home}", home)]))
})

/**
 * `process.env` holding only `env` among the variables the SDK reads for these settings (no AWS_*
 * of the machine's), for this scope.
 */
const processEnv = (env: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const saved = { ...process.env }
      for (const key of Object.keys(process.env)) {
        if (key.startsWith("AWS_") || ["HOME", "USERPROFILE", "HOMEPATH", "HOMEDRIVE"].includes(key)) {
          delete process.env[key]
        }
      }
      Object.assign(process.env, {
        AWS_EC2_METADATA_DISABLED: "true",
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true"
      }, env)
      return saved
    }),
    (saved) => Effect.sync(() => (process.env = saved))
  )

type Outcome = { readonly url: string; readonly scope: string } | { readonly refused: true }

const CAUGHT = "caught by the test's request handler"
const scopeOf = (authorization: string | undefined) => {
  const credential = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization ?? "")
  return credential === null ? "none" : `${credential[1]}/${credential[2]}`
}

/** A `ChimeClient` left to read its settings; the request it would send, caught by its handler. */
const sdkOutcome: Effect.Effect<Outcome> = Effect.promise(async () => {
  let caught: Outcome | undefined
  try {
    const client = new ChimeClient({
      maxAttempts: 1,
      credentials,
      requestHandler: {
        handle: async (
          request: { protocol: string; hostname: string; port?: number; path: string; headers: Record<string, string> }
        ) => {
          caught = {
            url: `${request.protocol}//${request.hostname}${
              request.port === undefined ? "" : `:${request.port}`
            }${request.path}`,
            scope: scopeOf(request.headers["authorization"])
          }
          throw new Error(CAUGHT)
        }
      }
    })
    await client.send(new ListRoomsCommand({ AccountId: "acc" }))
  } catch (error) {
    if ((error as Error).message === CAUGHT && caught !== undefined) return caught
    return { refused: true as const }
  }
  throw new Error("the request handler was not called")
})

/** What `ChimeConfig.loadInput` and `ChimeConfig.make` make of the same environment. */
const ourOutcome = (env: Record<string, string>): Effect.Effect<Outcome> =>
  ChimeConfig.loadInput.pipe(
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
    Effect.map((input) =>
      Either.match(ChimeConfig.make(input), {
        onLeft: (): Outcome => ({ refused: true }),
        onRight: (c): Outcome => ({
          url: `${c.endpoint}/accounts/acc/rooms`,
          scope: `${c.signingRegion}/${c.signingName}`
        })
      })
    ),
    Effect.orElseSucceed((): Outcome => ({ refused: true }))
  )

const CONFIG = ".aws/config"
const CREDENTIALS = ".aws/credentials"

const scenarios: ReadonlyArray<Scenario> = [
  { name: "AWS_REGION alone", env: { AWS_REGION: "ap-northeast-1" }, files: {} },
  { name: "AWS_REGION in another partition", env: { AWS_REGION: "cn-northwest-1" }, files: {} },
  {
    name: "AWS_ENDPOINT_URL_CHIME signed for AWS_REGION",
    env: { AWS_REGION: "eu-west-1", AWS_ENDPOINT_URL_CHIME: "http://127.0.0.1:4566" },
    files: {}
  },
  {
    name: "AWS_ENDPOINT_URL",
    env: { AWS_REGION: "eu-west-1", AWS_ENDPOINT_URL: "http://localhost:4000/base" },
    files: {}
  },
  {
    name: "AWS_ENDPOINT_URL_CHIME over AWS_ENDPOINT_URL",
    env: { AWS_REGION: "eu-west-1", AWS_ENDPOINT_URL: "http://a.test", AWS_ENDPOINT_URL_CHIME: "http://b.test" },
    files: {}
  },
  {
    name: "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    env: {
      AWS_REGION: "eu-west-1",
      AWS_ENDPOINT_URL_CHIME: "http://b.test",
      AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "true"
    },
    files: {}
  },
  { name: "AWS_USE_FIPS_ENDPOINT", env: { AWS_REGION: "us-gov-west-1", AWS_USE_FIPS_ENDPOINT: "true" }, files: {} },
  {
    name: "AWS_USE_DUALSTACK_ENDPOINT",
    env: { AWS_REGION: "cn-north-1", AWS_USE_DUALSTACK_ENDPOINT: "true" },
    files: {}
  },
  {
    name: "both, in aws",
    env: { AWS_REGION: "eu-west-3", AWS_USE_FIPS_ENDPOINT: "true", AWS_USE_DUALSTACK_ENDPOINT: "true" },
    files: {}
  },
  { name: "a FIPS pseudo-region", env: { AWS_REGION: "fips-us-gov-east-1" }, files: {} },
  {
    name: "FIPS with a configured endpoint: refused",
    env: { AWS_REGION: "eu-west-1", AWS_USE_FIPS_ENDPOINT: "true", AWS_ENDPOINT_URL_CHIME: "http://127.0.0.1:4566" },
    files: {}
  },
  {
    name: "dual-stack from the profile with a configured endpoint: refused",
    env: { AWS_REGION: "eu-west-1", AWS_ENDPOINT_URL: "http://127.0.0.1:4566" },
    files: { [CONFIG]: "[default]\nuse_dualstack_endpoint = true\n" }
  },
  { name: "an invalid region: refused", env: { AWS_REGION: "eu west 1" }, files: {} },
  {
    name: "an invalid endpoint: refused",
    env: { AWS_REGION: "eu-west-1", AWS_ENDPOINT_URL_CHIME: "http://bad host:4566" },
    files: {}
  },
  { name: "the default profile's region", env: {}, files: { [CONFIG]: "[default]\nregion = sa-east-1\n" } },
  {
    name: "AWS_PROFILE's region, FIPS and endpoint",
    env: { AWS_PROFILE: "dev" },
    files: {
      [CONFIG]: "[default]\nregion = sa-east-1\n[profile dev]\nregion = us-gov-east-1\nuse_fips_endpoint = true\n"
    }
  },
  {
    name: "the profile's endpoint_url, signed for its region",
    env: { AWS_PROFILE: "local" },
    files: { [CONFIG]: "[profile local]\nregion = ca-central-1\nendpoint_url = http://127.0.0.1:7000/\n" }
  },
  {
    name: "a services section's chime endpoint_url",
    env: { AWS_PROFILE: "svc" },
    files: {
      [CONFIG]: [
        "[profile svc]",
        "region = eu-north-1",
        "services = mine",
        "endpoint_url = http://fallback.test",
        "[services mine]",
        "s3 =",
        "  endpoint_url = http://s3.test",
        "chime =",
        "  endpoint_url = http://chime.test:8080/x"
      ].join("\n")
    }
  },
  {
    name: "a services section without chime: the profile's endpoint_url",
    env: { AWS_PROFILE: "svc" },
    files: {
      [CONFIG]:
        "[profile svc]\nregion = eu-north-1\nservices = mine\nendpoint_url = http://fallback.test\n[services mine]\ns3 =\n  endpoint_url = http://s3.test\n"
    }
  },
  {
    name: "a services section that is missing: no endpoint from the files",
    env: { AWS_PROFILE: "svc" },
    files: { [CONFIG]: "[profile svc]\nregion = eu-north-1\nservices = gone\nendpoint_url = http://fallback.test\n" }
  },
  {
    name: "ignore_configured_endpoint_urls in the profile",
    env: { AWS_ENDPOINT_URL_CHIME: "http://127.0.0.1:4566" },
    files: { [CONFIG]: "[default]\nregion = eu-west-1\nignore_configured_endpoint_urls = true\n" }
  },
  {
    name: "the environment over the profile, setting by setting",
    env: { AWS_REGION: "us-gov-west-1", AWS_USE_FIPS_ENDPOINT: "false" },
    files: { [CONFIG]: "[default]\nregion = cn-north-1\nuse_fips_endpoint = true\nuse_dualstack_endpoint = true\n" }
  },
  {
    name: "the region from the credentials file first, FIPS from the config file first",
    env: {},
    files: {
      [CONFIG]: "[default]\nregion = us-gov-east-1\nuse_fips_endpoint = true\n",
      [CREDENTIALS]: "[default]\nregion = us-gov-west-1\nuse_fips_endpoint = false\n"
    }
  },
  {
    name: "AWS_CONFIG_FILE (~/ is HOME) and AWS_SHARED_CREDENTIALS_FILE",
    env: { AWS_CONFIG_FILE: "~/elsewhere.ini", AWS_SHARED_CREDENTIALS_FILE: "{home}/creds.ini", AWS_PROFILE: "p" },
    files: {
      "elsewhere.ini": "[profile p]\nuse_dualstack_endpoint = true\n",
      "creds.ini": "[p]\nregion = ap-south-2\n"
    }
  },
  {
    name: "comments, blank values and odd sections",
    env: { AWS_PROFILE: "x" },
    files: {
      [CONFIG]:
        "# top\n[profile x] ; note\nregion = me-central-1 # here\n;region = us-east-2\n[x]\nregion = il-central-1\n[profile  y]\nregion = af-south-1\n"
    }
  },
  {
    name: "an empty AWS_USE_FIPS_ENDPOINT counts as unset",
    env: { AWS_USE_FIPS_ENDPOINT: "" },
    files: { [CONFIG]: "[default]\nregion = us-gov-west-1\nuse_fips_endpoint = true\n" }
  }
]

describe("settings read as the AWS SDK reads them", () => {
  for (const scenario of scenarios) {
    it.scoped(scenario.name, () =>
      Effect.gen(function*() {
        const home = yield* homeOf(scenario)
        const env = envOf(scenario, home)
        const sdk = yield* Effect.scoped(Effect.zipRight(processEnv(env), sdkOutcome))
        const ours = yield* ourOutcome(env)
        expect(ours).toEqual(sdk)
      }))
  }

  it.scoped("deliberate deviation: a boolean setting other than true or false is refused (the SDK skips it silently)", () =>
    Effect.gen(function*() {
      const scenario: Scenario = {
        name: "TRUE",
        env: { AWS_REGION: "us-gov-west-1", AWS_USE_FIPS_ENDPOINT: "TRUE" },
        files: {}
      }
      const env = envOf(scenario, yield* homeOf(scenario))
      // The SDK reads "TRUE" as no setting at all, and so does not use FIPS.
      expect(yield* Effect.scoped(Effect.zipRight(processEnv(env), sdkOutcome))).toEqual({
        url: "https://chime.us-gov-west-1.amazonaws.com/accounts/acc/rooms",
        scope: "us-gov-west-1/chime"
      })
      expect(yield* ourOutcome(env)).toEqual({ refused: true })
    }))
})

/** A loopback server answering every request with an empty page, keeping each request's path and credential scope. */
const loopback = Effect.acquireRelease(
  Effect.async<{ readonly endpoint: string; readonly seen: Array<{ path: string; scope: string }>; close: () => void }>(
    (resume) => {
      const seen: Array<{ path: string; scope: string }> = []
      const server = createServer((req, res) => {
        seen.push({ path: req.url ?? "", scope: scopeOf(req.headers.authorization) })
        res.writeHead(200, { "content-type": "application/json", "x-amzn-requestid": "req-1" })
        res.end("{\"Rooms\":[]}")
      })
      server.listen(0, "127.0.0.1", () =>
        resume(Effect.succeed({
          endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
          seen,
          close: () => server.close()
        })))
    }
  ),
  (server) => Effect.sync(() => server.close())
)

describe("end to end: the SDK and HttpChimeRooms.layerConfig configured alike, sending to one loopback server", () => {
  const configs: ReadonlyArray<Scenario> = [
    {
      name: "by the environment",
      env: { AWS_REGION: "eu-central-1", AWS_ENDPOINT_URL_CHIME: "{endpoint}" },
      files: {}
    },
    {
      name: "by a profile",
      env: { AWS_PROFILE: "local" },
      files: {
        [CONFIG]:
          "[profile local]\nregion = ap-southeast-2\nservices = here\n[services here]\nchime =\n  endpoint_url = {endpoint}\n"
      }
    }
  ]
  for (const config of configs) {
    it.scopedLive(`sign for the same region ${config.name}`, () =>
      Effect.gen(function*() {
        const server = yield* loopback
        const scenario: Scenario = {
          ...config,
          env: Object.fromEntries(
            Object.entries(config.env).map(([k, v]) => [k, v.replace("{endpoint}", server.endpoint)])
          ),
          files: Object.fromEntries(
            Object.entries(config.files).map(([k, v]) => [k, v.replace("{endpoint}", server.endpoint)])
          )
        }
        const env = envOf(scenario, yield* homeOf(scenario))
        yield* Effect.scoped(Effect.zipRight(
          processEnv(env),
          Effect.promise(async () => {
            const client = new ChimeClient({ maxAttempts: 1, credentials })
            await client.send(new ListRoomsCommand({ AccountId: "acc", MaxResults: 3 }))
            client.destroy()
          })
        ))
        for (const http of [UndiciHttpClient.layer, FetchHttpClient.layer]) {
          const layer = HttpChimeRooms.layerConfig().pipe(
            Layer.provide(http),
            Layer.provide(Credentials.layerStatic(credentials)),
            Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))
          )
          yield* ChimeRooms.listRooms({ AccountId: "acc", MaxResults: 3 }).pipe(Effect.provide(layer))
        }
        expect(server.seen).toHaveLength(3)
        const [sdk, ...ours] = server.seen
        expect(sdk!.scope).toBe(`${config.name === "by a profile" ? "ap-southeast-2" : "eu-central-1"}/chime`)
        for (const request of ours) expect(request).toEqual(sdk)
      }))
  }
})
