/** What the server modules share: a free port, a child's exit, and the CI rule for a missing server. */
import type { ChildProcess } from "node:child_process"
import * as net from "node:net"

/** A port that was free a moment ago on 127.0.0.1. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })

/** Resolves once `child` has exited (at once if it has). */
export const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once("exit", () => resolve()))

/**
 * A server that is not installed: under `CI=true` an error (CI installs it: the tests must run
 * there), elsewhere `skipMessage` once on the console.
 */
export const whenMissing = (available: boolean, skipMessage: string, ciMessage: string): void => {
  if (available) return
  if (process.env.CI === "true") throw new Error(ciMessage)
  console.warn(skipMessage)
}
