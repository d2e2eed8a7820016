import { ChimeRooms } from "@chime-rooms/core"
import { Credentials, HttpChimeRooms, UndiciHttpClient } from "@chime-rooms/http"
import { Dataset, Emulator } from "@chime-rooms/testing"
import { CliConfig, Options } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either, Fiber, Layer } from "effect"
import { emulatorOptions, emulatorValued } from "../src/EmulatorCommand.js"
import { normalize } from "../src/internal/argv.js"
import { ExitCode } from "../src/Io.js"
import { run } from "../src/Run.js"
import { capture, type Captured } from "./support.js"

interface Announced {
  readonly endpoint: string
  readonly region: string
  readonly accounts: ReadonlyArray<string>
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string }
}

/** Starts `chime-rooms emulator args` in-process; stopped when the scope closes, as SIGTERM stops it. */
const start = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const io = capture()
    const fiber = yield* Effect.acquireRelease(
      Effect.fork(run(["emulator", ...args], io)),
      (fiber) => Effect.zipRight(io.requestStop, Fiber.await(fiber))
    )
    const line = yield* Effect.raceFirst(
      io.firstLine,
      Effect.flatMap(
        Fiber.join(fiber),
        (code) => Effect.dieMessage(`exited with ${code} before printing: ${io.stderr()}`)
      )
    )
    return { io, fiber, line, info: JSON.parse(line) as Announced }
  })

/** One signed `ListRooms` call to the announced emulator (no retries), for `region`. */
const listOnce = (info: Announced, account: string, region = info.region) =>
  Effect.either(Effect.flatMap(ChimeRooms.ChimeRooms, (chime) => chime.listRooms({ AccountId: account }))).pipe(
    Effect.provide(
      HttpChimeRooms.layer({ endpoint: info.endpoint, region }).pipe(
        Layer.orDie,
        Layer.provide(Credentials.layerStatic(info.credentials)),
        Layer.provide(UndiciHttpClient.layer)
      )
    )
  )

/** The options `chime-rooms emulator argv` runs with, read as `run` reads them. */
const parse = (argv: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const args = Either.getOrThrow(normalize(["emulator", ...argv], { emulator: emulatorValued }))
    const config = CliConfig.make({ isCaseSensitive: true })
    const [error, rest, options] = yield* Options.processCommandLine(emulatorOptions, args.slice(1), config)
    expect(error._tag).toBe("None")
    expect(rest).toEqual([])
    return options
  }).pipe(Effect.provide(NodeContext.layer))

const stop = (io: Captured, fiber: Fiber.RuntimeFiber<number>) => Effect.zipRight(io.requestStop, Fiber.join(fiber))

