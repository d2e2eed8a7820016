/**
 * A real `redis-server` for the tests and the benchmark (Debian's `redis-server` package): started
 * on a free loopback port with a temporary directory, no persistence, optionally a password;
 * stopped, and its directory removed, by `close`.
 *
 * Without the binary: under `CI=true` importing this module throws (CI installs it, see .ci/run);
 * elsewhere `available` is false and the suites that need it skip, saying so once on the console.
 *
 * @since 0.3.0
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { exited, freePort, whenMissing } from "./internal.js"

/**
 * The binary: `REDIS_SERVER` if set, else `redis-server` on the PATH.
 *
 * @since 0.3.0
 */
export const binary: string = process.env.REDIS_SERVER ?? "redis-server"

const probe = spawnSync(binary, ["--version"], { encoding: "utf8" })

/**
 * Whether `redis-server` can run here.
 *
 * @since 0.3.0
 */
export const available: boolean = probe.status === 0

/**
 * The line printed when the Redis tests are skipped.
 *
 * @since 0.3.0
 */
export const skipMessage: string =
  `${binary} not found: skipping the Redis tests (apt-get install redis-server, or set REDIS_SERVER)`

whenMissing(
  available,
  skipMessage,
  `${binary} not found, and CI=true: the Redis tests must run in CI (apt-get install redis-server)`
)

/**
 * A running server.
 *
 * @since 0.3.0
 */
export interface Server {
  readonly port: number
  /** `redis://127.0.0.1:<port>`, with the password when it has one. */
  readonly url: string
  readonly dir: string
  /** Stops the server (SIGTERM, then SIGKILL) and waits for it to exit; the directory is kept until `close`. */
  readonly stop: () => Promise<void>
  /** Stops it and removes its directory. */
  readonly close: () => Promise<void>
}

/** Sends `PING` (after `AUTH` when there is a password) and waits for `+PONG`. */
const ping = (port: number, password: string | undefined): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port })
    let reply = ""
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(500, () => done(false))
    socket.once("error", () => done(false))
    socket.once("connect", () => {
      socket.write(password === undefined ? "PING\r\n" : `AUTH ${password}\r\nPING\r\n`)
    })
    socket.on("data", (data) => {
      reply += data.toString("latin1")
      if (reply.includes("+PONG")) done(true)
      else if (reply.includes("-")) done(false)
    })
  })

/**
 * Starts a server; retries on another port when the one picked was taken in between.
 *
 * @since 0.3.0
 */
export const start = async (
  options: {
    readonly password?: string
    /** A given port (to start a stopped server again where its clients look for it); else a free one. */
    readonly port?: number
  } = {}
): Promise<Server> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chime-rooms-redis-"))
  for (let tries = 0; tries < 5; tries++) {
    const port = options.port ?? await freePort()
    const args = [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--save",
      "",
      "--appendonly",
      "no",
      "--daemonize",
      "no",
      "--logfile",
      ""
    ]
    if (options.password !== undefined) args.push("--requirepass", options.password)
    const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] })
    let log = ""
    child.stdout!.on("data", (d) => (log += d))
    child.stderr!.on("data", (d) => (log += d))
    const deadline = Date.now() + 5000
    let up = false
    while (Date.now() < deadline && child.exitCode === null) {
      if (await ping(port, options.password)) {
        up = true
        break
      }
      await new Promise((r) => setTimeout(r, 20))
    }
    if (!up) {
      child.kill("SIGKILL")
      await exited(child)
      if (/in use/i.test(log) && options.port === undefined) continue
      fs.rmSync(dir, { recursive: true, force: true })
      throw new Error(`redis-server did not start on 127.0.0.1:${port}: ${log.slice(-500)}`)
    }
    const stop = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill("SIGTERM")
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000)
      await exited(child)
      clearTimeout(timer)
    }
    return {
      port,
      url: options.password === undefined
        ? `redis://127.0.0.1:${port}`
        : `redis://:${encodeURIComponent(options.password)}@127.0.0.1:${port}`,
      dir,
      stop,
      close: async () => {
        await stop()
        fs.rmSync(dir, { recursive: true, force: true })
      }
    }
  }
  fs.rmSync(dir, { recursive: true, force: true })
  throw new Error("redis-server: no free port after 5 tries")
}
