import { describe, expect, it } from "@effect/vitest"
import { Dataset, Emulator, type EmulatorOptions, Fault, FaultScript } from "@chime-rooms/testing"
import { Effect, Fiber, Redacted } from "effect"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { ExitCode, type Io, run } from "../src/Run.js"

interface Captured extends Io {
  readonly stdout: () => string
  readonly stderr: () => string
}

const capture = (errIsTty = false): Captured => {
  let out = ""
  let err = ""
  return {
    out: (text) => Effect.sync(() => void (out += text)),
    err: (text) => void (err += text),
    errIsTty,
    stdout: () => out,
    stderr: () => err
  }
}

const small: EmulatorOptions = {
  dataset: Dataset.generate({ seed: 5, accounts: 2, roomsPerAccount: 230 }),
  pageSize: 50
}

// Every control character a terminal acts on: C0 but the newline ending each line, DEL, C1, bidi.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/

/** A hostile string: an OSC title, an ESC CSI, a C1 CSI (U+009B), a bell, DEL, a bidi override and isolate. */
const hostile = (label: string) => `${label}\u001b]0;owned\u0007\u001b[2J\u009b31m\u007f\u202e\u2066x`

/** The same, as the CLI prints it. */
const escaped = (label: string) => `${label}?]0;owned??[2J?31m???x`

/** A hostile error message as the CLI prints it: the client has turned C0, DEL and C1 into spaces already. */
const escapedMessage = "message ]0;owned [2J 31m ??x"

/** Sets the AWS key pair of `credentials` in the environment for this scope. */
const withEnvCredentials = (credentials: { accessKeyId: string; secretAccessKey: Redacted.Redacted<string> }) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const saved = { ...process.env }
      process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId
      process.env.AWS_SECRET_ACCESS_KEY = Redacted.value(credentials.secretAccessKey)
      return saved
    }),
    (saved) => Effect.sync(() => (process.env = saved))
  )

/** Sets `vars` in the environment for this scope, the shared config files pointed at nothing. */
const withEnv = (vars: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const saved = { ...process.env }
      Object.assign(process.env, { AWS_CONFIG_FILE: "/nonexistent/config", AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials" }, vars)
      return saved
    }),
    (saved) => Effect.sync(() => (process.env = saved))
  )

const jsonIds = (text: string) => text.trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l).RoomId as string)

const allIds = (account: string) =>
  Array.from({ length: small.dataset!.roomCount(account)! }, (_, i) => small.dataset!.room(account, i).RoomId!)

