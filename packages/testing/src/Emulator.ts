/**
 * A local Amazon Chime `ListRooms` endpoint: a real HTTP server on 127.0.0.1 that speaks the
 * service's wire format, verifies SigV4 on every request, and injects faults from a
 * {@link FaultScript} (the same scripts as the in-memory layer) plus wire faults and a rate limit.
 *
 * ## Wire behaviour
 *
 * - `GET /accounts/{AccountId}/rooms?max-results=&member-id=&next-token=`; `AccountId` is one
 *   percent-decoded path segment. Anything else: 404 `UnknownOperationException`.
 * - 200: `{"NextToken":"...","Rooms":[...]}`; `"NextToken":null` on the last page, as the API
 *   reference's example response.
 * - Chime's errors: `x-amzn-ErrorType: <Name>`, body `{"Code":"<Chime code>","Message":"..."}` with
 *   Chime's codes (`BadRequest`, `Unauthorized`, `Forbidden`, `NotFound`, `Throttled`,
 *   `ServiceFailure`, `ServiceUnavailable`). `max-results` outside 1..99: 400 `BadRequestException`;
 *   unknown account: 404 `NotFoundException`; a forged, stale or foreign `next-token`: 400.
 * - Signature failures come from AWS's front end, not from Chime: HTTP 403 with
 *   `x-amzn-ErrorType` `MissingAuthenticationTokenException`, `IncompleteSignatureException`,
 *   `UnrecognizedClientException` (unknown key, bad session token) or `InvalidSignatureException`
 *   (mismatch, "Signature expired", wrong scope), and a body `{"message":"..."}` as AWS sends them.
 * - `x-amzn-ErrorType` names the error alone on the 1st, 3rd, … error response the emulator sends,
 *   and with a Coral URI on the 2nd, 4th, …, as AWS sends both forms: Chime's errors
 *   `<Name>:http://internal.amazon.com/coral/com.amazonaws.chime/`, the front end's
 *   `<Name>:http://internal.amazon.com/coral/com.amazon.coral.service/`.
 * - Every response carries `x-amzn-RequestId` (a UUID) and a `Date` from the emulator's clock
 *   (shifted by `clockOffset`), except the `Html502` fault's page, which models a proxy.
 * - `Retry-After` (whole seconds) on the rate limiter's 429s, and on scripted 429/503 faults that
 *   name a retry-after.
 * - A `SignedHeaders` list that names a header the request does not carry, is not sorted or names
 *   a header twice is refused with `InvalidSignatureException`: an absent header is never signed as empty.
 *
 * ## What `received()` keeps
 *
 * Every request, secrets masked in every field: `x-amz-security-token` reads `<redacted>`; the
 * `authorization` header keeps its algorithm, `Credential` and `SignedHeaders` but reads
 * `Signature=<redacted>` (a header of another shape reads `<redacted>`); the presigned-URL
 * parameters `X-Amz-Signature`, `X-Amz-Credential` and `X-Amz-Security-Token` (any case) read
 * `<redacted>` in `query` and `%3Credacted%3E` in `rawQuery` and `target`. A test can still check
 * that a token and a signature were sent, the access key id, the scope and the signed headers.
 * Only the record is masked; the verifier reads the request as it arrived.
 *
 * @since 0.1.0
 */
import type { Duration } from "effect"
import { Context, Effect, Layer, Redacted, Schema, type Scope } from "effect"
import { randomBytes } from "node:crypto"
import { createServer, type Server } from "node:http"
import type { AddressInfo, Socket } from "node:net"
import * as Dataset from "./Dataset.js"
import type * as FaultScript from "./FaultScript.js"
import { tokenSecretFromString } from "./internal/pageToken.js"
import { DEFAULT_PAGE_SIZE, isValidPageSize, makePagingState } from "./internal/paging.js"
import { isValidRateLimit, makeTokenBucket, type RateLimitOptions } from "./internal/rateLimit.js"
import { makeHandler, type ReceivedRequest, type ServerState } from "./internal/server.js"
import * as SigV4Verifier from "./SigV4Verifier.js"

export type {
  /**
   * What the emulator did with a request.
   *
   * @category models
   * @since 0.1.0
   */
  ReceivedOutcome,
  /**
   * One request as the emulator received it, minus secrets.
   *
   * @category models
   * @since 0.1.0
   */
  ReceivedRequest
} from "./internal/server.js"

/**
 * A key pair the emulator accepts. With `sessionToken`, requests must carry it in
 * `x-amz-security-token` (temporary credentials); without, they must carry none.
 *
 * @category models
 * @since 0.1.0
 */
export interface EmulatorCredentials {
  readonly accessKeyId: string
  readonly secretAccessKey: Redacted.Redacted<string>
  readonly sessionToken?: Redacted.Redacted<string> | undefined
}

/**
 * How to start an emulator. Every field is optional.
 *
 * @category models
 * @since 0.1.0
 */
