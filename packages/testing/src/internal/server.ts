/**
 * The emulator's request handler: plain `node:http` callbacks, kept free of per-request Effect
 * machinery so that a page costs little more than its own JSON.
 *
 * A request goes: route -> SigV4 -> rate limit -> call number and fault plan -> (delay) ->
 * the page or the service error -> (wire fault) -> the response.
 */
import type { ChimeError, ListRoomsRequest } from "@chime-rooms/core"
import { Duration } from "effect"
import { randomUUID } from "node:crypto"
import type { IncomingMessage, ServerResponse } from "node:http"
import * as Dataset from "../Dataset.js"
import * as Fault from "../Fault.js"
import type * as FaultScript from "../FaultScript.js"
import type * as SigV4Verifier from "../SigV4Verifier.js"
import { chimeErrorCode, defaultErrorMessage } from "./errorCodes.js"
import { pageOf, type PagingState } from "./paging.js"
import type { TokenBucket } from "./rateLimit.js"
import { ALGORITHM } from "./sigv4.js"

/** What the emulator did with a request. */
export interface ReceivedOutcome {
  /** The HTTP status sent; `undefined` when the connection was dropped before a status line. */
  readonly status: number | undefined
  /** The `x-amzn-ErrorType` sent, if any, as sent (with its Coral URI on every second error). */
  readonly errorType: string | undefined
  /** The injected faults, in the spec syntax (`429:retry-after=2s`, `reset`, `delay=100ms`). */
  readonly faults: ReadonlyArray<string>
}

/** One request as the emulator received it, minus secrets. */
export interface ReceivedRequest {
  /** Arrival time, by the emulator's (possibly offset) clock, in epoch milliseconds. */
  readonly time: number
  /** The `x-amzn-RequestId` sent back. */
  readonly requestId: string
  /** The `ListRooms` call number (1-based; what fault scripts count), once the request got one. */
  readonly call: number | undefined
  readonly method: string
  /** The raw request-target: `path`, then `?` and `rawQuery` when the request had a query. */
  readonly target: string
  /** The raw (still percent-encoded) path, as received. */
  readonly path: string
  /**
   * The raw query string, without `?`, as received but for presigned-URL credentials: the values
   * of `X-Amz-Signature`, `X-Amz-Credential` and `X-Amz-Security-Token` (any case) read
   * `%3Credacted%3E`.
   */
  readonly rawQuery: string
  /** The decoded query parameters (the first value of a repeated name); presigned credentials read `<redacted>`. */
  readonly query: Readonly<Record<string, string>>
  /**
   * Every header received, names lower-cased, repeated headers joined by `, `. `x-amz-security-token`
   * reads `<redacted>`; `authorization` keeps its algorithm, `Credential` and `SignedHeaders` but
   * reads `Signature=<redacted>` (a header that is not `AWS4-HMAC-SHA256 ...` reads `<redacted>`).
   */
  readonly headers: Readonly<Record<string, string>>
  /**
   * The access key id of the request's credential: the `Authorization` header's, else a presigned
   * `X-Amz-Credential`'s (an access key id is not a secret).
   */
  readonly accessKeyId: string | undefined
  /** Set once the request has been answered (or dropped). */
  readonly outcome: ReceivedOutcome | undefined
}

/** The handler fills `call` and `outcome` in as the request goes. */
type Entry = { -readonly [K in keyof ReceivedRequest]: ReceivedRequest[K] }

/** Fixed at start. */
export interface ServerConfig {
  readonly verifier: SigV4Verifier.SigV4VerifierService
  readonly paging: PagingState
  /** How many received requests to keep (the most recent); 0 keeps none. */
  readonly recordLimit: number
}

/** Changed while running. */
export interface ServerState {
  faults: FaultScript.FaultScript | undefined
  clockOffsetMillis: number
  calls: number
  /** Error responses sent so far: every second one names its error with a Coral URI. */
  errors: number
  bucket: TokenBucket | undefined
  log: Array<ReceivedRequest>
  readonly timers: Set<NodeJS.Timeout>
  closed: boolean
}

/** What a recorded secret reads instead (Effect's `Redacted` prints the same). */
const REDACTED = "<redacted>"
/** `REDACTED` percent-encoded, for the raw query: it still decodes to the same text. */
const REDACTED_RAW = "%3Credacted%3E"
/** Presigned-URL credentials, matched on the decoded, lower-cased parameter name. */
const SECRET_PARAMS = new Set(["x-amz-signature", "x-amz-credential", "x-amz-security-token"])
/** The shortest name in `SECRET_PARAMS`: `max-results`, `member-id` and `next-token` are never lower-cased. */
const SECRET_PARAM_MIN = 15
const ROUTE = /^\/accounts\/([^/]+)\/rooms$/
const MAX_BODY = 1 << 20

