import { Dataset, Emulator, Fault, FaultScript } from "@chime-rooms/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Redacted } from "effect"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ExitCode } from "../src/Io.js"
import { run } from "../src/Run.js"
import { allIds, capture, jsonIds, small, withEnv, withEnvCredentials } from "./support.js"

// Every control character a terminal acts on: C0 but the newline ending each line, DEL, C1, bidi.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/

/** A hostile string: an OSC title, an ESC CSI, a C1 CSI (U+009B), a bell, DEL, a bidi override and isolate. */
const hostile = (label: string) => `${label}\u001b]0;owned\u0007\u001b[2J\u009b31m\u007f\u202e\u2066x`

/** The same, as the CLI prints it. */
const escaped = (label: string) => `${label}?]0;owned??[2J?31m???x`

/** A hostile error message as the CLI prints it: the client has turned C0, DEL and C1 into spaces already. */
const escapedMessage = "message ]0;owned [2J 31m ??x"

describe("chime-rooms list", () => {
  it.live("lists every room of the first account as JSON lines, nothing else on stdout", () =>
    Effect.gen(function*() {
      const io = capture()
      const code = yield* run(["list", "--json"], io, small)
      expect(code).toBe(ExitCode.ok)
      const account = small.dataset!.accounts[0]!
      expect(jsonIds(io.stdout())).toEqual(allIds(account))
      expect(io.stderr()).toMatch(/^230 rooms in 5 pages · \d+ requests · 0 retries · 0 throttles · [\d.]+ s\n$/)
    }))

  it.live("prints a table, honours --account, --max-results and --member-id", () =>
    Effect.gen(function*() {
      const account = small.dataset!.accounts[1]!
      const io = capture()
      expect(yield* run(["list", "--account", account, "--max-results", "99"], io, small)).toBe(ExitCode.ok)
      const lines = io.stdout().trimEnd().split("\n")
      expect(lines[0]).toMatch(/^ROOM ID\s+NAME\s+CREATED BY\s+CREATED\s+UPDATED$/)
      expect(lines).toHaveLength(231)
      expect(io.stderr()).toContain("230 rooms in 3 pages")

      const member = small.dataset!.members(account)[0]!
      const expected = small.dataset!.memberRooms(account, member)!.map((i) => small.dataset!.room(account, i).RoomId)
      const filtered = capture()
      expect(yield* run(["list", "--json", "--account", account, "--member-id", member], filtered, small)).toBe(
        ExitCode.ok
      )
      expect(jsonIds(filtered.stdout())).toEqual(expected)
    }))

  it.live("survives injected 503s and throttling, and reports them", () =>
    Effect.gen(function*() {
      const io = capture()
      const faults = FaultScript.make({
        rules: [{ calls: [2, 3], fault: Fault.unavailable() }, { calls: [4], fault: Fault.throttled("10 millis") }]
      })
      expect(yield* run(["list", "--json"], io, { ...small, faults })).toBe(ExitCode.ok)
      expect(jsonIds(io.stdout())).toEqual(allIds(small.dataset!.accounts[0]!))
      expect(io.stderr()).toContain("3 retries · 1 throttles")
    }))

  it.live("bad arguments exit 2 with a clear message; --help exits 0", () =>
    Effect.gen(function*() {
      const io = capture()
      expect(yield* run(["list", "--max-results", "100"], io, small)).toBe(ExitCode.usage)
      expect(io.stderr()).toBe(
        "--max-results must be an integer from 1 to 99, got \"100\"\nRun with --help to see the options.\n"
      )
      expect(io.stdout()).toBe("")
      const help = capture()
      expect(yield* run(["list", "--help"], help, small)).toBe(ExitCode.ok)
      expect(help.stdout()).toContain("--max-results N")
    }))

  it.live("the embedded client signs for the emulator's region", () =>
    Effect.gen(function*() {
      const io = capture()
      expect(yield* run(["list", "--json"], io, { ...small, region: "ap-southeast-2" })).toBe(ExitCode.ok)
      expect(jsonIds(io.stdout())).toEqual(allIds(small.dataset!.accounts[0]!))
    }))

  it.live("--live settings that lead to no endpoint, or cannot be read, exit 2 before anything is sent", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make(small)
      const argv = [
        "--live",
        "--endpoint",
        emulator.endpoint,
        "--region",
        emulator.region,
        "--account",
        emulator.accounts[0]!
      ]
      const cases = [
        [
          { AWS_USE_FIPS_ENDPOINT: "true" },
          "No endpoint for this configuration: Invalid Configuration: FIPS and custom endpoint are not supported"
        ],
        [{ AWS_USE_DUALSTACK_ENDPOINT: "yes" }, "Cannot read the configuration: "]
      ] as const
      for (const [vars, message] of cases) {
        const io = capture()
        const code = yield* Effect.scoped(Effect.zipRight(withEnv(vars), run(["list", ...argv], io)))
        expect(code).toBe(ExitCode.usage)
        expect(io.stderr().startsWith(message), io.stderr()).toBe(true)
        expect(io.stderr()).toMatch(/\nRun with --help to see the options\.\n$/)
      }
      expect(emulator.received()).toEqual([])
    }).pipe(Effect.scoped))

  it.live("an error that survives the retries exits 1 after every room received, and --next-token resumes", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({
        ...small,
        faults: FaultScript.make({ rules: [{ calls: [3], fault: Fault.serviceError("NotFoundException") }] })
      })
      const account = emulator.accounts[0]!
      const env = {
        AWS_ACCESS_KEY_ID: emulator.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: Redacted.value(emulator.credentials.secretAccessKey)
      }
      const saved = { ...process.env }
      Object.assign(process.env, env)
      yield* Effect.addFinalizer(() => Effect.sync(() => (process.env = saved)))
      const args = [
        "--live",
        "--endpoint",
        emulator.endpoint,
        "--region",
        emulator.region,
        "--account",
        account,
        "--json"
      ]

      const failed = capture()
      expect(yield* run(["list", ...args], failed)).toBe(ExitCode.serviceError)
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
      expect(yield* run(["list", ...args, "--next-token", token], resumed)).toBe(ExitCode.ok)
      expect([...first, ...jsonIds(resumed.stdout())]).toEqual(allIds(account))
    }).pipe(Effect.scoped))

  it.live("a token printed by one run of the embedded emulator resumes in the next run", () =>
    Effect.gen(function*() {
      const stable = { ...small, tokenSecret: "fixed" }
      const failing = {
        ...stable,
        faults: FaultScript.make({ rules: [{ calls: [2], fault: Fault.serviceError("ForbiddenException") }] })
      }
      const failed = capture()
      expect(yield* run(["list", "--json"], failed, failing)).toBe(ExitCode.serviceError)
      expect(failed.stderr()).toMatch(/Error: ForbiddenException \(request id /)
      const token = /Resume with: --next-token (\S+)/.exec(failed.stderr())![1]!
      const resumed = capture()
      expect(yield* run(["list", "--json", "--next-token", token], resumed, stable)).toBe(ExitCode.ok)
      expect([...jsonIds(failed.stdout()), ...jsonIds(resumed.stdout())]).toEqual(allIds(small.dataset!.accounts[0]!))
    }))

  it.live("interrupting prints the summary line", () =>
    Effect.gen(function*() {
      const io = capture(true)
      const slow = { ...small, rateLimit: { rate: 5, burst: 1 } }
      const fiber = yield* Effect.fork(run(["list", "--json", "--rate", "5"], io, slow))
      yield* Effect.sleep("700 millis")
      yield* Fiber.interrupt(fiber)
      // eslint-disable-next-line no-control-regex -- the terminal's erase-line sequence is what is tested
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
          expect(yield* run(["list", ...argv], io, small), argv.join(" ")).toBe(ExitCode.usage)
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
      expect(yield* run(["list", "--max-results", "2"], io, { dataset, faults })).toBe(ExitCode.serviceError)
      expect(io.stdout()).not.toMatch(CONTROL)
      expect(io.stderr()).not.toMatch(CONTROL)
      expect(io.stdout()).toContain(escaped("id"))
      expect(io.stderr()).toContain(`: ${escapedMessage}\n`)
      expect(io.stderr()).toMatch(/\nResume with: --next-token \S+\n$/)

      // In JSON the same rooms, every control character escaped: the same values once parsed.
      const json = capture()
      expect(yield* run(["list", "--json", "--max-results", "2"], json, { dataset, faults })).toBe(
        ExitCode.serviceError
      )
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
      expect(yield* run(["list", ...argv], io)).toBe(ExitCode.serviceError)
      expect(jsonIds(io.stdout())).toEqual(["r-1"])
      expect(io.stderr()).not.toMatch(CONTROL)
      const lines = io.stderr().trimEnd().split("\n")
      expect(lines[1]).toMatch(/^Error: NotFoundException \(request id req[^)]*2J[^)]*\): /)
      expect(lines[1]!.endsWith(`: ${escapedMessage}`)).toBe(true)
      expect(lines[2]).toBe(`Resume with: --next-token ${escaped("token")}`)
    }).pipe(Effect.scoped))
})

