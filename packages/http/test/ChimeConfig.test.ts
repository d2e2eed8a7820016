import type { ChimeRooms } from "@chime-rooms/core"
import { ChimeConfig, Credentials, HttpChimeRooms, UndiciHttpClient } from "@chime-rooms/http"
import type * as HttpClient from "@effect/platform/HttpClient"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Either, Exit, Layer } from "effect"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const right = <A, E>(either: Either.Either<A, E>): A =>
  Either.getOrThrowWith(either, (e) => new Error(`expected Right, got ${String(e)}`))
const left = <A, E>(either: Either.Either<A, E>): E =>
  Either.getOrThrowWith(Either.flip(either), () => new Error("expected Left"))

const withEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

/** A fresh home directory with `.aws/config` and `.aws/credentials` as given, removed with the scope. */
const home = (files: { readonly config?: string; readonly credentials?: string }) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const dir = mkdtempSync(join(tmpdir(), "chime-config-"))
      mkdirSync(join(dir, ".aws"))
      if (files.config !== undefined) writeFileSync(join(dir, ".aws", "config"), files.config)
      if (files.credentials !== undefined) writeFileSync(join(dir, ".aws", "credentials"), files.credentials)
      return dir
    }),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

/** The settings `ChimeConfig.loadInput` reads with `env` (and `HOME` at a fresh directory holding `files`). */
const load = (env: Record<string, string>, files: { readonly config?: string; readonly credentials?: string } = {}) =>
  Effect.flatMap(home(files), (dir) => ChimeConfig.loadInput.pipe(withEnv({ HOME: dir, ...env })))