const HTML_502 = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n" +
  "<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"

/** Valid JSON up to a stray comma: a parser fails mid-document, not at its end. */
const INVALID_JSON = "{\"NextToken\":null,\"Rooms\":[{\"RoomId\":\"r-1\"},,{\"RoomId\":\"r-2\"}]}"

const safeDecode = (s: string): string | undefined => {
  if (s.indexOf("%") === -1) return s
  try {
    return decodeURIComponent(s)
  } catch {
    return undefined
  }
}

const parseQuery = (raw: string): Record<string, string> | undefined => {
  const out: Record<string, string> = {}
  if (raw === "") return out
  for (const part of raw.split("&")) {
    if (part === "") continue
    const eq = part.indexOf("=")
    const name = safeDecode(eq === -1 ? part : part.slice(0, eq))
    const value = safeDecode(eq === -1 ? "" : part.slice(eq + 1))
    if (name === undefined || value === undefined) return undefined
    if (!Object.hasOwn(out, name)) out[name] = value
  }
  return out
}

const credentialOf = (authorization: string | undefined): string | undefined => {
  if (authorization === undefined) return undefined
  const m = /Credential=([^/,\s]+)\//.exec(authorization)
  return m?.[1]
}

/** Whether a decoded query parameter name is a presigned credential's. */
const isSecretParam = (name: string): boolean =>
  name.length >= SECRET_PARAM_MIN && SECRET_PARAMS.has(name.toLowerCase())

interface MaskedQuery {
  readonly rawQuery: string
  readonly accessKeyId: string | undefined
}

/**
 * The raw query with the values of presigned credentials replaced, and the access key id of the
 * first `X-Amz-Credential`; `undefined` when the query holds none (the usual case).
 */
const maskQuery = (rawQuery: string): MaskedQuery | undefined => {
  if (rawQuery.length < SECRET_PARAM_MIN) return undefined
  const parts = rawQuery.split("&")
  let masked = false
  let accessKeyId: string | undefined
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!
    const eq = part.indexOf("=")
    // Decoding never lengthens a name: a short raw name needs no more work.
    if (eq < SECRET_PARAM_MIN) continue
    const rawName = part.slice(0, eq)
    const name = safeDecode(rawName) ?? rawName
    if (!isSecretParam(name)) continue
    if (accessKeyId === undefined && name.toLowerCase() === "x-amz-credential") {
      const credential = safeDecode(part.slice(eq + 1)) ?? ""
      const slash = credential.indexOf("/")
      if (slash > 0) accessKeyId = credential.slice(0, slash)
    }
    parts[i] = rawName + "=" + REDACTED_RAW
    masked = true
  }
  return masked ? { rawQuery: parts.join("&"), accessKeyId } : undefined
}

/** The decoded query as recorded: the values of presigned credentials replaced. */
const maskParams = (query: Readonly<Record<string, string>>): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const name of Object.keys(query)) out[name] = isSecretParam(name) ? REDACTED : query[name]!
  return out
}

const PLAIN = /^[^\s=]*$/

/**
 * An `Authorization` header as recorded: what a test may want to check (the algorithm, the
 * credential scope, the signed headers) without the signature. Another algorithm is masked whole
 * and any other component on its own, since their shape says nothing about where a secret may sit.
 */
const maskAuthorization = (value: string): string => {
  const trimmed = value.trim()
  const space = trimmed.indexOf(" ")
  if (space === -1 || trimmed.slice(0, space) !== ALGORITHM) return REDACTED
  let out = ALGORITHM
  let first = true
  for (const part of trimmed.slice(space + 1).split(",")) {
    const item = part.trim()
    if (item === "") continue
    const eq = item.indexOf("=")
    const key = eq === -1 ? "" : item.slice(0, eq).trim()
    const rest = item.slice(eq + 1).trim()
    // A kept value has no blank and no `=`: components run together without commas stay hidden.
    const kept = (key === "Credential" || key === "SignedHeaders") && PLAIN.test(rest)
      ? key + "=" + rest
      : key === "Signature"
      ? "Signature=" + REDACTED
      : REDACTED
    out += (first ? " " : ", ") + kept
    first = false
  }
  return out
}

