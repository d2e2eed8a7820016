import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { beforeAll } from "vitest"
import { buildBin, main, root, startBin } from "./bin.js"

/**
 * Runs the built main job; `onFirstRooms` fires once some rooms are on stdout, `onFirstLine` once
 * the first line is.
 */
const start = (
  args: Array<string>,
  onFirstRooms?: (child: ChildProcess) => void,
  onFirstLine?: (child: ChildProcess) => void
) =>
  Effect.runPromise(startBin(args, {
    onStart: (child) => {
      let stdout = ""
      child.stdout!.on("data", (chunk: Buffer) => {
        stdout += chunk.toString()
        if (onFirstLine !== undefined && stdout.includes("\n")) {
          onFirstLine(child)
          onFirstLine = undefined
        }
        if (onFirstRooms !== undefined && stdout.split("\n").length > 3) {
          onFirstRooms(child)
          onFirstRooms = undefined
        }
      })
    }
  }))

describe("chime-rooms as a process", () => {
  beforeAll(buildBin, 120_000)

  it("exits 2 on bad arguments", async () => {
    const result = await start(["list", "--bogus"])
    expect(result.code).toBe(2)
    expect(result.stdout).toBe("")
    expect(result.stderr).toBe("Received unknown argument: '--bogus'\nRun with --help to see the options.\n")
  }, 30_000)

  it("--help and --version exit 0, plain text on a pipe; a `--` first or after the subcommand is dropped", async () => {
    const cases = [["list", "--help"], ["--", "list", "--", "--help"], ["list", "--", "--format", "csv", "--help"]]
    const results = await Promise.all(cases.map((args) => start(args)))
    for (const [i, result] of results.entries()) {
      expect(result.code, cases[i]!.join(" ")).toBe(0)
      expect(result.stdout).toContain("--format table | json | csv")
      expect(result.stdout).not.toContain("\u001b")
      expect(result.stderr).toBe("")
    }
    const version = await start(["--", "--version"])
    expect(version.code).toBe(0)
    expect(version.stdout).toBe("0.1.0\n")
  }, 60_000)

  it("Ctrl-C (or SIGTERM) stops cleanly: summary printed, exit code 130", async () => {
    const result = await start(["list", "--json"], (child) => child.kill("SIGINT"))
    expect(result.code).toBe(130)
    expect(result.stderr).toMatch(/\d+ rooms in \d+ pages · \d+ requests/)
    const lines = result.stdout.trim().split("\n")
    expect(lines.length).toBeGreaterThan(2)
    expect(lines.length).toBeLessThan(2500)
    for (const line of lines) expect(JSON.parse(line)).toHaveProperty("RoomId")
    const terminated = await start(["list", "--", "--format", "csv"], (child) => child.kill("SIGTERM"))
    expect(terminated.code).toBe(130)
    expect(terminated.stdout.split("\r\n")[0]).toBe("AccountId,CreatedBy,CreatedTimestamp,Name,RoomId,UpdatedTimestamp")
    expect(terminated.stderr).toMatch(/\d+ rooms in \d+ pages · \d+ requests/)
  }, 60_000)

  it("a reader that goes away (`--json | head -1`) ends the job quietly with exit code 0", async () => {
    // As `head -1` does: read the first line, then close the pipe while the job is still writing.
    const result = await start(["list", "--json"], undefined, (child) => child.stdout!.destroy())
    expect(result.code).toBe(0)
    JSON.parse(result.stdout.split("\n")[0]!)
    // Nothing: no summary, no error, no stack trace.
    expect(result.stderr).toBe("")
  }, 60_000)

  it("a stderr whose reader went away changes nothing: bad arguments still exit 2", async () => {
    const child = spawn(process.execPath, [main, "list", "--bogus"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] })
    child.stderr.destroy()
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve))
    expect(code).toBe(2)
  }, 30_000)

  it("emulator: its first line is the JSON announcement; SIGTERM and SIGINT end it with exit code 0", async () => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      const args = ["emulator", "--", "--rooms", "5", "--fault=503@1"]
      const result = await start(args, undefined, (child) => child.kill(signal))
      expect(result.code, signal).toBe(0)
      const info = JSON.parse(result.stdout.split("\n")[0]!)
      expect(Object.keys(info)).toEqual(["endpoint", "region", "accounts", "credentials"])
      expect(result.stdout).toBe(`${JSON.stringify(info)}\n`)
      expect(result.stderr).toMatch(
        /^emulator: serving 1 account\(s\) x 5 rooms on http:\/\/127\.0\.0\.1:\d+; SIGINT or SIGTERM to stop\n$/
      )
    }
  }, 60_000)
})