describe("pnpm start", () => {
  it.live("lists every room of the first account as JSON lines, nothing else on stdout", () =>
    Effect.gen(function*() {
      const io = capture()
      const code = yield* run(["--json"], io, small)
      expect(code).toBe(ExitCode.ok)
      const account = small.dataset!.accounts[0]!
      expect(jsonIds(io.stdout())).toEqual(allIds(account))
      expect(io.stderr()).toMatch(/^230 rooms in 5 pages · \d+ requests · 0 retries · 0 throttles · [\d.]+ s\n$/)
    }))

  it.live("prints a table, honours --account, --max-results and --member-id", () =>
    Effect.gen(function*() {
      const account = small.dataset!.accounts[1]!
      const io = capture()
      expect(yield* run(["--account", account, "--max-results", "99"], io, small)).toBe(ExitCode.ok)
      const lines = io.stdout().trimEnd().split("\n")
      expect(lines[0]).toMatch(/^ROOM ID\s+NAME\s+CREATED BY\s+CREATED\s+UPDATED$/)
      expect(lines).toHaveLength(231)
      expect(io.stderr()).toContain("230 rooms in 3 pages")

      const member = small.dataset!.members(account)[0]!
      const expected = small.dataset!.memberRooms(account, member)!.map((i) => small.dataset!.room(account, i).RoomId)
      const filtered = capture()
      expect(yield* run(["--json", "--account", account, "--member-id", member], filtered, small)).toBe(ExitCode.ok)
      expect(jsonIds(filtered.stdout())).toEqual(expected)
    }))

  it.live("survives injected 503s and throttling, and reports them", () =>
    Effect.gen(function*() {
      const io = capture()
      const faults = FaultScript.make({ rules: [{ calls: [2, 3], fault: Fault.unavailable() }, { calls: [4], fault: Fault.throttled("10 millis") }] })
      expect(yield* run(["--json"], io, { ...small, faults })).toBe(ExitCode.ok)
      expect(jsonIds(io.stdout())).toEqual(allIds(small.dataset!.accounts[0]!))
      expect(io.stderr()).toContain("3 retries · 1 throttles")
    }))

  it.live("bad arguments exit 2 with a clear message; --help exits 0", () =>
    Effect.gen(function*() {
      const io = capture()
      expect(yield* run(["--max-results", "100"], io, small)).toBe(ExitCode.usage)
      expect(io.stderr()).toBe(
        "--max-results must be an integer from 1 to 99, got \"100\"\nRun with --help to see the options.\n"
      )
      expect(io.stdout()).toBe("")
      const help = capture()
      expect(yield* run(["--help"], help, small)).toBe(ExitCode.ok)
      expect(help.stdout()).toContain("--max-results N")
    }))

  it.live("the embedded client signs for the emulator's region", () =>
    Effect.gen(function*() {
      const io = capture()
      expect(yield* run(["--json"], io, { ...small, region: "ap-southeast-2" })).toBe(ExitCode.ok)
      expect(jsonIds(io.stdout())).toEqual(allIds(small.dataset!.accounts[0]!))
    }))

  it.live("--live settings that lead to no endpoint, or cannot be read, exit 2 before anything is sent", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make(small)
      const argv = ["--live", "--endpoint", emulator.endpoint, "--region", emulator.region, "--account", emulator.accounts[0]!]
      const cases = [
        [{ AWS_USE_FIPS_ENDPOINT: "true" }, "No endpoint for this configuration: Invalid Configuration: FIPS and custom endpoint are not supported"],
        [{ AWS_USE_DUALSTACK_ENDPOINT: "yes" }, "Cannot read the configuration: "]
      ] as const
      for (const [vars, message] of cases) {
        const io = capture()
        const code = yield* Effect.scoped(Effect.zipRight(withEnv(vars), run(argv, io)))
        expect(code).toBe(ExitCode.usage)
        expect(io.stderr().startsWith(message), io.stderr()).toBe(true)
        expect(io.stderr()).toMatch(/\nRun with --help to see the options\.\n$/)
      }
      expect(emulator.received()).toEqual([])
    }).pipe(Effect.scoped))

  it.live("an error that survives the retries exits 1 after every room received, and --next-token resumes", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ ...small, faults: FaultScript.make({ rules: [{ calls: [3], fault: Fault.serviceError("NotFoundException") }] }) })
      const account = emulator.accounts[0]!
      const env = {
        AWS_ACCESS_KEY_ID: emulator.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: Redacted.value(emulator.credentials.secretAccessKey)
      }
      const saved = { ...process.env }
      Object.assign(process.env, env)
      yield* Effect.addFinalizer(() => Effect.sync(() => (process.env = saved)))
      const args = ["--live", "--endpoint", emulator.endpoint, "--region", emulator.region, "--account", account, "--json"]

      const failed = capture()
      expect(yield* run(args, failed)).toBe(ExitCode.serviceError)
      const first = jsonIds(failed.stdout())
      expect(first).toEqual(allIds(account).slice(0, 100))
      const lines = failed.stderr().trimEnd().split("\n")
      expect(lines[0]).toMatch(/^100 rooms in 2 pages/)
      expect(lines[1]).toMatch(/^Error: NotFoundException \(request id [\w-]+\): \S/)
      expect(lines[1]).not.toContain("request id none")
      expect(lines[2]).toMatch(/^Resume with: --next-token \S+$/)
      expect(failed.stderr()).not.toContain(env.AWS_SECRET_ACCESS_KEY)
      const token = lines[2]!.slice("Resume with: --next-token ".length)

      emulator.setFaults(undefined)
      const resumed = capture()
      expect(yield* run([...args, "--next-token", token], resumed)).toBe(ExitCode.ok)
      expect([...first, ...jsonIds(resumed.stdout())]).toEqual(allIds(account))
    }).pipe(Effect.scoped))

  it.live("a token printed by one run of the embedded emulator resumes in the next run", () =>
    Effect.gen(function*() {
      const stable = { ...small, tokenSecret: "fixed" }
      const failing = { ...stable, faults: FaultScript.make({ rules: [{ calls: [2], fault: Fault.serviceError("ForbiddenException") }] }) }
      const failed = capture()
      expect(yield* run(["--json"], failed, failing)).toBe(ExitCode.serviceError)
      expect(failed.stderr()).toMatch(/Error: ForbiddenException \(request id /)
      const token = /Resume with: --next-token (\S+)/.exec(failed.stderr())![1]!
      const resumed = capture()
      expect(yield* run(["--json", "--next-token", token], resumed, stable)).toBe(ExitCode.ok)
      expect([...jsonIds(failed.stdout()), ...jsonIds(resumed.stdout())]).toEqual(allIds(small.dataset!.accounts[0]!))
    }))

  it.live("interrupting prints the summary line", () =>
    Effect.gen(function*() {
      const io = capture(true)
      const slow = { ...small, rateLimit: { rate: 5, burst: 1 } }
      const fiber = yield* Effect.fork(run(["--json", "--rate", "5"], io, slow))
      yield* Effect.sleep("700 millis")
      yield* Fiber.interrupt(fiber)
      expect(io.stderr()).toMatch(/\r\u001b\[K\d+ rooms in \d+ pages/)
      const rooms = jsonIds(io.stdout())
      expect(rooms.length).toBeLessThan(230)
    }))

  it.live("arguments that can never be sent exit 2 naming the argument, and nothing is sent", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make(small)
      yield* withEnvCredentials(emulator.credentials)
      const account = emulator.accounts[0]!
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
        [["--account", "."], "--account must not be '.' or '..'"],
        [["--account", ".."], "--account must not be '.' or '..'"],
        [["--account", "   "], "--account must contain a non-space character"],
        [["--account", "acc\ud800"], "--account must be valid Unicode (no lone surrogates)"],
        [["--account", account, "--member-id", "\udc00m"], "--member-id must be valid Unicode (no lone surrogates)"],
        [["--account", account, "--next-token", "t\ud83d"], "--next-token must be valid Unicode (no lone surrogates)"],
        [["--account", account, "--next-token", ""], "--next-token must not be empty"],
        [["--account", account, "--next-token="], "--next-token must not be empty"],
        [["--account", account, "--max-results", "0"], "--max-results must be an integer from 1 to 99"],
        [["--account", account, "--max-results", "100"], "--max-results must be an integer from 1 to 99"]
      ]
      for (const [args, message] of cases) {
        for (const target of [[], ["--live", "--endpoint", emulator.endpoint, "--region", emulator.region]]) {
          const io = capture()
          const argv = [...target, "--json", ...args]
          expect(yield* run(argv, io, small), argv.join(" ")).toBe(ExitCode.usage)
          expect(io.stderr().startsWith(message), io.stderr()).toBe(true)
          expect(io.stderr()).toMatch(/\nRun with --help to see the options\.\n$/)
          expect(io.stdout()).toBe("")
        }
      }
      expect(emulator.received()).toHaveLength(0)
    }).pipe(Effect.scoped))

  it.live("the service's text is printed without control characters: rooms, error message", () =>
    Effect.gen(function*() {
      const dataset = Dataset.fromRooms({
        acc: {
          rooms: [
            { RoomId: hostile("id"), Name: hostile("name"), CreatedBy: hostile("by") },
            { RoomId: "r-2", Name: "plain" },
            { RoomId: "r-3", Name: "plain" }
          ]
        }
      })
      const faults = FaultScript.make({
        rules: [{ calls: [2], fault: Fault.serviceError("ForbiddenException", { message: hostile("message") }) }]
      })
      const io = capture()
      expect(yield* run(["--max-results", "2"], io, { dataset, faults })).toBe(ExitCode.serviceError)
      expect(io.stdout()).not.toMatch(CONTROL)
      expect(io.stderr()).not.toMatch(CONTROL)
      expect(io.stdout()).toContain(escaped("id"))
      expect(io.stderr()).toContain(`: ${escapedMessage}\n`)
      expect(io.stderr()).toMatch(/\nResume with: --next-token \S+\n$/)

      // In JSON the same rooms, every control character escaped: the same values once parsed.
      const json = capture()
      expect(yield* run(["--json", "--max-results", "2"], json, { dataset, faults })).toBe(ExitCode.serviceError)
      expect(json.stdout()).not.toMatch(CONTROL)
      expect(jsonIds(json.stdout())).toEqual([hostile("id"), "r-2"])
    }))

  it.live("the service's text is printed without control characters: request id and resume token", () =>
    Effect.gen(function*() {
      // A service that answers a first page with a hostile token, then fails with a hostile request
      // id (latin-1 bytes: C1 controls fit in a header value) and message.
      const server = yield* Effect.acquireRelease(
        Effect.async<ReturnType<typeof createServer>>((resume) => {
          const s = createServer((req, res) => {
            res.setHeader("content-type", "application/json")
            if (!req.url!.includes("next-token=")) {
              res.setHeader("x-amzn-RequestId", "req-1")
              res.end(JSON.stringify({ Rooms: [{ RoomId: "r-1" }], NextToken: hostile("token") }))
            } else {
              res.statusCode = 404
              res.setHeader("x-amzn-RequestId", "req\u009b2J\u0085")
              res.setHeader("x-amzn-ErrorType", "NotFoundException")
              res.end(JSON.stringify({ Code: "NotFoundException", Message: hostile("message") }))
            }
          })
          s.listen(0, "127.0.0.1", () => resume(Effect.succeed(s)))
        }),
        (s) => Effect.async<void>((resume) => void s.close(() => resume(Effect.void)))
      )
      yield* withEnvCredentials({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: Redacted.make("secret") })
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      const io = capture()
      const argv = ["--live", "--endpoint", endpoint, "--account", "acc", "--json"]
      expect(yield* run(argv, io)).toBe(ExitCode.serviceError)
      expect(jsonIds(io.stdout())).toEqual(["r-1"])
      expect(io.stderr()).not.toMatch(CONTROL)
      const lines = io.stderr().trimEnd().split("\n")
      expect(lines[1]).toMatch(/^Error: NotFoundException \(request id req[^)]*2J[^)]*\): /)
      expect(lines[1]!.endsWith(`: ${escapedMessage}`)).toBe(true)
      expect(lines[2]).toBe(`Resume with: --next-token ${escaped("token")}`)
    }).pipe(Effect.scoped))
})