/** An HTTP date, cached per second: every response carries one. */
let lastDateSecond = -1
let lastDate = ""
const httpDate = (millis: number): string => {
  const second = Math.floor(millis / 1000)
  if (second !== lastDateSecond) {
    lastDateSecond = second
    lastDate = new Date(second * 1000).toUTCString()
  }
  return lastDate
}

/**
 * The Coral URIs that AWS services put after an error's name in `x-amzn-ErrorType`
 * (`InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/`): the
 * front end's, as AWS sends it, and one for Chime's own errors in the same form.
 */
const FRONT_END_CORAL = ":http://internal.amazon.com/coral/com.amazon.coral.service/"
const CHIME_CORAL = ":http://internal.amazon.com/coral/com.amazonaws.chime/"

interface Reply {
  readonly status: number
  readonly errorType: string | undefined
  /** What follows the name in `x-amzn-ErrorType` when a Coral URI is sent: who answered. */
  readonly coral: string | undefined
  readonly contentType: string
  readonly body: string
  readonly retryAfterSeconds: number | undefined
}

const jsonReply = (body: string): Reply => ({
  status: 200,
  errorType: undefined,
  coral: undefined,
  contentType: "application/json",
  body,
  retryAfterSeconds: undefined
})

/** Chime's own errors: the exception name in `x-amzn-ErrorType`, its `Code` and `Message` in the body. */
const serviceErrorReply = (
  name: ChimeError.ServiceErrorName,
  message: string | undefined,
  retryAfter: Duration.Duration | undefined
): Reply => ({
  status: Fault.statusOf(name),
  errorType: name,
  coral: CHIME_CORAL,
  contentType: "application/json",
  body: JSON.stringify({ Code: chimeErrorCode[name], Message: message ?? defaultErrorMessage[name] }),
  retryAfterSeconds: retryAfter === undefined ? undefined : Math.ceil(Duration.toMillis(retryAfter) / 1000)
})

/** Errors of AWS's front end (signature, unknown operation): a lower-case `message` only, as AWS sends them. */
const frontEndErrorReply = (status: number, name: string, message: string): Reply => ({
  status,
  errorType: name,
  coral: FRONT_END_CORAL,
  contentType: "application/json",
  body: JSON.stringify({ message }),
  retryAfterSeconds: undefined
})

const pageBody = (paging: PagingState, accountId: string, indices: ReadonlyArray<number>, next: string | undefined) => {
  // Concatenated room by room: a 99-room page of a 100,000-room account never builds more than its own text.
  // The last page says `"NextToken":null`, as the API reference's example response does.
  let body = "{\"NextToken\":" + (next === undefined ? "null" : JSON.stringify(next)) + ",\"Rooms\":["
  const dataset = paging.dataset
  for (let i = 0; i < indices.length; i++) {
    body += (i === 0 ? "" : ",") + Dataset.roomJson(dataset, accountId, indices[i]!)
  }
  return body + "]}"
}

/** The answer to a routed, authenticated, admitted `ListRooms` call. */
const listRooms = (
  paging: PagingState,
  accountId: string,
  query: Readonly<Record<string, string>>,
  repeatToken: boolean
): Reply => {
  if (!/\S/.test(accountId)) {
    return serviceErrorReply("BadRequestException", "AccountId must contain a non-space character", undefined)
  }
  const request: { -readonly [K in keyof ListRoomsRequest.ListRoomsRequest]: ListRoomsRequest.ListRoomsRequest[K] } = {
    AccountId: accountId
  }
  const max = query["max-results"]
  if (max !== undefined) {
    if (!/^[+-]?\d{1,15}$/.test(max)) {
      return serviceErrorReply("BadRequestException", "max-results must be an integer", undefined)
    }
    request.MaxResults = Number(max)
  }
  const member = query["member-id"]
  if (member !== undefined) request.MemberId = member
  const token = query["next-token"]
  if (token !== undefined) request.NextToken = token
  const page = pageOf(paging, request, { repeatToken })
  if (page._tag === "Error") return serviceErrorReply(page.name, page.message, undefined)
  return jsonReply(pageBody(paging, page.accountId, page.indices, page.nextToken))
}

