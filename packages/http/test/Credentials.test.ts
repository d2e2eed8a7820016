import { Credentials, CredentialsChain } from "@chime-rooms/http"
import { describe, expect, it } from "@effect/vitest"
import { Clock, ConfigProvider, Deferred, Effect, Exit, Fiber, Layer, Redacted, TestClock } from "effect"

const withEnv = (env: Record<string, string>) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

const minutes = (n: number) => n * 60_000

/**
 * One request as `HttpChimeRooms` makes it: `unsafeCurrent(now)`, else `get`. Returns how many provider
 * calls it cost, and checks that `unsafeCurrent` answered exactly when `get` needed no provider call.
 */
const request = (service: Credentials.CredentialsService, calls: () => number) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const before = calls()
    const atHand = service.unsafeCurrent!(now)
    const got = yield* service.get
    const cost = calls() - before
    // In one object, so a failure shows both.
    expect({ atHand: atHand !== undefined, cost }).toEqual({ atHand: cost === 0, cost })
    if (atHand !== undefined) expect(atHand).toBe(got)
    return { cost, accessKeyId: got.accessKeyId }
  })

const failureOf = (exit: Exit.Exit<Credentials.AwsCredentials, unknown>) => {
  if (Exit.isFailure(exit) && exit.cause._tag === "Fail") return exit.cause.error as { readonly _tag: string }
  throw new Error("expected a typed failure")
}

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
        Credentials.get.pipe(
          Effect.provide(Layer.provide(Credentials.layerConfig(), withEnv({ AWS_ACCESS_KEY_ID: "AKENV" })))
        )
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
      const get = yield* Effect.provide(Credentials.Credentials, Credentials.layerProvider(provider))
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
      const service = yield* Effect.provide(Credentials.Credentials, Credentials.layerProvider(provider))
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
        Credentials.Credentials,
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
        Credentials.Credentials,
        Credentials.layerProvider(() => Promise.resolve({ accessKeyId: "", secretAccessKey: "" }))
      )
      const exit = yield* Effect.exit(service.get)
      expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error._tag).toBe("CredentialsError")
    }))

  it.effect("CredentialsChain.layer resolves through the AWS SDK chain (environment first, so no network here)", () =>
    Effect.gen(function*() {
      const saved = { ...process.env }
      process.env.AWS_ACCESS_KEY_ID = "AKCHAIN"
      process.env.AWS_SECRET_ACCESS_KEY = "chain-secret"
      process.env.AWS_SESSION_TOKEN = "chain-token"
      try {
        const creds = yield* Credentials.get.pipe(Effect.provide(CredentialsChain.layer()))
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
  it.effect("a failing refresh backs off 1 s doubling to 10 s while the credentials work, never past expiry", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(0)
      let calls = 0
      let failing = false
      const provider = () => {
        calls++
        return failing
          ? Promise.reject(new Error("Could not load credentials from any providers"))
          : Promise.resolve({ accessKeyId: "AK1", secretAccessKey: "s1", expiration: new Date(minutes(60)) })
      }
      const service = yield* Effect.provide(Credentials.Credentials, Credentials.layerProvider(provider))
      const step = request(service, () => calls)
      expect(yield* step).toEqual({ cost: 1, accessKeyId: "AK1" })
      failing = true
      yield* TestClock.setTime(minutes(55))
      expect(yield* step).toEqual({ cost: 1, accessKeyId: "AK1" })
      for (let i = 0; i < 50; i++) expect((yield* step).cost).toBe(0)
      for (const wait of [1_000, 2_000, 4_000, 8_000, 10_000, 10_000]) {
        yield* TestClock.adjust(wait - 1)
        expect(yield* step).toEqual({ cost: 0, accessKeyId: "AK1" })
        yield* TestClock.adjust(1)
        expect(yield* step).toEqual({ cost: 1, accessKeyId: "AK1" })
      }
      expect(calls).toBe(8)
      // 3 s before expiry the next attempt is due at expiry, not 10 s later.
      yield* TestClock.setTime(minutes(60) - 3_000)
      expect(yield* step).toEqual({ cost: 1, accessKeyId: "AK1" })
      yield* TestClock.adjust(2_999)
      expect((yield* step).cost).toBe(0)
      yield* TestClock.adjust(1)
      expect(service.unsafeCurrent!(minutes(60))).toBeUndefined()
      const error = failureOf(yield* Effect.exit(service.get))
      expect(error._tag).toBe("CredentialsError")
      expect(calls).toBe(10)
    }))

  it.effect("credentials returned inside the refresh window are used, and asked again with backoff", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(0)
      let calls = 0
      // Each answer expires `lifetime` after the test clock's time, read at the call.
      let lifetime = minutes(2)
      let now = 0
      const provider = () => {
        calls++
        const expiration = new Date(now + lifetime)
        return Promise.resolve({ accessKeyId: `AK${calls}`, secretAccessKey: "s", expiration })
      }
      const service = yield* Effect.provide(Credentials.Credentials, Credentials.layerProvider(provider))
      const step = Effect.zipRight(Effect.tap(Clock.currentTimeMillis, (t) => (now = t)), request(service, () => calls))
      expect(yield* step).toEqual({ cost: 1, accessKeyId: "AK1" })
      for (let i = 0; i < 20; i++) expect(yield* step).toEqual({ cost: 0, accessKeyId: "AK1" })
      yield* TestClock.adjust("1 second")
      expect(yield* step).toEqual({ cost: 1, accessKeyId: "AK2" })
      yield* TestClock.adjust("1 second")
      expect(yield* step).toEqual({ cost: 0, accessKeyId: "AK2" })
      yield* TestClock.adjust("1 second")
      expect(yield* step).toEqual({ cost: 1, accessKeyId: "AK3" })
      // Credentials outside the window again: the backoff is over, the next refresh is due 5 minutes
      // before they expire.
      lifetime = minutes(60)
      yield* TestClock.adjust("4 seconds")
      expect(yield* step).toEqual({ cost: 1, accessKeyId: "AK4" })
      yield* TestClock.adjust(minutes(55) - 1)
      expect(yield* step).toEqual({ cost: 0, accessKeyId: "AK4" })
      yield* TestClock.adjust(1)
      expect(yield* step).toEqual({ cost: 1, accessKeyId: "AK5" })
    }))

  it.effect("the fast path (unsafeCurrent, else get) calls the provider once per backoff step, not per request", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(0)
      let calls = 0
      let failing = false
      const provider = () => {
        calls++
        return failing
          ? Promise.reject(new Error("Too many requests"))
          : Promise.resolve({ accessKeyId: `AK${calls}`, secretAccessKey: "s", expiration: new Date(minutes(60)) })
      }
      const service = yield* Effect.provide(Credentials.Credentials, Credentials.layerProvider(provider))
      const fast = Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const creds = service.unsafeCurrent!(now)
        return creds === undefined ? service.get : Effect.succeed(creds)
      })
      yield* fast
      failing = true
      yield* TestClock.setTime(minutes(55))
      for (let i = 0; i < 100; i++) expect((yield* fast).accessKeyId).toBe("AK1")
      expect(calls).toBe(2)
      yield* TestClock.adjust("999 millis")
      expect(service.unsafeCurrent!(yield* Clock.currentTimeMillis)?.accessKeyId).toBe("AK1")
      yield* TestClock.adjust("1 millis")
      // The backoff is over: the fast path falls back to `get`, which refreshes.
      expect(service.unsafeCurrent!(yield* Clock.currentTimeMillis)).toBeUndefined()
      failing = false
      for (let i = 0; i < 100; i++) expect((yield* fast).accessKeyId).toBe("AK3")
      expect(calls).toBe(3)
    }))

  it.effect("100 concurrent requests make one provider call: the first fetch, a due refresh, a failing one", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(0)
      let calls = 0
      let held = true
      let answer: () => Promise<Credentials.AwsSdkCredentials> = () => Promise.reject(new Error("unset"))
      const waiting: Array<() => void> = []
      const provider = () => {
        calls++
        if (!held) return answer()
        return new Promise<Credentials.AwsSdkCredentials>((resolve, reject) =>
          waiting.push(() => answer().then(resolve, reject))
        )
      }
      /** 100 `get`s at once; the provider answers only once all of them have started. */
      const hundred = (service: Credentials.CredentialsService) =>
        Effect.gen(function*() {
          held = true
          let started = 0
          const fiber = yield* Effect.fork(Effect.all(
            Array.from({ length: 100 }, () => Effect.zipRight(Effect.sync(() => started++), Effect.exit(service.get))),
            { concurrency: "unbounded" }
          ))
          while (started < 100 || waiting.length === 0) yield* Effect.yieldNow()
          for (let i = 0; i < 10; i++) yield* Effect.yieldNow()
          held = false
          for (const release of waiting.splice(0)) release()
          return yield* Fiber.join(fiber)
        })
      const ids = (exits: ReadonlyArray<Exit.Exit<Credentials.AwsCredentials, unknown>>) =>
        new Set(exits.map((exit) => (Exit.isSuccess(exit) ? exit.value.accessKeyId : failureOf(exit)._tag)))

      const service = yield* Effect.provide(Credentials.Credentials, Credentials.layerProvider(provider))
      answer = () => Promise.resolve({ accessKeyId: "AK1", secretAccessKey: "s", expiration: new Date(minutes(60)) })
      expect(ids(yield* hundred(service))).toEqual(new Set(["AK1"]))
      expect(calls).toBe(1)
      yield* TestClock.setTime(minutes(55))
      answer = () => Promise.resolve({ accessKeyId: "AK2", secretAccessKey: "s", expiration: new Date(minutes(120)) })
      expect(ids(yield* hundred(service))).toEqual(new Set(["AK2"]))
      expect(calls).toBe(2)
      yield* TestClock.setTime(minutes(115))
      answer = () => Promise.reject(new Error("Connection refused"))
      expect(ids(yield* hundred(service))).toEqual(new Set(["AK2"]))
      expect(calls).toBe(3)

      const failing = yield* Effect.provide(Credentials.Credentials, Credentials.layerProvider(provider))
      expect(ids(yield* hundred(failing))).toEqual(new Set(["CredentialsError"]))
      expect(calls).toBe(4)
    }))

  it.effect("expired credentials that cannot be refreshed fail naming the sources, with no secret", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(0)
      let calls = 0
      const provider = () => {
        calls++
        return calls === 1
          ? Promise.resolve({
            accessKeyId: "AKOLD",
            secretAccessKey: "old-secret-must-not-leak",
            sessionToken: "old-token-must-not-leak",
            expiration: new Date(minutes(15))
          })
          : Promise.reject(
            new Error(`Profile default is invalid: {"SecretAccessKey":"wJalrXUtnFEMI-must-not-leak"} in ~/.aws/config`)
          )
      }
      const service = yield* Effect.provide(
        Credentials.Credentials,
        Credentials.layerProvider(provider, { sources: ["shared credentials file (~/.aws/credentials)"] })
      )
      yield* service.get
      yield* TestClock.setTime(minutes(15))
      const error = failureOf(yield* Effect.exit(service.get)) as { _tag: string; message: string; sources: unknown }
      expect(error._tag).toBe("CredentialsError")
      expect(error.sources).toEqual(["shared credentials file (~/.aws/credentials)"])
      expect(error.message).toMatch(/expired/)
      expect(error.message).toMatch(/refresh failed/)
      expect(error.message).toContain("Error: Profile default is invalid")
      const shown = `${error.message} ${JSON.stringify(error)} ${String(error)}`
      for (const secret of ["wJalrXUtnFEMI", "old-secret", "old-token"]) expect(shown).not.toContain(secret)
    }))
})
