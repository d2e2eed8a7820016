import { describe, expect, it } from "@effect/vitest"
import { Dataset, Emulator, type EmulatorOptions, Fault, FaultScript } from "@chime-rooms/testing"
import { Effect, Fiber, Redacted } from "effect"
import { ExitCode, type Io, run } from "../src/cli/Run.js"

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
      const args = ["--live", "--endpoint", emulator.endpoint, "--account", account, "--json"]

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
})
