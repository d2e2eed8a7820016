/**
 * The emulator child (`server.js`) that the harness and the measuring scripts list from.
 *
 * @since 0.1.0
 */
import { spawn } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

/** Where the emulator child listens and what to list; `stop` ends it. */
export interface Server {
  readonly endpoint: string
  readonly account: string
  readonly accessKey: string
  readonly secret: string
  readonly stop: () => void
  /**
   * The emulator's own count of what it received since the last call (started with `--record N`):
   * requests, 429s, and the arrival times (epoch ms) of the first and the last.
   */
  readonly stats: () => Promise<ServerStats>
}

/** What the emulator received, by its own count. */
export interface ServerStats {
  readonly requests: number
  readonly throttled: number
  readonly firstMs: number | null
  readonly lastMs: number | null
}

const distDir = dirname(fileURLToPath(import.meta.url))

/**
 * Starts `server.js` with `args` in its own process (so its CPU is not the client's) and resolves
 * once it prints its JSON line; rejects if it exits or prints anything else first.
 */
export const startServer = (args: ReadonlyArray<string>): Promise<Server> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(distDir, "server.js"), ...args], { stdio: ["pipe", "pipe", "inherit"] })
    let buffer = ""
    const onData = (data: Buffer) => {
      buffer += data.toString("utf8")
      const nl = buffer.indexOf("\n")
      if (nl === -1) return
      child.stdout.off("data", onData)
      try {
        const info = JSON.parse(buffer.slice(0, nl)) as Omit<Server, "stop" | "stats">
        let rest = buffer.slice(nl + 1)
        const waiting: Array<(line: string) => void> = []
        child.stdout.on("data", (data: Buffer) => {
          rest += data.toString("utf8")
          for (let end = rest.indexOf("\n"); end !== -1; end = rest.indexOf("\n")) {
            const line = rest.slice(0, end)
            rest = rest.slice(end + 1)
            waiting.shift()?.(line)
          }
        })
        resolve({
          ...info,
          stop: () => {
            child.stdin.end()
            child.kill()
          },
          stats: () =>
            new Promise((resolve) => {
              waiting.push((line) => resolve(JSON.parse(line) as ServerStats))
              child.stdin.write("stats\n")
            })
        })
      } catch (e) {
        child.kill()
        reject(new Error(`server.js printed something that is not JSON: ${String(e)}`))
      }
    }
    child.stdout.on("data", onData)
    child.on("exit", (code) => reject(new Error(`server.js exited early with code ${String(code)}`)))
    child.on("error", reject)
  })