describe("ChimeConfig.resolveEndpoint and ChimeConfig.make", () => {
  it("the aws partition's regions resolve to the global endpoint signed for us-east-1; no region is us-east-1", () => {
    for (const region of [undefined, "us-east-1", "eu-west-1", "ap-southeast-2", "aws-global"]) {
      expect(right(ChimeConfig.resolveEndpoint({ region }))).toEqual({
        endpoint: ChimeConfig.defaultEndpoint,
        signingRegion: "us-east-1",
        signingName: "chime"
      })
    }
  })

  it("other partitions, FIPS and dual-stack resolve as the rules say", () => {
    const at = (region: string, useFipsEndpoint = false, useDualstackEndpoint = false) =>
      right(ChimeConfig.resolveEndpoint({ region, useFipsEndpoint, useDualstackEndpoint }))
    expect(at("cn-north-1")).toMatchObject({
      endpoint: "https://chime.cn-north-1.amazonaws.com.cn",
      signingRegion: "cn-north-1"
    })
    expect(at("us-gov-west-1", true)).toMatchObject({
      endpoint: "https://chime-fips.us-gov-west-1.amazonaws.com",
      signingRegion: "us-gov-west-1"
    })
    expect(at("eu-west-1", true)).toMatchObject({
      endpoint: "https://chime-fips.eu-west-1.amazonaws.com",
      signingRegion: "eu-west-1"
    })
    expect(at("eu-west-1", false, true)).toMatchObject({
      endpoint: "https://chime.eu-west-1.api.aws",
      signingRegion: "eu-west-1"
    })
    expect(at("eusc-de-east-1")).toMatchObject({
      endpoint: "https://chime.eusc-de-east-1.amazonaws.eu",
      signingRegion: "eusc-de-east-1"
    })
    expect(at("aws-us-gov-global")).toMatchObject({ endpoint: "https://chime.aws-us-gov-global.amazonaws.com" })
    expect(at("us-iso-east-1", true, true).endpoint).toBe("https://chime-fips.us-iso-east-1.api.aws.ic.gov")
    // A FIPS pseudo-region is its region with FIPS, as in the AWS SDK.
    expect(at("fips-us-gov-west-1")).toEqual(at("us-gov-west-1", true))
    expect(at("us-gov-west-1-fips")).toEqual(at("us-gov-west-1", true))
  })

  it("a custom endpoint replaces the URL and is signed for the configured region (us-east-1 without one)", () => {
    const config = right(ChimeConfig.make({ endpoint: "http://127.0.0.1:4566/", region: "eu-west-1" }))
    expect(config).toMatchObject({
      endpoint: "http://127.0.0.1:4566",
      signingRegion: "eu-west-1",
      signingName: "chime"
    })
    expect(Duration.toMillis(config.timeout)).toBe(10_000)
    expect(right(ChimeConfig.make({ endpoint: "http://localhost:9000", timeout: "2 seconds" }))).toMatchObject({
      endpoint: "http://localhost:9000",
      signingRegion: "us-east-1",
      timeout: Duration.seconds(2)
    })
    expect(right(ChimeConfig.make({ endpoint: "https://proxy.example/chime/", region: "cn-north-1" }))).toMatchObject({
      endpoint: "https://proxy.example/chime/",
      signingRegion: "cn-north-1"
    })
  })

  it("refusals are typed values, with the SDK's reasons", () => {
    const refused = (input: Parameters<typeof ChimeConfig.make>[0]) => {
      const error = left(ChimeConfig.make(input))
      expect(error).toBeInstanceOf(ChimeConfig.EndpointConfigError)
      return { reason: error.reason, message: error.message }
    }
    expect(refused({ endpoint: "http://127.0.0.1:4566", useFipsEndpoint: true })).toEqual({
      reason: "Refused",
      message: "Invalid Configuration: FIPS and custom endpoint are not supported"
    })
    expect(refused({ endpoint: "http://127.0.0.1:4566", useDualstackEndpoint: true })).toEqual({
      reason: "Refused",
      message: "Invalid Configuration: Dualstack and custom endpoint are not supported"
    })
    expect(refused({ endpoint: "http://127.0.0.1:4566", region: "fips-us-east-1" }).reason).toBe("Refused")
    expect(refused({ region: "eu_west_1" })).toEqual({
      reason: "InvalidRegion",
      message: "Region not accepted: region=\"eu_west_1\" is not a valid hostname component."
    })
    expect(refused({ region: "" })).toEqual({ reason: "InvalidRegion", message: "Region is missing" })
    expect(refused({ endpoint: "127.0.0.1:4566" }).reason).toBe("InvalidEndpoint")
    expect(refused({ endpoint: "not a url" }).reason).toBe("InvalidEndpoint")
    expect(refused({ endpoint: "file:///etc/passwd" }).reason).toBe("InvalidEndpoint")
  })

  it("an endpoint's user info never reaches the config or an error", () => {
    expect(right(ChimeConfig.make({ endpoint: "https://user:pa55@proxy.example:8443/x?q=1#f" })).endpoint).toBe(
      "https://proxy.example:8443/x"
    )
    expect(left(ChimeConfig.make({ endpoint: "ftp://user:pa55@proxy.example/" })).message).not.toContain("pa55")
  })
})

