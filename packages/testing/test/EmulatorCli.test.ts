import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Hash } from "@smithy/hash-node"
import { SignatureV4 } from "@smithy/signature-v4"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Duration, Either } from "effect"
import { Dataset } from "@chime-rooms/testing"
import { parseArgs, rateLimitOf } from "../src/internal/emulatorCli.js"

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url))
const cli = fileURLToPath(new URL("../dist/bin/emulator.js", import.meta.url))

interface Running {
  readonly child: ChildProcessWithoutNullStreams
  readonly firstLine: string
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>
}

// Every emulator a test starts, so that a failed assertion does not leave one running.
const started = new Set<ChildProcessWithoutNullStreams>()

const start = (args: ReadonlyArray<string>): Promise<Running> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ["pipe", "pipe", "pipe"] })
    started.add(child)
    child.on("exit", () => started.delete(child))
    let stdout = ""
    let stderr = ""
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((done) =>
      child.on("exit", (code, signal) => done({ code, signal, stderr }))
    )
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString()
      const nl = stdout.indexOf("\n")
      if (nl !== -1) resolve({ child, firstLine: stdout.slice(0, nl), exit })
    })
    child.on("error", reject)
    void exit.then(({ code }) => reject(new Error(`exited with ${code} before printing: ${stderr}`)))
  })

const run = (args: ReadonlyArray<string>) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [cli, ...args])
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
    child.on("exit", (code) => resolve({ code, stdout, stderr }))
  })

const get = async (
  info: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } },
  accountId: string,
  region = info.region
) => {
  const url = new URL(info.endpoint)
  const path = `/accounts/${encodeURIComponent(accountId)}/rooms`
  const signer = new SignatureV4({ service: "chime", region, sha256: Hash.bind(null, "sha256"), credentials: info.credentials })
  const signed = await signer.sign({ method: "GET", protocol: "http:", hostname: url.hostname, port: Number(url.port), path, query: {}, headers: { host: url.host } })
  const response = await fetch(`${info.endpoint}${path}`, { headers: signed.headers })
  return { status: response.status, body: await response.text() }
}