describe("chime-rooms list: formats", () => {
  it.live("--json is --format json; --format csv writes RFC 4180 with a header row and CRLF line ends", () =>
    Effect.gen(function*() {
      const account = small.dataset!.accounts[0]!
      const json = capture()
      expect(yield* run(["list", "--format", "json"], json, small)).toBe(ExitCode.ok)
      expect(jsonIds(json.stdout())).toEqual(allIds(account))
      const both = capture()
      expect(yield* run(["list", "--json", "--format=json"], both, small)).toBe(ExitCode.ok)
      expect(both.stdout()).toBe(json.stdout())

      const csv = capture()
      expect(yield* run(["list", "--format", "csv", "--max-results", "99"], csv, small)).toBe(ExitCode.ok)
      const lines = csv.stdout().split("\r\n")
      expect(lines[0]).toBe("AccountId,CreatedBy,CreatedTimestamp,Name,RoomId,UpdatedTimestamp")
      expect(lines).toHaveLength(1 + 230 + 1)
      expect(lines.at(-1)).toBe("")
      expect(csv.stdout().replaceAll("\r\n", "")).not.toContain("\n")
      const first = small.dataset!.room(account, 0)
      expect(lines[1]).toBe(
        [first.AccountId, first.CreatedBy, first.CreatedTimestamp, first.Name, first.RoomId, first.UpdatedTimestamp]
          .join(",")
      )
      expect(csv.stderr()).toContain("230 rooms in 3 pages")
    }))

  it.live("two different formats exit 2 before anything is listed", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
        [["--json", "--format", "csv"], "--json is --format json: it cannot be given with --format csv\n"],
        [["--format", "table", "--json"], "--json is --format json: it cannot be given with --format table\n"],
        [["--format", "json", "--format", "csv"], "--format given twice\n"],
        [["--format=csv", "--format=csv"], "--format given twice\n"]
      ]
      for (const [args, message] of cases) {
        const io = capture()
        expect(yield* run(["list", ...args], io, small), args.join(" ")).toBe(ExitCode.usage)
        expect(io.stderr()).toBe(`${message}Run with --help to see the options.\n`)
        expect(io.stdout()).toBe("")
      }
    }))
})

