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

/** The owners of the sessions this process holds now, every store of it together. */
export const owners = new Set<string>()

/**
 * Whether the export that recorded itself as `owner`, of process `pid` on `host`, may still run:
 * false only when it is known dead, on this host: no process has its pid, or this process has it
 * but holds no such session (an earlier process that had the same pid, as a restarted container's
 * first process has). One of another host, or one that cannot be asked, is taken to be alive until
 * its lease runs out.
 */
export const isAlive = (owner: string, host: string | null, pid: number | undefined): boolean => {
  if (pid === undefined || host === null || host !== hostname() || typeof process === "undefined") return true
  if (pid === process.pid) return owners.has(owner)
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists, as another user's.
    return (error as NodeJS.ErrnoException).code !== "ESRCH"
  }
}
