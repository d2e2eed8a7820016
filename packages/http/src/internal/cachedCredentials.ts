/**
 * Credentials from an async provider, cached and refreshed before they expire: what
 * `Credentials.layerProvider` and `CredentialsChain.layer` are built on, with `unsafeCurrent` for the
 * fast path's synchronous read.
 */
import { ChimeError } from "@chime-rooms/core"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Redacted from "effect/Redacted"
import type * as Credentials from "../Credentials.js"

const redact = (s: string | Redacted.Redacted<string>): Redacted.Redacted<string> =>
  typeof s === "string" ? Redacted.make(s) : s

export const fromInput = (c: {
  readonly accessKeyId: string
  readonly secretAccessKey: string | Redacted.Redacted<string>
  readonly sessionToken?: string | Redacted.Redacted<string> | undefined
  readonly expiration?: Date | undefined
}): Credentials.AwsCredentials => ({
  accessKeyId: c.accessKeyId,
  secretAccessKey: redact(c.secretAccessKey),
  ...(c.sessionToken !== undefined && c.sessionToken !== "" ? { sessionToken: redact(c.sessionToken) } : {}),
  ...(c.expiration !== undefined ? { expiration: c.expiration } : {})
})

interface Cached {
  readonly credentials: Credentials.AwsCredentials
  /** Epoch millis after which the next refresh is due; `Infinity` for long-term credentials. */
  readonly refreshAt: number
  /** Epoch millis after which the credentials no longer work. */
  readonly expiresAt: number
  /** Refreshes in a row that failed or brought credentials already inside the refresh window. */
  readonly misses: number
}

/** What one call of the provider brought: usable credentials, or why not (already scrubbed). */
type Loaded = { readonly credentials: Credentials.AwsCredentials; readonly expiresAt: number } | {
  readonly reason: string
}

/** Only the error's kind and a scrubbed start of its message: providers may quote file contents. */
const describe = (cause: unknown): string => {
  if (cause instanceof Error) {
    return `${cause.name}: ${ChimeError.safeExcerpt(cause.message, 200)}`
  }
  return "the provider failed"
}

/** The wait before the first retry of a refresh that brought nothing better. */
const backoffStartMillis = 1_000
/** The longest wait between refresh attempts while the current credentials still work. */
const backoffCapMillis = 10_000

const backoffMillis = (misses: number): number =>
  Math.min(backoffStartMillis * 2 ** Math.max(0, misses - 1), backoffCapMillis)

/**
 * Wraps a provider. A refresh is due `refreshBefore` before `expiration`; callers that arrive while
 * one runs wait for it and share its outcome (credentials or `CredentialsError`), so the provider
 * is called once however many requests need it.
 *
 * When a refresh fails, or brings credentials already inside the refresh window, whatever still
 * works is used (the old credentials, or the new ones) and the next attempt backs off: 1 second,
 * doubling to a cap of 10 seconds, and never later than the credentials' expiry. These are the AWS
 * SDK for Java v2's numbers (its `CachedSupplier` asks again 1 second after a value that came back
 * stale, and backs repeated failures off exponentially to at most 10 seconds); the JavaScript SDK's
 * `memoize` has no backoff and calls the provider again on every request inside the window. There
 * is no jitter: each process's attempts follow its own requests. A provider that brings credentials
 * outside the window again resets the backoff. Once the credentials have expired, a failed refresh is a
 * `CredentialsError` naming `sources`, with the provider's error scrubbed; credentials that come
 * back already expired count as a failed refresh.
 *
 * Expiry and backoff are both measured on `Clock.currentTimeMillis`, the wall clock: `expiration`
 * is a wall-clock instant, and a backoff of seconds needs no monotonic clock (a clock stepped back
 * delays the next attempt as it delays the expiry, which still bounds it).
 *
 * `unsafeCurrent(now)` returns the credentials exactly when `get` would return them without calling the
 * provider, so a synchronous fast path backs off with it.
 */