describe("HttpChimeRooms.layer and layerConfig", () => {
  const build = <E>(layer: Layer.Layer<ChimeRooms.ChimeRooms, E, never>) =>
    Effect.exit(Effect.scoped(Layer.build(layer)))
  const deps = <E>(layer: Layer.Layer<ChimeRooms.ChimeRooms, E, HttpClient.HttpClient | Credentials.Credentials>) =>
    layer.pipe(
      Layer.provide(UndiciHttpClient.layer),
      Layer.provide(Credentials.layerStatic({ accessKeyId: "AKID", secretAccessKey: "secret" }))
    )

  it.effect("a refused setting fails the layer with EndpointConfigError, not a defect", () =>
    Effect.gen(function*() {
      const exit = yield* build(
        deps(HttpChimeRooms.layer({ endpoint: "http://127.0.0.1:4566", useFipsEndpoint: true }))
      )
      expect(exit).toMatchObject({
        _tag: "Failure",
        cause: { _tag: "Fail", error: { _tag: "EndpointConfigError", reason: "Refused" } }
      })
      const region = yield* build(deps(HttpChimeRooms.layer({ region: "not a region" })))
      expect(region).toMatchObject({
        _tag: "Failure",
        cause: { _tag: "Fail", error: { _tag: "EndpointConfigError", reason: "InvalidRegion" } }
      })
      expect(Exit.isSuccess(yield* build(deps(HttpChimeRooms.layer({ region: "eu-west-1" }))))).toBe(true)
    }))

  it.effect("layerConfig: refused settings from the environment are EndpointConfigError, unreadable ones ConfigError", () =>
    Effect.gen(function*() {
      const dir = yield* home({})
      const env = { HOME: dir, AWS_ENDPOINT_URL_CHIME: "http://127.0.0.1:4566" }
      const refused = yield* build(deps(HttpChimeRooms.layerConfig())).pipe(
        withEnv({ ...env, AWS_USE_DUALSTACK_ENDPOINT: "true" })
      )
      expect(refused).toMatchObject({
        _tag: "Failure",
        cause: { _tag: "Fail", error: { _tag: "EndpointConfigError" } }
      })
      const unreadable = yield* build(deps(HttpChimeRooms.layerConfig())).pipe(
        withEnv({ ...env, AWS_USE_FIPS_ENDPOINT: "yes" })
      )
      expect(unreadable).toMatchObject({ _tag: "Failure", cause: { _tag: "Fail", error: { _op: "InvalidData" } } })
      expect(Exit.isSuccess(yield* build(deps(HttpChimeRooms.layerConfig())).pipe(withEnv(env)))).toBe(true)
    }).pipe(Effect.scoped))
})

describe("ChimeConfig.inputFromEnv (the environment alone)", () => {
  it.effect("reads AWS_REGION, AWS_USE_FIPS_ENDPOINT, AWS_USE_DUALSTACK_ENDPOINT and the configured endpoints", () =>
    Effect.gen(function*() {
      const read = (env: Record<string, string>) => ChimeConfig.inputFromEnv.pipe(withEnv(env))
      expect(
        yield* read({
          AWS_REGION: "cn-northwest-1",
          AWS_USE_FIPS_ENDPOINT: "true",
          AWS_USE_DUALSTACK_ENDPOINT: "false"
        })
      )
        .toEqual({ region: "cn-northwest-1", endpoint: undefined, useFipsEndpoint: true, useDualstackEndpoint: false })
      expect((yield* read({ AWS_ENDPOINT_URL: "http://a", AWS_ENDPOINT_URL_CHIME: "http://b" })).endpoint).toBe(
        "http://b"
      )
      expect((yield* read({ AWS_ENDPOINT_URL: "http://a" })).endpoint).toBe("http://a")
      expect((yield* read({ AWS_ENDPOINT_URL: "http://a", AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "true" })).endpoint)
        .toBeUndefined()
      expect(yield* read({})).toEqual({
        region: undefined,
        endpoint: undefined,
        useFipsEndpoint: undefined,
        useDualstackEndpoint: undefined
      })
      const bad = yield* Effect.flip(read({ AWS_USE_DUALSTACK_ENDPOINT: "1" }))
      expect(bad).toMatchObject({ _op: "InvalidData", path: ["AWS_USE_DUALSTACK_ENDPOINT"] })
    }))
})