/** Builds the `request` listener of the emulator's server. */
export const makeHandler = (config: ServerConfig, state: ServerState) => {
  const { paging, verifier } = config

  const record = (entry: Entry) => {
    if (config.recordLimit <= 0) return
    state.log.push(entry)
    // Trim in batches so that recording stays O(1) amortised.
    if (state.log.length >= 2 * config.recordLimit) state.log = state.log.slice(-config.recordLimit)
  }

  const later = (millis: number, f: () => void) => {
    const timer = setTimeout(() => {
      state.timers.delete(timer)
      if (!state.closed) f()
    }, millis)
    state.timers.add(timer)
  }

  const finish = (
    entry: Entry,
    status: number | undefined,
    errorType: string | undefined,
    faults: ReadonlyArray<string>
  ) => {
    entry.outcome = { status, errorType, faults }
  }

  /**
   * The `x-amzn-ErrorType` of a reply, counted: AWS sends an error's name with or without a Coral
   * URI, so the emulator sends both, in turn (the 2nd, 4th, … error response has one).
   */
  const errorTypeOf = (reply: Reply): string | undefined => {
    if (reply.errorType === undefined) return undefined
    return ++state.errors % 2 === 0 && reply.coral !== undefined ? reply.errorType + reply.coral : reply.errorType
  }

  const head = (
    res: ServerResponse,
    entry: Entry,
    reply: Reply,
    errorType: string | undefined,
    now: number,
    length: number
  ) => {
    res.sendDate = false
    // A flat name/value list goes straight into the head, skipping the per-header bookkeeping of setHeader.
    const headers = ["Date", httpDate(now), "x-amzn-RequestId", entry.requestId]
    if (errorType !== undefined) headers.push("x-amzn-ErrorType", errorType)
    if (reply.retryAfterSeconds !== undefined) headers.push("Retry-After", String(reply.retryAfterSeconds))
    headers.push("Content-Type", reply.contentType, "Content-Length", String(length))
    res.writeHead(reply.status, headers)
  }

  const drop = (res: ServerResponse) => {
    const socket = res.socket
    if (socket === null) return
    // A TCP reset rather than a FIN: what a crashed proxy or a dropped connection looks like.
    if (typeof socket.resetAndDestroy === "function") socket.resetAndDestroy()
    else socket.destroy()
  }

  const send = (res: ServerResponse, entry: Entry, reply: Reply, plan: FaultScript.FaultPlan | undefined) => {
    const faults = plan === undefined ? [] : plan.faults.map(Fault.describe)
    const now = Date.now() + state.clockOffsetMillis
    if (res.destroyed) return finish(entry, undefined, undefined, faults)
    const failure = plan?.failure
    if (failure?._tag === "Html502") {
      // A proxy's page: none of the service's headers.
      res.statusCode = 502
      res.setHeader("Content-Type", "text/html")
      res.setHeader("Content-Length", Buffer.byteLength(HTML_502))
      finish(entry, 502, undefined, faults)
      res.end(HTML_502)
      return
    }
    const errorType = errorTypeOf(reply)
    if (failure?._tag === "Reset" || failure?._tag === "TruncatedJson") {
      const bytes = Buffer.from(reply.body, "utf8")
      const half = bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2)))
      finish(entry, reply.status, errorType, faults)
      if (failure._tag === "TruncatedJson") {
        // A complete HTTP message whose JSON stops short.
        head(res, entry, reply, errorType, now, half.length)
        res.end(half)
      } else {
        // The head promises the whole body; half of it arrives, then the connection is reset.
        head(res, entry, reply, errorType, now, bytes.length)
        res.write(half, () => later(5, () => drop(res)))
      }
      return
    }
    const out = failure?._tag === "InvalidJson" ? { ...reply, body: INVALID_JSON } : reply
    finish(entry, out.status, errorType, faults)
    const slow = plan === undefined ? 0 : Duration.toMillis(plan.slow)
    if (slow <= 0) {
      head(res, entry, out, errorType, now, Buffer.byteLength(out.body, "utf8"))
      // A string body lets node send head and body in one write instead of a two-buffer writev.
      res.end(out.body, "utf8")
      return
    }
    const bytes = Buffer.from(out.body, "utf8")
    head(res, entry, out, errorType, now, bytes.length)
    // Ten slices, evenly spread: the first at once, the last after `slow`. Each is scheduled once
    // the one before is written: timers of different delays that fall due in the same millisecond
    // may fire in either order, which would shuffle the body.
    const slices = Math.min(10, bytes.length)
    const size = Math.ceil(bytes.length / slices)
    const started = performance.now()
    const write = (i: number): void => {
      if (res.destroyed) return
      const chunk = bytes.subarray(i * size, Math.min(bytes.length, (i + 1) * size))
      if (i === slices - 1) return void res.end(chunk)
      res.write(chunk)
      const due = started + (slow * (i + 1)) / (slices - 1)
      later(Math.max(0, Math.round(due - performance.now())), () => write(i + 1))
    }
    write(0)
  }

  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer | undefined) => {
    const arrival = Date.now()
    const now = arrival + state.clockOffsetMillis
    const target = req.url ?? "/"
    const q = target.indexOf("?")
    const path = q === -1 ? target : target.slice(0, q)
    const rawQuery = q === -1 ? "" : target.slice(q + 1)
    const raw = req.rawHeaders
    const pairs: Array<readonly [string, string]> = new Array(raw.length / 2)
    const headers: Record<string, string> = {}
    const recording = config.recordLimit > 0
    let authorization: string | undefined
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!
      let value = raw[i + 1]!
      pairs[i / 2] = [name, value]
      // Nobody reads the copy when nothing is recorded (the benchmark setting).
      if (!recording) continue
      const lower = name.toLowerCase()
      if (lower === "authorization") {
        authorization ??= value
        value = maskAuthorization(value)
      } else if (lower === "x-amz-security-token") {
        value = REDACTED
      }
      headers[lower] = Object.hasOwn(headers, lower) ? headers[lower] + ", " + value : value
    }
    const query = parseQuery(rawQuery)
    // The verifier and the service read the request as it came; only the record is masked.
    const masked = recording ? maskQuery(rawQuery) : undefined
    const entry: Entry = {
      time: now,
      requestId: randomUUID(),
      call: undefined,
      method: req.method ?? "GET",
      target: masked === undefined ? target : path + "?" + masked.rawQuery,
      path,
      rawQuery: masked === undefined ? rawQuery : masked.rawQuery,
      query: query === undefined ? {} : masked === undefined ? query : maskParams(query),
      headers,
      accessKeyId: credentialOf(authorization) ?? masked?.accessKeyId,
      outcome: undefined
    }
    record(entry)

    const route = ROUTE.exec(path)
    if (route === null || req.method !== "GET") {
      return send(
        res,
        entry,
        frontEndErrorReply(
          404,
          "UnknownOperationException",
          "The emulator serves ListRooms only: GET /accounts/{AccountId}/rooms"
        ),
        undefined
      )
    }

    const verdict = verifier.check({ method: entry.method, target, headers: pairs, body }, now)
    if (verdict._tag === "Rejected") {
      return send(res, entry, frontEndErrorReply(verdict.status, verdict.name, verdict.message), undefined)
    }

    if (state.bucket !== undefined) {
      const take = state.bucket.take(performance.now())
      if (take._tag === "Limited") {
        return send(
          res,
          entry,
          serviceErrorReply(
            "ThrottledClientException",
            "Rate exceeded",
            state.bucket.options.retryAfter === true
              ? Duration.millis(Math.max(1000, take.retryAfterMillis))
              : undefined
          ),
          undefined
        )
      }
    }

    const call = ++state.calls
    entry.call = call
    const plan = state.faults?.plan(call)
    const answer = () => {
      if (res.destroyed) return finish(entry, undefined, undefined, plan?.faults.map(Fault.describe) ?? [])
      const failure = plan?.failure
      if (failure?._tag === "Transport") {
        finish(entry, undefined, undefined, plan!.faults.map(Fault.describe))
        return drop(res)
      }
      if (failure?._tag === "ServiceError") {
        return send(res, entry, serviceErrorReply(failure.name, failure.message, failure.retryAfter), plan)
      }
      const accountId = safeDecode(route[1]!)
      const reply = accountId === undefined || query === undefined
        ? serviceErrorReply("BadRequestException", "The request could not be parsed", undefined)
        : listRooms(paging, accountId, query, plan?.repeatToken === true)
      send(res, entry, reply, plan)
    }
    const delay = plan === undefined ? 0 : Duration.toMillis(plan.delay)
    if (delay > 0) later(delay, answer)
    else answer()
  }

  return (req: IncomingMessage, res: ServerResponse): void => {
    const length = req.headers["content-length"]
    const hasBody = (length !== undefined && length !== "0") || req.headers["transfer-encoding"] !== undefined
    if (!hasBody) return handle(req, res, undefined)
    const chunks: Array<Buffer> = []
    let size = 0
    req.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size <= MAX_BODY) chunks.push(chunk)
    })
    req.on("end", () => {
      if (size > MAX_BODY) {
        res.statusCode = 413
        res.end()
        return
      }
      handle(req, res, Buffer.concat(chunks))
    })
  }
}