export const makeCached = (
  provider: Credentials.AwsCredentialsProvider,
  options?: Credentials.ProviderOptions
): Effect.Effect<Credentials.CredentialsService> =>
  Effect.sync(() => {
    const refreshBefore = Duration.toMillis(Duration.decode(options?.refreshBefore ?? Duration.minutes(5)))
    const sources = options?.sources ?? ["credentials provider"]
    let state: Cached | undefined
    // The refresh under way; `undefined` in it means its fiber was interrupted: ask again.
    let pending: Deferred.Deferred<Credentials.AwsCredentials | undefined, ChimeError.CredentialsError> | undefined

    const load: Effect.Effect<Loaded> = Effect.tryPromise(() => provider()).pipe(
      Effect.match({
        onFailure: (error): Loaded => ({ reason: describe(error.error) }),
        onSuccess: (raw): Loaded => {
          if (
            typeof raw !== "object" || raw === null || typeof raw.accessKeyId !== "string" ||
            typeof raw.secretAccessKey !== "string" || raw.accessKeyId === "" || raw.secretAccessKey === ""
          ) {
            return { reason: "the provider returned no access key id or secret access key" }
          }
          const expiresAt = raw.expiration instanceof Date ? raw.expiration.getTime() : Infinity
          return { credentials: fromInput(raw), expiresAt }
        }
      })
    )

    /** The next state and the refresh's outcome, from what the provider brought at `now`. */
    const settle = (
      previous: Cached | undefined,
      loaded: Loaded,
      now: number
    ): readonly [Cached | undefined, Exit.Exit<Credentials.AwsCredentials, ChimeError.CredentialsError>] => {
      if ("credentials" in loaded && now < loaded.expiresAt) {
        const refreshAt = loaded.expiresAt - refreshBefore
        const next: Cached = now < refreshAt
          ? { credentials: loaded.credentials, expiresAt: loaded.expiresAt, refreshAt, misses: 0 }
          : backedOff(loaded.credentials, loaded.expiresAt, previous, now)
        return [next, Exit.succeed(next.credentials)]
      }
      const reason = "reason" in loaded ? loaded.reason : "the provider returned credentials that had already expired"
      if (previous !== undefined && now < previous.expiresAt) {
        return [backedOff(previous.credentials, previous.expiresAt, previous, now), Exit.succeed(previous.credentials)]
      }
      const message = previous === undefined
        ? `Could not load AWS credentials: ${reason}`
        : `The AWS credentials expired and the refresh failed: ${reason}`
      return [previous, Exit.fail(new ChimeError.CredentialsError({ message, sources: [...sources] }))]
    }

    const backedOff = (
      credentials: Credentials.AwsCredentials,
      expiresAt: number,
      previous: Cached | undefined,
      now: number
    ): Cached => {
      const misses = (previous?.misses ?? 0) + 1
      return { credentials, expiresAt, refreshAt: Math.min(now + backoffMillis(misses), expiresAt), misses }
    }

    const refresh = (): Effect.Effect<Credentials.AwsCredentials, ChimeError.CredentialsError> => {
      if (pending !== undefined) {
        return Effect.flatMap(Deferred.await(pending), (c) => (c === undefined ? get : Effect.succeed(c)))
      }
      const deferred = Deferred.unsafeMake<Credentials.AwsCredentials | undefined, ChimeError.CredentialsError>(
        FiberId.none
      )
      pending = deferred
      return Effect.flatMap(load, (loaded) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          const [next, exit] = settle(state, loaded, now)
          state = next
          pending = undefined
          Deferred.unsafeDone(deferred, exit)
          return exit
        })).pipe(
          // The provider's promise cannot be cancelled; the callers waiting on it start afresh.
          Effect.onInterrupt(() =>
            Effect.sync(() => {
              if (pending === deferred) pending = undefined
              Deferred.unsafeDone(deferred, Exit.succeed(undefined))
            })
          )
        )
    }

    const get: Effect.Effect<Credentials.AwsCredentials, ChimeError.CredentialsError> = Effect.flatMap(
      Clock.currentTimeMillis,
      (now) => {
        const cached = state
        return cached !== undefined && now < cached.refreshAt ? Effect.succeed(cached.credentials) : refresh()
      }
    )

    const unsafeCurrent = (now: number): Credentials.AwsCredentials | undefined => {
      const cached = state
      return cached !== undefined && now < cached.refreshAt ? cached.credentials : undefined
    }

    return { get, unsafeCurrent }
  })