describe("pnpm emulator (the CLI)", () => {
  beforeAll(() => {
    // The test runs the compiled CLI, as `pnpm emulator` does; `tsc -b` is incremental.
    execFileSync(process.execPath, [`${repoRoot}node_modules/typescript/bin/tsc`, "-b", "packages/testing"], {
      cwd: repoRoot,
      stdio: "pipe"
    })
  }, 60_000)

  afterAll(() => {
    for (const child of started) child.kill("SIGKILL")
  })

  it("prints one JSON line, serves the seeded rooms with its faults, and exits 0 on SIGTERM", async () => {
    const running = await start(["--accounts", "2", "--rooms", "30", "--page-size", "7", "--seed", "5", "--fault", "503@2"])
    const info = JSON.parse(running.firstLine)
    expect(Object.keys(info)).toEqual(["endpoint", "region", "accounts", "credentials"])
    expect(info.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(info.region).toBe("us-east-1")
    const dataset = Dataset.generate({ seed: 5, accounts: 2, roomsPerAccount: 30 })
    expect(info.accounts).toEqual(dataset.accounts)
    expect(Object.keys(info.credentials)).toEqual(["accessKeyId", "secretAccessKey"])
    const first = await get(info, info.accounts[1])
    expect(first.status).toBe(200)
    expect(JSON.parse(first.body).Rooms).toEqual(Dataset.allRooms(dataset, info.accounts[1]).slice(0, 7))
    expect((await get(info, info.accounts[0])).status).toBe(503)
    expect((await get(info, info.accounts[0])).status).toBe(200)
    running.child.kill("SIGTERM")
    const exit = await running.exit
    expect(exit.code).toBe(0)
    expect(exit.stderr).not.toContain(info.credentials.secretAccessKey)
    await expect(get(info, info.accounts[0])).rejects.toThrow()
  }, 20_000)

  it("--region: the JSON line names it, and requests signed for it (only) are served", async () => {
    const running = await start(["--rooms", "5", "--region", "ap-southeast-2"])
    const info = JSON.parse(running.firstLine)
    expect(info.region).toBe("ap-southeast-2")
    expect((await get(info, info.accounts[0])).status).toBe(200)
    const other = await get(info, info.accounts[0], "us-east-1")
    expect(other.status).toBe(403)
    expect(JSON.parse(other.body).message).toBe("Credential should be scoped to a valid region.")
    running.child.kill("SIGTERM")
    expect((await running.exit).code).toBe(0)
  }, 20_000)

  it("exits 0 on SIGINT", async () => {
    const running = await start(["--rooms", "5"])
    JSON.parse(running.firstLine)
    running.child.kill("SIGINT")
    expect((await running.exit).code).toBe(0)
  }, 20_000)

  it("refuses bad arguments with a message on stderr and exit code 2", async () => {
    const cases = [["--port", "x"], ["--frobnicate"], ["--fault", "nonsense"], ["--burst", "3"], ["--rooms"], ["--region", "eu/west-1"]]
    const results = await Promise.all(cases.map(run))
    results.forEach((result, i) => {
      expect(result.code, cases[i]!.join(" ")).toBe(2)
      expect(result.stdout).toBe("")
      expect(result.stderr).toMatch(/^emulator: /)
    })
  }, 20_000)

  it("fails with exit code 1 when the port is taken", async () => {
    const running = await start(["--rooms", "1"])
    const port = new URL(JSON.parse(running.firstLine).endpoint).port
    const second = await run(["--port", port])
    expect(second.code).toBe(1)
    expect(second.stderr).toContain("cannot listen")
    running.child.kill("SIGTERM")
    expect((await running.exit).code).toBe(0)
  }, 20_000)
})

describe("parseArgs", () => {
  it("reads every option, in both --flag value and --flag=value forms", () => {
    const parsed = parseArgs([
      "--port=8080", "--accounts", "3", "--rooms", "100000", "--members", "4", "--page-size", "99", "--seed", "-7",
      "--rate", "2.5", "--fault", "429@5,6:retry-after=2", "--fault=reset@every=10", "--clock-offset", "-600",
      "--max-skew", "60", "--record", "0", "--region=us-gov-west-1"
    ])
    expect(Either.isRight(parsed)).toBe(true)
    if (Either.isLeft(parsed)) return
    const o = parsed.right
    expect(o).toMatchObject({ port: 8080, accounts: 3, rooms: 100000, members: 4, pageSize: 99, seed: -7, rate: 2.5, record: 0 })
    expect(o.region).toBe("us-gov-west-1")
    expect(o.faults).toEqual(["429@5,6:retry-after=2", "reset@every=10"])
    expect(o.clockOffsetMillis).toBe(-600_000)
    expect(Duration.toSeconds(o.maxSkew)).toBe(60)
    expect(rateLimitOf(o)).toEqual({ rate: 2.5, burst: 3 })
  })

  it("has defaults", () => {
    const parsed = parseArgs([])
    expect(Either.getOrThrow(parsed)).toMatchObject({ port: 0, accounts: 1, rooms: 1000, pageSize: 10, seed: 1, faults: [], region: "us-east-1" })
    expect(rateLimitOf(Either.getOrThrow(parsed))).toBeUndefined()
    expect(rateLimitOf(Either.getOrThrow(parseArgs(["--rate", "10", "--burst", "20"])))).toEqual({ rate: 10, burst: 20 })
    expect(rateLimitOf(Either.getOrThrow(parseArgs(["--rate", "10", "--rate-retry-after"])))).toEqual({ rate: 10, burst: 10, retryAfter: true })
    expect(parseArgs(["--rate-retry-after"])).toEqual(Either.left("--rate-retry-after needs --rate"))
    expect(Either.getOrThrow(parseArgs(["--", "--help"])).help).toBe(true)
  })

  it("explains what is wrong", () => {
    expect(parseArgs(["--port", "70000"])).toEqual(Either.left('--port needs an integer from 0 to 65535, got "70000"'))
    expect(parseArgs(["--rate", "0"])).toEqual(Either.left("--rate must be greater than 0"))
    expect(parseArgs(["--page-size"])).toEqual(Either.left("--page-size needs a value"))
    expect(Either.isLeft(parseArgs(["--fault", "429@0"]))).toBe(true)
    expect(parseArgs(["stray"])).toEqual(Either.left('unknown argument "stray"'))
    expect(parseArgs(["--region", "-east"])).toEqual(Either.left('--region needs a region name (letters, digits, dashes), got "-east"'))
  })
})
