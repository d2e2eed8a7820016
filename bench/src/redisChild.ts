/**
 * A throwaway `redis-server` for the workers section: a free loopback port, no persistence, a
 * temporary directory, stopped by `stop`. (The tests' fixture, `packages/redis/test/redisServer.ts`,
 * is TypeScript outside this package's sources, which the bench runs compiled: hence this copy of
 * its few lines.)
 *
 * @since 0.2.0
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"

/** The binary: `REDIS_SERVER` if set, else `redis-server` on the PATH. */
export const redisBinary = process.env.REDIS_SERVER ?? "redis-server"

/** Whether `redis-server` runs here. */
export const redisAvailable = (): boolean => spawnSync(redisBinary, ["--version"]).status === 0

/** A running server: its URL, and how to stop it (and remove its directory). */
export interface Redis {
  readonly url: string
  readonly stop: () => Promise<void>
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })

const pong = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(500, () => done(false))
    socket.once("error", () => done(false))
    socket.once("connect", () => socket.write("PING\r\n"))
    socket.once("data", (data) => done(data.toString("latin1").startsWith("+PONG")))
  })

/** Starts a server and resolves once it answers `PING`. */
export const startRedis = async (): Promise<Redis> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chime-rooms-bench-redis-"))
  const port = await freePort()
  const child = spawn(
    redisBinary,
    ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"],
    { stdio: "ignore" }
  )
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
    await exited
    fs.rmSync(dir, { recursive: true, force: true })
  }
  const deadline = Date.now() + 5000
  while (Date.now() < deadline && child.exitCode === null) {
    if (await pong(port)) return { url: `redis://127.0.0.1:${port}`, stop }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  await stop()
  throw new Error(`redis-server did not start on 127.0.0.1:${port}`)
}
