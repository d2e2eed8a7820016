/**
 * A real PostgreSQL 15 server (Debian's `postgresql` package, binaries in
 * `/usr/lib/postgresql/15/bin`, or `PG_BIN`): a cluster made by `initdb` in a temporary directory,
 * started on a free loopback port, trusting local connections as `postgres`, stopped and removed by
 * `close`. `initdb` refuses to run as root: as root, the cluster belongs to `nobody` and both
 * programs run as that user.
 *
 * Without the binaries: under `CI=true` importing this module throws (CI installs them, see
 * .ci/run); elsewhere `available` is false and the suites that need a server skip, saying so once.
 *
 * @since 0.3.0
 */
import { execFile, spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { exited, freePort, whenMissing } from "./internal.js"

/**
 * The directory of `initdb`, `postgres` and `psql`.
 *
 * @since 0.3.0
 */
export const bin: string = process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin"

/**
 * `psql` of the same installation.
 *
 * @since 0.3.0
 */
export const psql: string = path.join(bin, "psql")

/**
 * Whether the server can run here.
 *
 * @since 0.3.0
 */
export const available: boolean = spawnSync(path.join(bin, "postgres"), ["--version"]).status === 0

/**
 * The line the suites print when they skip.
 *
 * @since 0.3.0
 */
export const skipMessage =
  `PostgreSQL 15 not found in ${bin}: skipping the PostgreSQL tests (apt-get install postgresql, or set PG_BIN)`

whenMissing(
  available,
  skipMessage,
  `PostgreSQL 15 not found in ${bin}, and CI=true: the PostgreSQL tests must run in CI`
)

/**
 * A running server.
 *
 * @since 0.3.0
 */
export interface Server {
  readonly port: number
  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  readonly url: string
  /** The temporary directory: the cluster (`data/`) and the server's Unix socket. */
  readonly dir: string
  /**
   * Stops the server (SIGINT, PostgreSQL's fast shutdown; SIGKILL after 5 s) and waits for it to exit;
   * the directory is kept until `close`.
   */
  readonly stop: () => Promise<void>
  /** Stops the server and removes its directory. */
  readonly close: () => Promise<void>
}

/** The uid and gid programs run as: this process's, or `nobody`'s when this process is root. */
const runAs = (): { readonly uid: number; readonly gid: number } | undefined => {
  if (process.getuid?.() !== 0) return undefined
  const line = fs.readFileSync("/etc/passwd", "utf8").split("\n").find((entry) => entry.startsWith("nobody:"))
  const [, , uid, gid] = line?.split(":") ?? []
  if (uid === undefined || gid === undefined) {
    throw new Error("running as root, and no user nobody to run PostgreSQL as")
  }
  return { uid: Number(uid), gid: Number(gid) }
}

/** Whether the server answers a query over TCP (not only accepts connections: it may still be starting). */
const ready = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    execFile(
      psql,
      ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", "postgres", "-tAc", "SELECT 1"],
      { encoding: "utf8", timeout: 2000 },
      (error, stdout) => resolve(error === null && stdout.trim() === "1")
    )
  })

/** Runs a program (as `user` when given) and resolves with its exit status and output. */
const run = (
  program: string,
  args: ReadonlyArray<string>,
  user: { readonly uid: number; readonly gid: number } | undefined
): Promise<{ readonly status: number | null; readonly output: string }> =>
  new Promise((resolve) => {
    const child = spawn(program, args, { stdio: ["ignore", "pipe", "pipe"], ...(user ?? {}) })
    let output = ""
    child.stdout!.on("data", (d) => (output += d))
    child.stderr!.on("data", (d) => (output += d))
    child.once("error", (error) => resolve({ status: null, output: String(error) }))
    child.once("close", (status) => resolve({ status, output }))
  })

/**
 * Starts a server; `durable: true` keeps `fsync` on (the benchmark), else it is off (tests).
 * Retries on another port when the one picked was taken in between.
 *
 * @since 0.3.0
 */
export const start = async (options: { readonly durable?: boolean } = {}): Promise<Server> => {
  const user = runAs()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chime-rooms-pg-"))
  const data = path.join(dir, "data")
  const remove = () => fs.rmSync(dir, { recursive: true, force: true })
  if (user !== undefined) fs.chownSync(dir, user.uid, user.gid)
  const init = await run(
    path.join(bin, "initdb"),
    ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"],
    user
  )
  if (init.status !== 0) {
    remove()
    throw new Error(`initdb failed: ${init.output.slice(-500)}`)
  }
  for (let tries = 0; tries < 5; tries++) {
    const port = await freePort()
    const child = spawn(path.join(bin, "postgres"), [
      "-D",
      data,
      "-p",
      String(port),
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      `unix_socket_directories=${dir}`,
      "-c",
      `fsync=${options.durable === true ? "on" : "off"}`,
      "-c",
      "max_connections=50"
    ], { stdio: ["ignore", "pipe", "pipe"], ...(user === undefined ? {} : user) })
    // The server's log, its tail only: it runs as long as the tests do.
    let log = ""
    const keep = (d: Buffer) => (log = (log + d.toString("utf8")).slice(-4000))
    child.stdout!.on("data", keep)
    child.stderr!.on("data", keep)
    const deadline = Date.now() + 20_000
    let up = false
    while (Date.now() < deadline && child.exitCode === null) {
      if (await ready(port)) {
        up = true
        break
      }
      await new Promise((r) => setTimeout(r, 50))
    }
    if (!up) {
      child.kill("SIGKILL")
      await exited(child)
      if (/in use/i.test(log)) continue
      remove()
      throw new Error(`postgres did not start on 127.0.0.1:${port}: ${log.slice(-500)}`)
    }
    const stop = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      // SIGINT: the fast shutdown (sessions ended, no wait for clients).
      child.kill("SIGINT")
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000)
      await exited(child)
      clearTimeout(timer)
    }
    return {
      port,
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      dir,
      stop,
      close: async () => {
        await stop()
        remove()
      }
    }
  }
  remove()
  throw new Error("postgres: no free port after 5 tries")
}

/**
 * Creates database `name` on `server` and returns its URL.
 *
 * @since 0.3.0
 */
export const createDatabase = (server: Server, name: string): string => {
  const made = spawnSync(psql, [server.url, "-tAc", `CREATE DATABASE "${name}"`], { encoding: "utf8" })
  if (made.status !== 0) throw new Error(`CREATE DATABASE ${name} failed: ${made.stderr}`)
  return server.url.replace(/\/postgres$/, `/${name}`)
}
