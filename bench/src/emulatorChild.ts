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
        const info = JSON.parse(buffer.slice(0, nl)) as Omit<Server, "stop">
        resolve({
          ...info,
          stop: () => {
            child.stdin.end()
            child.kill()
          }
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
