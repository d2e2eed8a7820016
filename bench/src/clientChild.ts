/**
 * One benchmark client (`clients/<script>`) as a child process, for the harness and the measuring
 * scripts: it runs, prints its one-line {@link Report}, and exits.
 *
 * @since 0.1.0
 */
import { spawn } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import type { Report } from "./clients/common.js"

const distDir = dirname(fileURLToPath(import.meta.url))

/** One client run: its report, or why there is none. */
export type Outcome = { readonly report: Report } | { readonly failure: string }

/** How to start a client besides its script and arguments. */
export interface ClientOptions {
  /** Flags for `node` before the script (`--cpu-prof`, `--import …`). */
  readonly nodeFlags?: ReadonlyArray<string>
  /** Extra environment for the child. */
  readonly env?: Readonly<Record<string, string>>
  /** Killed after this long; its run then counts as failed. */
  readonly timeoutMs: number
}

/** Runs `clients/<script>` with `args` and resolves with its report (the last line on stdout). */
export const runClient = (script: string, args: ReadonlyArray<string>, options: ClientOptions): Promise<Outcome> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [...(options.nodeFlags ?? []), join(distDir, "clients", script), ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      ...(options.env === undefined ? {} : { env: { ...process.env, ...options.env } })
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")))
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")))
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs)
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      const line = stdout.trim().split("\n").pop() ?? ""
      try {
        resolve({ report: JSON.parse(line) as Report })
      } catch {
        const why = signal === "SIGKILL" ? `killed after ${options.timeoutMs / 1000} s` : `exit ${String(code)}`
        resolve({ failure: `${why}: ${stderr.trim().split("\n").slice(-3).join(" / ").slice(0, 300)}` })
      }
    })
  })