describe("chime-rooms emulator", () => {
  it.live("prints one JSON line, serves the seeded rooms with its faults, and exits 0 when stopped", () =>
    Effect.gen(function*() {
      const { fiber, info, io, line } = yield* start(
        ["--accounts", "2", "--rooms", "30", "--page-size", "7", "--seed", "5", "--fault=503@2"]
      )
      expect(Object.keys(info)).toEqual(["endpoint", "region", "accounts", "credentials"])
      expect(line).toBe(JSON.stringify(info))
      expect(info.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      expect(info.region).toBe("us-east-1")
      const dataset = Dataset.generate({ seed: 5, accounts: 2, roomsPerAccount: 30 })
      expect(info.accounts).toEqual(dataset.accounts)
      expect(Object.keys(info.credentials)).toEqual(["accessKeyId", "secretAccessKey"])
      const first = yield* listOnce(info, info.accounts[1]!)
      expect(Either.getOrThrow(first).Rooms!.map((room) => room.RoomId)).toEqual(
        Dataset.allRooms(dataset, info.accounts[1]!).slice(0, 7).map((room) => room.RoomId)
      )
      const second = yield* listOnce(info, info.accounts[0]!)
      expect(Either.isLeft(second) && second.left._tag).toBe("ServiceUnavailableException")
      expect(Either.isRight(yield* listOnce(info, info.accounts[0]!))).toBe(true)
      expect(yield* stop(io, fiber)).toBe(ExitCode.ok)
      expect(io.stderr()).toMatch(/^emulator: serving 2 account\(s\) x 30 rooms on http:\/\/127\.0\.0\.1:\d+; /)
      expect(io.stderr()).not.toContain(info.credentials.secretAccessKey)
      expect(io.stdout()).toBe(`${line}\n`)
      const after = yield* listOnce(info, info.accounts[0]!)
      expect(Either.isLeft(after) && after.left._tag).toBe("TransportError")
    }).pipe(Effect.scoped))

  it.live("--region: the JSON line names it, and requests signed for it (only) are served", () =>
    Effect.gen(function*() {
      const { info } = yield* start(["--rooms", "5", "--region", "ap-southeast-2"])
      expect(info.region).toBe("ap-southeast-2")
      expect(Either.isRight(yield* listOnce(info, info.accounts[0]!))).toBe(true)
      const other = yield* listOnce(info, info.accounts[0]!, "us-east-1")
      expect(Either.isLeft(other) && other.left.message).toBe("Credential should be scoped to a valid region.")
    }).pipe(Effect.scoped))

  it.live("--rate, --burst and --rate-retry-after: a rate limit whose 429s carry Retry-After", () =>
    Effect.gen(function*() {
      const { info } = yield* start(["--rooms", "5", "--rate", "0.5", "--burst", "1", "--rate-retry-after"])
      expect(Either.isRight(yield* listOnce(info, info.accounts[0]!))).toBe(true)
      const throttled = yield* listOnce(info, info.accounts[0]!)
      if (Either.isRight(throttled)) throw new Error("expected a 429")
      expect(throttled.left._tag).toBe("ThrottledClientException")
      expect("retryAfter" in throttled.left && Duration.toSeconds(throttled.left.retryAfter!)).toBeGreaterThanOrEqual(1)
    }).pipe(Effect.scoped))

  it.effect("reads every option, in both --flag value and --flag=value forms", () =>
    Effect.gen(function*() {
      const options = yield* parse([
        "--port=8080",
        "--accounts",
        "3",
        "--rooms",
        "100000",
        "--members",
        "4",
        "--page-size",
        "99",
        "--seed",
        "-7",
        "--rate",
        "2.5",
        "--fault",
        "429@5,6:retry-after=2",
        "--fault=reset@every=10",
        "--clock-offset",
        "-600",
        "--max-skew",
        "60",
        "--record",
        "0",
        "--region=us-gov-west-1"
      ])
      expect(options).toMatchObject({
        port: 8080,
        accounts: 3,
        rooms: 100000,
        members: 4,
        pageSize: 99,
        seed: -7,
        record: 0,
        region: "us-gov-west-1",
        faultSpecs: ["429@5,6:retry-after=2", "reset@every=10"],
        clockOffsetMillis: -600_000
      })
      expect(Duration.toSeconds(options.maxSkew)).toBe(60)
      // The burst defaults to the rate rounded up.
      expect(options.rateLimit).toEqual({ rate: 2.5, burst: 3 })
    }))

  it.effect("has defaults; --burst and --rate-retry-after shape the rate limit", () =>
    Effect.gen(function*() {
      const options = yield* parse([])
      expect(options).toMatchObject({
        port: 0,
        accounts: 1,
        rooms: 1000,
        members: 20,
        pageSize: 10,
        seed: 1,
        record: 1000,
        region: "us-east-1",
        faultSpecs: [],
        clockOffsetMillis: 0
      })
      expect(Duration.toSeconds(options.maxSkew)).toBe(300)
      expect(options.rateLimit).toBeUndefined()
      expect((yield* parse(["--rate", "10", "--burst", "20"])).rateLimit).toEqual({ rate: 10, burst: 20 })
      expect((yield* parse(["--rate", "10", "--rate-retry-after"])).rateLimit).toEqual(
        { rate: 10, burst: 10, retryAfter: true }
      )
    }))

  it.live("bad arguments exit 2 with a message, nothing on stdout, no emulator started", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
        [["--port", "x"], "--port must be an integer from 0 to 65535, got \"x\""],
        [["--port", "70000"], "--port must be an integer from 0 to 65535, got \"70000\""],
        [["--frobnicate"], "Received unknown argument: '--frobnicate'"],
        [["--fault", "nonsense"], "Invalid fault spec \"nonsense\""],
        [["--fault=429@0"], "Invalid fault spec \"429@0\""],
        [["--burst", "3"], "--burst needs --rate"],
        [["--rate-retry-after"], "--rate-retry-after needs --rate"],
        [["--rate", "0"], "--rate must be a positive number, got \"0\""],
        [["--rooms"], "--rooms needs a value"],
        [["--fault"], "--fault needs a value"],
        [["--region", "eu/west-1"], "--region needs a region name (letters, digits, dashes), got \"eu/west-1\""],
        [["--region", "-east"], "--region needs a region name (letters, digits, dashes), got \"-east\""],
        [["stray"], "Received unknown argument: 'stray'"]
      ]
      for (const [args, message] of cases) {
        const io = capture()
        expect(yield* run(["emulator", ...args], io), args.join(" ")).toBe(ExitCode.usage)
        expect(io.stderr().startsWith(message), io.stderr()).toBe(true)
        expect(io.stderr()).toMatch(/\nRun with --help to see the options\.\n$/)
        expect(io.stdout()).toBe("")
      }
    }))

  it.live("exits 1 with the reason when the port is taken", () =>
    Effect.gen(function*() {
      const taken = yield* Emulator.make({})
      const io = capture()
      expect(yield* run(["emulator", "--port", String(taken.port)], io)).toBe(ExitCode.serviceError)
      expect(io.stderr()).toMatch(/^emulator: cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE\n$/)
      expect(io.stdout()).toBe("")
    }).pipe(Effect.scoped))
})
