/** The built `chime-rooms` bin, run as a process. */
import { Effect } from "effect"
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

export const root = fileURLToPath(new URL("../../..", import.meta.url))
export const main = fileURLToPath(new URL("../dist/bin/chime-rooms.js", import.meta.url))

export interface Finished {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Builds the bin (for a `beforeAll`, with a timeout of two minutes). */
export const buildBin = () => {
  execFileSync(process.execPath, [
    fileURLToPath(new URL("../../../node_modules/typescript/bin/tsc", import.meta.url)),
    "-b",
    "packages/cli"
  ], { cwd: root })
}

/**
 * Runs the bin with `args` in `cwd` (default: the repository's root) until it ends; `onStart` gets
 * the child as soon as it is spawned. Interrupted, it kills the child.
 */
export const startBin = (
  args: ReadonlyArray<string>,
  options: {
    readonly cwd?: string
    readonly env?: NodeJS.ProcessEnv
    readonly onStart?: (child: ChildProcess) => void
  } = {}
) =>
  Effect.async<Finished, Error>((resume) => {
    const child = spawn(process.execPath, [main, ...args], {
      cwd: options.cwd ?? root,
      stdio: ["ignore", "pipe", "pipe"],
      ...(options.env === undefined ? {} : { env: options.env })
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.on("error", (error) => resume(Effect.fail(error)))
    child.on("close", (code) => resume(Effect.succeed({ code, stdout, stderr })))
    options.onStart?.(child)
    return Effect.sync(() => child.kill("SIGKILL"))
  })
