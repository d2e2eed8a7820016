import { describe, expect, it } from "@effect/vitest"
import { Credentials } from "@chime-rooms/http"
import { ConfigProvider, Deferred, Effect, Exit, Fiber, Layer, Redacted, TestClock } from "effect"

const withEnv = (env: Record<string, string>) => Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

describe("Credentials", () => {
  it.effect("layerStatic redacts what it is given", () =>
    Effect.gen(function*() {
      const creds = yield* Credentials.get.pipe(
        Effect.provide(Credentials.layerStatic({ accessKeyId: "AKID", secretAccessKey: "shh", sessionToken: "tok" }))
      )
      expect(creds.accessKeyId).toBe("AKID")
      expect(Redacted.value(creds.secretAccessKey)).toBe("shh")
      expect(String(creds.secretAccessKey)).not.toContain("shh")
      expect(Redacted.value(creds.sessionToken!)).toBe("tok")
    }))

  it.effect("layerEnv reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN through Config", () =>
    Effect.gen(function*() {
      const creds = yield* Credentials.get.pipe(
        Effect.provide(Layer.provide(
          Credentials.layerConfig(),
          withEnv({ AWS_ACCESS_KEY_ID: "AKENV", AWS_SECRET_ACCESS_KEY: "envsecret", AWS_SESSION_TOKEN: "envtoken" })
        ))
      )
      expect(creds.accessKeyId).toBe("AKENV")
      expect(Redacted.value(creds.secretAccessKey)).toBe("envsecret")
      expect(Redacted.value(creds.sessionToken!)).toBe("envtoken")
    }))

  it.effect("missing environment credentials fail with a CredentialsError saying where it looked", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Credentials.get.pipe(Effect.provide(Layer.provide(Credentials.layerConfig(), withEnv({ AWS_ACCESS_KEY_ID: "AKENV" }))))
      )
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit) && exit.cause._tag === "Fail") {
        expect(exit.cause.error._tag).toBe("CredentialsError")
        expect(exit.cause.error.sources.join(" ")).toContain("AWS_SECRET_ACCESS_KEY")
        expect(exit.cause.error.message).toContain("AWS_ACCESS_KEY_ID")
      } else {
        throw new Error("expected a CredentialsError")
      }
    }))

  it.effect("caches temporary credentials and refreshes them 5 minutes before they expire", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_000_000)
      let calls = 0
      const provider = () => {
        calls++
        return Promise.resolve({
          accessKeyId: `AK${calls}`,
          secretAccessKey: "secret",
          sessionToken: `token-${calls}`,
          expiration: new Date(1_000_000 + calls * 60 * 60_000)
        })
      }
      const get = yield* Effect.provide(Credentials, Credentials.layerProvider(provider))
      expect((yield* get.get).accessKeyId).toBe("AK1")
      yield* TestClock.adjust("54 minutes")
      expect((yield* get.get).accessKeyId).toBe("AK1")
      expect(calls).toBe(1)
      // 55 minutes in: 5 minutes before the 60-minute expiry.
      yield* TestClock.adjust("1 minute")
      const refreshed = yield* get.get
      expect(refreshed.accessKeyId).toBe("AK2")
      expect(Redacted.value(refreshed.sessionToken!)).toBe("token-2")
      expect(refreshed.expiration?.getTime()).toBe(1_000_000 + 2 * 60 * 60_000)
      expect(calls).toBe(2)
    }))

  it.effect("concurrent callers share one refresh", () =>
    Effect.gen(function*() {
      let calls = 0
      const gate = yield* Deferred.make<void>()
      let release: () => void = () => {}
      const provider = () => {
        calls++
        return new Promise<{ accessKeyId: string; secretAccessKey: string }>((resolve) => {
          release = () => resolve({ accessKeyId: "AKSHARED", secretAccessKey: "s" })
          Effect.runSync(Deferred.succeed(gate, undefined))
        })
      }
      const service = yield* Effect.provide(Credentials, Credentials.layerProvider(provider))
      const fibers = yield* Effect.forkAll(Array.from({ length: 20 }, () => service.get))
      yield* Deferred.await(gate)
      release()
      const all = yield* Fiber.join(fibers)
      expect(all.map((c) => c.accessKeyId)).toEqual(Array(20).fill("AKSHARED"))
      expect(calls).toBe(1)
    }))

  it.effect("a provider failure becomes a CredentialsError with its sources; old credentials still valid are kept", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(0)
      let calls = 0
      const provider = () => {
        calls++
        return calls === 1
          ? Promise.resolve({ accessKeyId: "AK1", secretAccessKey: "s", expiration: new Date(10 * 60_000) })
          : Promise.reject(new Error("Could not load credentials from any providers"))
      }
      const service = yield* Effect.provide(
        Credentials,
        Credentials.layerProvider(provider, { sources: ["test provider"] })
      )
      expect((yield* service.get).accessKeyId).toBe("AK1")
      yield* TestClock.adjust("6 minutes")
      expect((yield* service.get).accessKeyId).toBe("AK1")
      yield* TestClock.adjust("5 minutes")
      const exit = yield* Effect.exit(service.get)
      if (Exit.isFailure(exit) && exit.cause._tag === "Fail") {
        expect(exit.cause.error).toMatchObject({ _tag: "CredentialsError", sources: ["test provider"] })
        expect(exit.cause.error.message).toContain("Could not load credentials")
      } else {
        throw new Error("expected a CredentialsError")
      }
    }))

  it.effect("a provider returning no key fails with CredentialsError", () =>
    Effect.gen(function*() {
      const service = yield* Effect.provide(
        Credentials,
        Credentials.layerProvider(() => Promise.resolve({ accessKeyId: "", secretAccessKey: "" }))
      )
      const exit = yield* Effect.exit(service.get)
      expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error._tag).toBe("CredentialsError")
    }))

  it.effect("layerDefaultChain resolves through the AWS SDK chain (environment first, so no network here)", () =>
    Effect.gen(function*() {
      const saved = { ...process.env }
      process.env.AWS_ACCESS_KEY_ID = "AKCHAIN"
      process.env.AWS_SECRET_ACCESS_KEY = "chain-secret"
      process.env.AWS_SESSION_TOKEN = "chain-token"
      try {
        const creds = yield* Credentials.get.pipe(Effect.provide(Credentials.layerDefaultChain()))
        expect(creds.accessKeyId).toBe("AKCHAIN")
        expect(Redacted.value(creds.secretAccessKey)).toBe("chain-secret")
        expect(Redacted.value(creds.sessionToken!)).toBe("chain-token")
      } finally {
        for (const key of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]) {
          if (saved[key] === undefined) delete process.env[key]
          else process.env[key] = saved[key]
        }
      }
    }))
})