describe("chime-rooms: the command line", () => {
  it.live("validation errors of @effect/cli exit 2, its message and the hint on stderr, nothing on stdout", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
        [["list", "--format", "xml"], "Expected one of the following cases: table, json, csv"],
        [["list", "--bogus"], "Received unknown argument: '--bogus'"],
        [["list", "extra"], "Received unknown argument: 'extra'"],
        [["lst"], "Invalid subcommand for chime-rooms - use one of 'list', 'export', 'emulator'"],
        [["list", "--max-results", "abc"], "--max-results must be an integer from 1 to 99, got \"abc\""],
        [["list", "--max-results", "1e2"], "--max-results must be an integer from 1 to 99, got \"1e2\""],
        [["list", "--rate", "Infinity"], "--rate must be a positive number of requests per second, got \"Infinity\""],
        [["list", "--prefetch", "-1"], "--prefetch must be an integer from 0 to 100, got \"-1\""],
        [["list", "--account", "--json"], "--account needs a value"],
        [["list", "--account"], "--account needs a value"],
        [["list", "--account", "a", "--account", "b"], "--account given twice"],
        [
          ["list", "--endpoint", "http://127.0.0.1:1"],
          "--endpoint needs --live (without it the embedded emulator is used)"
        ],
        [
          ["list", "--live", "--account", "a", "--endpoint", "ftp://x"],
          "--endpoint must be an http(s) URL, got \"ftp://x\""
        ],
        [["list", "--region", "eu-west-1"], "--region needs --live"],
        [["list", "--profile", "dev"], "--profile needs --live"],
        [["list", "--live"], "--live needs --account ID"],
        [["list", "--JSON"], "Received unknown argument: '--JSON'"]
      ]
      for (const [argv, message] of cases) {
        const io = capture()
        expect(yield* run(argv, io, small), argv.join(" ")).toBe(ExitCode.usage)
        expect(io.stderr(), argv.join(" ")).toBe(`${message}\nRun with --help to see the options.\n`)
        expect(io.stdout()).toBe("")
      }
    }))

  it.live("a `--` first, or right after the subcommand (as pnpm passes it), changes nothing", () =>
    Effect.gen(function*() {
      const plain = capture()
      expect(yield* run(["list", "--json", "--max-results", "99"], plain, small)).toBe(ExitCode.ok)
      const dashed = [["--", "list", "--json", "--max-results", "99"], ["list", "--", "--json", "--max-results", "99"]]
      for (const argv of dashed) {
        const io = capture()
        expect(yield* run(argv, io, small), argv.join(" ")).toBe(ExitCode.ok)
        expect(io.stdout()).toBe(plain.stdout())
      }
      const bad = capture()
      expect(yield* run(["--", "list", "--", "--bogus"], bad, small)).toBe(ExitCode.usage)
      expect(bad.stderr()).toContain("Received unknown argument: '--bogus'")
    }))

  it.live("--help, --version and --completions come from @effect/cli and exit 0, plain text off a terminal", () =>
    Effect.gen(function*() {
      const helps = [
        ["list", "--help"],
        ["list", "--live", "--help"],
        ["list", "--max-results", "100", "-h"],
        ["list", "--account", "a", "--account", "b", "--help"]
      ]
      for (const argv of helps) {
        const io = capture()
        expect(yield* run(argv, io, small), argv.join(" ")).toBe(ExitCode.ok)
        for (const option of ["--format table | json | csv", "--prefetch N", "--profile NAME", "--next-token TOKEN"]) {
          expect(io.stdout()).toContain(option)
        }
        expect(io.stdout()).not.toContain("\u001b")
        expect(io.stderr()).toBe("")
      }
      const emulatorHelp = capture()
      expect(yield* run(["emulator", "--help"], emulatorHelp, small)).toBe(ExitCode.ok)
      expect(emulatorHelp.stdout()).toContain("--fault SPEC")
      const root = capture()
      expect(yield* run(["--help"], root, small)).toBe(ExitCode.ok)
      expect(root.stdout()).toMatch(/- list .*\n[\s\S]*- emulator /)

      const version = capture()
      expect(yield* run(["--version"], version, small)).toBe(ExitCode.ok)
      const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"))
      expect(version.stdout()).toBe(`${pkg.version}\n`)

      for (const shell of ["bash", "zsh", "fish"]) {
        const io = capture()
        expect(yield* run(["--completions", shell], io, small)).toBe(ExitCode.ok)
        expect(io.stdout()).toContain("chime-rooms")
        expect(io.stdout()).toContain("max-results")
      }
    }))
})

