import * as os from "node:os"

/** This process, as an export records itself as the holder of an account. */
export const self = (): { readonly pid: number | undefined; readonly host: string | undefined } => ({
  pid: typeof process === "undefined" ? undefined : process.pid,
  host: hostname()
})

const hostname = (): string | undefined => {
  try {
    return os.hostname()
  } catch {
    return undefined
  }
}

/**
 * Whether the process that recorded itself as `pid` on `host` may still run: false only when it is
 * known dead (on this host, and no process has its pid). A process of another host, or one that
 * cannot be asked, is taken to be alive until its lease runs out.
 */
export const isAlive = (host: string | null, pid: number | undefined): boolean => {
  if (pid === undefined || host === null || host !== hostname() || typeof process === "undefined") return true
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists, as another user's.
    return (error as NodeJS.ErrnoException).code !== "ESRCH"
  }
}
