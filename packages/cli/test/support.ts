import { Dataset, type Emulator } from "@chime-rooms/testing"
import { Deferred, Effect, Redacted } from "effect"
import type { Io } from "../src/Io.js"

export interface Captured extends Io {
  readonly stdout: () => string
  readonly stderr: () => string
  /** Asks the job to stop, as SIGINT does. */
  readonly requestStop: Effect.Effect<void>
  /** Completes with stdout's first line, once there is one. */
  readonly firstLine: Effect.Effect<string>
}

/** An `Io` that keeps what is written; `errIsTty` for the progress line. */
export const capture = (errIsTty = false): Captured => {
  let out = ""
  let err = ""
  const stop = Effect.runSync(Deferred.make<void>())
  const first = Effect.runSync(Deferred.make<string>())
  return {
    out: (text) =>
      Effect.suspend(() => {
        out += text
        const nl = out.indexOf("\n")
        return nl < 0 ? Effect.void : Deferred.succeed(first, out.slice(0, nl))
      }),
    err: (text) => void (err += text),
    errIsTty,
    stop: Deferred.await(stop),
    stdout: () => out,
    stderr: () => err,
    requestStop: Deferred.succeed(stop, undefined),
    firstLine: Deferred.await(first)
  }
}

export const small: Emulator.EmulatorOptions = {
  dataset: Dataset.generate({ seed: 5, accounts: 2, roomsPerAccount: 230 }),
  pageSize: 50
}

export const jsonIds = (text: string) =>
  text.trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l).RoomId as string)

export const allIds = (account: string, dataset = small.dataset!) =>
  Array.from({ length: dataset.roomCount(account)! }, (_, i) => dataset.room(account, i).RoomId!)

/**
 * Sets `vars` in the environment for this scope (`undefined` unsets), the shared config files
 * pointed at nothing unless `vars` names them.
 */
export const withEnv = (vars: Record<string, string | undefined>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const saved = { ...process.env }
      const all: Record<string, string | undefined> = {
        AWS_CONFIG_FILE: "/nonexistent/config",
        AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials",
        AWS_PROFILE: undefined,
        AWS_REGION: undefined,
        AWS_ENDPOINT_URL: undefined,
        AWS_ENDPOINT_URL_CHIME: undefined,
        CHIME_ROOMS_REDIS_URL: undefined,
        ...vars
      }
      for (const [name, value] of Object.entries(all)) {
        if (value === undefined) delete process.env[name]
        else process.env[name] = value
      }
      return saved
    }),
    (saved) => Effect.sync(() => (process.env = saved))
  )

/** Sets the AWS key pair of `credentials` in the environment for this scope. */
export const withEnvCredentials = (credentials: { accessKeyId: string; secretAccessKey: Redacted.Redacted<string> }) =>
  withEnv({
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: Redacted.value(credentials.secretAccessKey),
    AWS_SESSION_TOKEN: undefined
  })