export interface EmulatorOptions {
  /** The rooms served. Default `Dataset.generate()` (one account of 100 rooms, seed 1). */
  readonly dataset?: Dataset.Dataset | undefined
  /** Rooms per page when a request has no `max-results`. Default 10 (as the in-memory layer). */
  readonly pageSize?: number | undefined
  /** The key pairs accepted; the first is `credentials` of the service. Default: one generated pair. */
  readonly credentials?: ReadonlyArray<EmulatorCredentials> | undefined
  /** Faults by `ListRooms` call number. Default none. */
  readonly faults?: FaultScript.FaultScript | undefined
  /** A token bucket in front of `ListRooms`: `rate` requests/s, `burst` at once. Default none. */
  readonly rateLimit?: RateLimitOptions | undefined
  /**
   * Shifts the emulator's clock (signature dates are checked against it, `Date` headers show it).
   * A number is milliseconds and may be negative (a clock that is behind).
   */
  readonly clockOffset?: Duration.DurationInput | undefined
  /** How far a request's `x-amz-date` may be from the emulator's clock. Default 5 minutes. */
  readonly maxSkew?: Duration.DurationInput | undefined
  /** The TCP port; default 0 (any free port). */
  readonly port?: number | undefined
  /** The interface to listen on; default `127.0.0.1`. */
  readonly host?: string | undefined
  /**
   * The signing region requests must be scoped to (the region a client configured with a custom
   * endpoint signs for). Default `us-east-1`.
   */
  readonly region?: string | undefined
  /**
   * The `NextToken` secret. Default: random per instance. Give one (and the same data) to have a
   * restarted emulator honour the tokens of the previous one.
   */
  readonly tokenSecret?: Uint8Array | string | undefined
  /** How many received requests `received()` keeps (the most recent). Default 10,000; 0 keeps none. */
  readonly recordLimit?: number | undefined
  /**
   * Check SigV4 on every request. Default `true`. `false` accepts signed and unsigned requests
   * alike: for benchmarks, whose floor client does not sign.
   */
  readonly verifySignatures?: boolean | undefined
}

/**
 * A running emulator.
 *
 * @category models
 * @since 0.1.0
 */
export interface EmulatorService {
  /** The base URL, `http://127.0.0.1:PORT`. */
  readonly endpoint: string
  readonly port: number
  /** The signing region requests must be scoped to (`us-east-1` unless started with another). */
  readonly region: string
  /** The account ids served. */
  readonly accounts: ReadonlyArray<string>
  readonly dataset: Dataset.Dataset
  /** The first accepted key pair: sign with it. */
  readonly credentials: EmulatorCredentials
  /**
   * What the emulator received so far, oldest first. No field holds a signature, a session token or
   * a presigned credential: they read `<redacted>` (see {@link ReceivedRequest}).
   */
  readonly received: () => ReadonlyArray<ReceivedRequest>
  /** Forgets what was received. */
  readonly clearReceived: () => void
  /** How many `ListRooms` calls got a call number (passed SigV4 and the rate limit). */
  readonly calls: () => number
  /** Replaces the fault script; call numbers start again from 1. */
  readonly setFaults: (faults: FaultScript.FaultScript | undefined) => void
  /** Shifts the emulator's clock from now on (a number is milliseconds and may be negative). */
  readonly setClockOffset: (offset: Duration.DurationInput) => void
  /**
   * What the server holds right now: for tests that a client leaves nothing behind (an interrupted
   * request closes its connection; a released client closes its keep-alive pool).
   */
  readonly connections: () => EmulatorConnections
}

/**
 * The server's side of its connections, at one moment.
 *
 * @category models
 * @since 0.1.0
 */
export interface EmulatorConnections {
  /** TCP connections open (idle keep-alive ones included). */
  readonly open: number
  /** Requests received and not yet answered in full, on a connection still open. */
  readonly answering: number
}

/**
 * The emulator could not start (an invalid option, or the port could not be bound).
 *
 * @category errors
 * @since 0.1.0
 */
export class EmulatorError extends Schema.TaggedError<EmulatorError>()("EmulatorError", {
  reason: Schema.Literal("InvalidOption", "Listen"),
  message: Schema.String
}) {}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

/**
 * A fresh random key pair shaped like AWS's (`AKIA` + 16 characters, a 40-character secret).
 *
 * @category constructors
 * @since 0.1.0
 */
export const generateCredentials = (): EmulatorCredentials => {
  const bytes = randomBytes(16)
  let id = "AKIA"
  for (let i = 0; i < 16; i++) id += ALNUM[bytes[i]! % 32]
  return {
    accessKeyId: id,
    secretAccessKey: Redacted.make(randomBytes(30).toString("base64").replace(/[+/]/g, (c) => (c === "+" ? "A" : "b")))
  }
}

const invalid = (message: string) => Effect.fail(new EmulatorError({ reason: "InvalidOption", message }))

const listen = (server: Server, port: number, host: string) =>
  Effect.async<number, EmulatorError>((resume) => {
    const onError = (error: NodeJS.ErrnoException) =>
      resume(
        Effect.fail(
          new EmulatorError({
            reason: "Listen",
            message: `cannot listen on ${host}:${port}: ${error.code ?? error.message}`
          })
        )
      )
    server.once("error", onError)
    server.listen(port, host, () => {
      server.off("error", onError)
      resume(Effect.succeed((server.address() as AddressInfo).port))
    })
  })