describe("ChimeConfig.loadInput (the environment, then the shared config files)", () => {
  it.scoped("the profile's region, FIPS, dual-stack and endpoint, under AWS_PROFILE or default", () =>
    Effect.gen(function*() {
      const config = [
        "[default]",
        "region = eu-west-2",
        "",
        "[profile dev] # a comment",
        "region = ap-southeast-2",
        "use_fips_endpoint = true",
        "use_dualstack_endpoint = false",
        "endpoint_url = http://localhost:7000 ; another"
      ].join("\n")
      expect(yield* load({}, { config })).toEqual({
        region: "eu-west-2",
        endpoint: undefined,
        useFipsEndpoint: undefined,
        useDualstackEndpoint: undefined
      })
      expect(yield* load({ AWS_PROFILE: "dev" }, { config })).toEqual({
        region: "ap-southeast-2",
        endpoint: "http://localhost:7000",
        useFipsEndpoint: true,
        useDualstackEndpoint: false
      })
      // The environment comes first, setting by setting.
      expect(yield* load({ AWS_PROFILE: "dev", AWS_REGION: "us-west-2", AWS_USE_FIPS_ENDPOINT: "false" }, { config }))
        .toMatchObject({
          region: "us-west-2",
          useFipsEndpoint: false,
          endpoint: "http://localhost:7000"
        })
      expect((yield* load({ AWS_PROFILE: "dev", AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "true" }, { config })).endpoint)
        .toBeUndefined()
    }))

  it.scoped("the region prefers the credentials file, the other settings the config file", () =>
    Effect.gen(function*() {
      const files = {
        config: "[default]\nregion = eu-west-1\nuse_dualstack_endpoint = true\n",
        credentials: "[default]\nregion = eu-central-1\nuse_dualstack_endpoint = false\nuse_fips_endpoint = true\n"
      }
      expect(yield* load({}, files)).toMatchObject({
        region: "eu-central-1",
        useDualstackEndpoint: true,
        useFipsEndpoint: true
      })
    }))

  it.scoped("a services section gives Chime's endpoint_url; a missing one gives no endpoint from the files", () =>
    Effect.gen(function*() {
      const config = [
        "[profile a]",
        "services = local",
        "endpoint_url = http://fallback:1",
        "[profile b]",
        "services = elsewhere",
        "endpoint_url = http://fallback:2",
        "[profile c]",
        "services = other",
        "endpoint_url = http://fallback:3",
        "[services local]",
        "chime =",
        "  endpoint_url = http://localhost:7001",
        "s3 =",
        "  endpoint_url = http://localhost:9999",
        "[services other]",
        "dynamodb =",
        "  endpoint_url = http://localhost:8000"
      ].join("\n")
      expect((yield* load({ AWS_PROFILE: "a" }, { config })).endpoint).toBe("http://localhost:7001")
      expect((yield* load({ AWS_PROFILE: "b" }, { config })).endpoint).toBeUndefined()
      expect((yield* load({ AWS_PROFILE: "c" }, { config })).endpoint).toBe("http://fallback:3")
      expect((yield* load({ AWS_PROFILE: "a", AWS_ENDPOINT_URL: "http://env:1" }, { config })).endpoint).toBe(
        "http://env:1"
      )
    }))

  it.scoped("AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE move the files (~/ is HOME); a missing file is empty", () =>
    Effect.gen(function*() {
      const dir = yield* home({})
      writeFileSync(join(dir, "cfg"), "[profile x]\nregion = sa-east-1\n")
      writeFileSync(join(dir, "creds"), "[x]\nuse_fips_endpoint = true\n")
      const read = (env: Record<string, string>) =>
        ChimeConfig.loadInput.pipe(withEnv({ HOME: dir, AWS_PROFILE: "x", ...env }))
      expect(yield* read({ AWS_CONFIG_FILE: "~/cfg", AWS_SHARED_CREDENTIALS_FILE: join(dir, "creds") })).toMatchObject({
        region: "sa-east-1",
        useFipsEndpoint: true
      })
      expect(yield* read({ AWS_CONFIG_FILE: join(dir, "missing") })).toEqual({
        region: undefined,
        endpoint: undefined,
        useFipsEndpoint: undefined,
        useDualstackEndpoint: undefined
      })
    }))

  it.scoped("a profile value other than true or false is a ConfigError naming the setting", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(load({}, { config: "[default]\nuse_dualstack_endpoint = yes\n" }))
      expect(error).toMatchObject({ _op: "InvalidData", path: ["use_dualstack_endpoint"] })
      expect(String(error)).toContain("profile \"default\"")
    }))
})
