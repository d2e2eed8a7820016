import { describe, expect, it } from "@effect/vitest"
import { chimeConfigInput, defaultEndpoint, makeChimeConfig, resolveEndpoint } from "@chime-rooms/http"
import { ConfigProvider, Duration, Effect } from "effect"

describe("ChimeConfig", () => {
  it("resolves the aws partition to the global endpoint signed for us-east-1", () => {
    expect(resolveEndpoint(undefined)).toEqual({ endpoint: "https://chime.us-east-1.amazonaws.com", signingRegion: "us-east-1" })
    expect(resolveEndpoint("eu-west-1")).toEqual({ endpoint: defaultEndpoint, signingRegion: "us-east-1" })
    expect(resolveEndpoint("ap-southeast-2")).toEqual({ endpoint: defaultEndpoint, signingRegion: "us-east-1" })
  })

  it("resolves other partitions to chime.{region}.{dnsSuffix}", () => {
    expect(resolveEndpoint("cn-north-1")).toEqual({ endpoint: "https://chime.cn-north-1.amazonaws.com.cn", signingRegion: "cn-north-1" })
    expect(resolveEndpoint("us-gov-west-1")).toEqual({ endpoint: "https://chime.us-gov-west-1.amazonaws.com", signingRegion: "us-gov-west-1" })
    expect(resolveEndpoint("us-iso-east-1").endpoint).toBe("https://chime.us-iso-east-1.c2s.ic.gov")
  })

  it("a custom endpoint overrides the URL and keeps the signing region; timeout defaults to 10 s", () => {
    const config = makeChimeConfig({ endpoint: "http://127.0.0.1:4566/", region: "eu-west-1" })
    expect(config).toMatchObject({ endpoint: "http://127.0.0.1:4566", signingRegion: "us-east-1", signingName: "chime" })
    expect(Duration.toMillis(config.timeout)).toBe(10_000)
    expect(makeChimeConfig({ signingRegion: "eu-central-1", timeout: "2 seconds" })).toMatchObject({
      endpoint: defaultEndpoint,
      signingRegion: "eu-central-1",
      timeout: Duration.seconds(2)
    })
  })

  it.effect("reads AWS_ENDPOINT_URL_CHIME and AWS_REGION through Config", () =>
    Effect.gen(function*() {
      const input = yield* chimeConfigInput.pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([
          ["AWS_ENDPOINT_URL_CHIME", "http://localhost:9000"],
          ["AWS_REGION", "cn-northwest-1"]
        ])))
      )
      expect(makeChimeConfig(input)).toMatchObject({ endpoint: "http://localhost:9000", signingRegion: "cn-northwest-1" })
      const empty = yield* chimeConfigInput.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map())))
      expect(makeChimeConfig(empty).endpoint).toBe(defaultEndpoint)
    }))
})