const close = (server: Server, state: ServerState) =>
  Effect.async<void>((resume) => {
    state.closed = true
    for (const timer of state.timers) clearTimeout(timer)
    state.timers.clear()
    server.close(() => resume(Effect.void))
    // `close` alone waits for keep-alive sockets to idle out; the scope is closing now.
    server.closeAllConnections()
  })

/**
 * Starts an emulator in the current scope (closing the scope closes the server and its keep-alive
 * connections).
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: EmulatorOptions = {}): Effect.Effect<EmulatorService, EmulatorError, Scope.Scope> =>
  Effect.gen(function*() {
    const dataset = options.dataset ?? Dataset.generate()
    const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE
    if (!isValidPageSize(pageSize)) return yield* invalid("pageSize must be a positive integer")
    const port = options.port ?? 0
    if (!Number.isInteger(port) || port < 0 || port > 65535) return yield* invalid("port must be 0..65535")
    if (options.rateLimit !== undefined && !isValidRateLimit(options.rateLimit)) {
      return yield* invalid("rateLimit needs rate > 0 and burst >= 1")
    }
    const credentials = options.credentials ?? [generateCredentials()]
    const first = credentials[0]
    if (first === undefined) return yield* invalid("credentials must hold at least one key pair")
    const host = options.host ?? "127.0.0.1"
    const region = options.region ?? "us-east-1"
    // A host name label, as AWS SDKs require of a region: nothing that would split a credential scope.
    if (!/^(?!.*-$)(?!-)[a-zA-Z0-9-]{1,63}$/.test(region)) return yield* invalid("region must be a host name label")
    const checking = SigV4Verifier.make({
      credentials,
      region,
      service: "chime",
      maxSkew: options.maxSkew
    })
    const verifier = options.verifySignatures === false
      ? {
        ...checking,
        check: (): SigV4Verifier.SigV4Verification => ({ _tag: "Verified", accessKeyId: "", signedHeaders: [] })
      }
      : checking
    const state: ServerState = {
      faults: options.faults,
      clockOffsetMillis: SigV4Verifier.signedMillis(options.clockOffset ?? 0),
      calls: 0,
      errors: 0,
      bucket: options.rateLimit === undefined ? undefined : makeTokenBucket(options.rateLimit),
      log: [],
      timers: new Set(),
      closed: false
    }
    const recordLimit = options.recordLimit ?? 10_000
    const secret = typeof options.tokenSecret === "string"
      ? tokenSecretFromString(options.tokenSecret)
      : options.tokenSecret
    const handler = makeHandler(
      { verifier, paging: makePagingState({ dataset, pageSize, secret }), recordLimit },
      state
    )
    let open = 0
    let answering = 0
    // A response's "close" comes once it is sent in full or its connection is gone, whichever is first.
    const answered = () => {
      answering--
    }
    const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
      answering++
      res.once("close", answered)
      handler(req, res)
    })
    server.on("connection", (socket: Socket) => {
      open++
      socket.once("close", () => {
        open--
      })
    })
    // A client dropping its connection mid-request must not bring the server down.
    server.on("clientError", (_error, socket) => socket.destroy())
    const boundPort = yield* Effect.acquireRelease(listen(server, port, host), () => close(server, state))
    const endpoint = `http://${host.includes(":") ? `[${host}]` : host}:${boundPort}`
    const service: EmulatorService = {
      endpoint,
      port: boundPort,
      region,
      accounts: dataset.accounts,
      dataset,
      credentials: first,
      received: () => (recordLimit <= 0 ? [] : state.log.slice(-recordLimit)),
      clearReceived: () => {
        state.log = []
      },
      calls: () => state.calls,
      setFaults: (faults) => {
        state.faults = faults
        state.calls = 0
      },
      setClockOffset: (offset) => {
        state.clockOffsetMillis = SigV4Verifier.signedMillis(offset)
      },
      connections: () => ({ open, answering })
    }
    return service
  })

/**
 * The emulator as a service. `make` starts one in the current scope (closing the scope closes the
 * server and its keep-alive connections); `layer` does the same as a `Layer`.
 *
 * @example
 * ```ts
 * import { Dataset, Emulator } from "@chime-rooms/testing"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const emulator = yield* Emulator.Emulator
 *   // point a client at emulator.endpoint, sign with emulator.credentials for emulator.region
 *   return emulator.endpoint
 * }).pipe(Effect.provide(Emulator.layer({ dataset: Dataset.generate({ roomsPerAccount: 1000 }) })))
 * ```
 *
 * @category tags
 * @since 0.1.0
 */
export class Emulator extends Context.Tag("@chime-rooms/testing/Emulator")<Emulator, EmulatorService>() {}

/**
 * A layer running one emulator for its lifetime.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options: EmulatorOptions = {}): Layer.Layer<Emulator, EmulatorError> =>
  Layer.scoped(Emulator, make(options))