describe("chime-rooms list: stopping, prefetch, profile", () => {
  it.live("stopped (SIGINT, SIGTERM): the summary, then exit code 130", () =>
    Effect.gen(function*() {
      const io = capture()
      const slow = { ...small, rateLimit: { rate: 5, burst: 1 } }
      const fiber = yield* Effect.fork(run(["list", "--json", "--rate", "5"], io, slow))
      yield* io.firstLine
      yield* io.requestStop
      expect(yield* Fiber.join(fiber)).toBe(ExitCode.interrupted)
      expect(io.stderr()).toMatch(/^\d+ rooms in \d+ pages · \d+ requests · /)
      expect(jsonIds(io.stdout()).length).toBeLessThan(230)
    }))

  it.live("--prefetch requests pages ahead of an output that does not keep up", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make(small)
      yield* withEnvCredentials(emulator.credentials)
      const sent = (prefetch: ReadonlyArray<string>) =>
        Effect.gen(function*() {
          const before = emulator.received().length
          const io = capture()
          // A reader that takes the first page and then nothing more.
          const stuck = { ...io, out: (text: string) => Effect.zipRight(io.out(text), Effect.never) }
          const argv = ["list", "--live", "--endpoint", emulator.endpoint, "--region", emulator.region, "--json"]
          const fiber = yield* Effect.fork(run([...argv, "--account", emulator.accounts[0]!, ...prefetch], stuck))
          yield* io.firstLine
          yield* Effect.sleep("400 millis")
          yield* Fiber.interrupt(fiber)
          return emulator.received().length - before
        })
      expect(yield* sent([])).toBe(1)
      expect(yield* sent(["--prefetch", "0"])).toBe(1)
      expect(yield* sent(["--prefetch", "3"])).toBe(4)
    }).pipe(Effect.scoped))

  it.live("--profile picks the AWS profile: its credentials, region and endpoint from the shared files", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ ...small, region: "ap-southeast-2" })
      const dir = mkdtempSync(join(tmpdir(), "chime-rooms-profile-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const config = join(dir, "config")
      const credentials = join(dir, "credentials")
      // Both profiles point at the emulator (nothing goes elsewhere); only `emu` holds its key pair
      // and the region it signs for.
      writeFileSync(
        config,
        `[default]\nregion = us-west-2\nendpoint_url = ${emulator.endpoint}\n\n` +
          `[profile emu]\nregion = ${emulator.region}\nendpoint_url = ${emulator.endpoint}\n`
      )
      writeFileSync(
        credentials,
        `[default]\naws_access_key_id = AKIAWRONGWRONGWRONG1\naws_secret_access_key = wrong\n\n` +
          `[emu]\naws_access_key_id = ${emulator.credentials.accessKeyId}\n` +
          `aws_secret_access_key = ${Redacted.value(emulator.credentials.secretAccessKey)}\n`
      )
      yield* withEnv({
        AWS_CONFIG_FILE: config,
        AWS_SHARED_CREDENTIALS_FILE: credentials,
        AWS_ACCESS_KEY_ID: undefined,
        AWS_SECRET_ACCESS_KEY: undefined,
        AWS_SESSION_TOKEN: undefined
      })
      const account = emulator.accounts[0]!
      const io = capture()
      expect(yield* run(["list", "--live", "--profile", "emu", "--account", account, "--json"], io)).toBe(ExitCode.ok)
      expect(jsonIds(io.stdout())).toEqual(allIds(account))

      // The default profile's keys and region are refused: the profile is what made the difference.
      const other = capture()
      expect(yield* run(["list", "--live", "--account", account, "--json"], other)).toBe(ExitCode.serviceError)
      expect(other.stderr()).toMatch(/Error: ForbiddenException \(request id [\w-]+\): /)
      expect(other.stderr()).not.toContain(Redacted.value(emulator.credentials.secretAccessKey))
    }).pipe(Effect.scoped))
})
