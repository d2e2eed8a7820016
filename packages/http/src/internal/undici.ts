/**
 * The machinery of `UndiciHttpClient`: one undici dispatch handler per request (no `RequestHandler`,
 * `AbortSignal`, body `Readable` or `FinalizationRegistry` entry on the common path), a response
 * over it, and a by-hand split of URLs the WHATWG parser would leave unchanged.
 *
 * Why by hand: `HttpClient.make` allocates a `URL`, an `AbortController` and a registry entry per
 * request, and undici's `request` adds a stream per body; measured on a page of 99 rooms, that was
 * more CPU (and far more garbage surviving young collections, since registry targets are kept alive
 * by scavenges) than signing and decoding the page.
 */
import * as Cookies from "@effect/platform/Cookies"
import * as Headers from "@effect/platform/Headers"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as UrlParams from "@effect/platform/UrlParams"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Inspectable from "effect/Inspectable"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { globalValue } from "effect/GlobalValue"
import type { Dispatcher } from "undici"
import { BodyTooLargeError, decodeUtf8 } from "./body.js"
import { AttemptTimeoutError } from "./transport.js"

/** Bytes of an unread body kept before the socket is paused until someone reads. */
const HIGH_WATER_MARK = 1024 * 1024

const noop = (): void => {}

/**
 * The controllers of `HttpClient.withScope`: the platform keeps them in a global map keyed by the
 * request (as `HttpClient.make` reads them), so a scoped request is aborted when its scope closes.
 * The key is the platform's; a test fails if a platform release moves it.
 */
const scopedRequests = globalValue(
  "@effect/platform/HttpClient/scopedRequests",
  () => new WeakMap<HttpClientRequest.HttpClientRequest, AbortController>()
)

/**
 * Aborts the request of a response dropped unread while its socket is paused for it (a body larger
 * than the high-water mark): the same safety net `HttpClient.make` gives, paid only there.
 */
const abandoned = new FinalizationRegistry<Exchange>((exchange) => exchange.abort())

/** The head of a response as undici hands it over: status and the raw header list. */
export interface Head {
  readonly status: number
  readonly statusText: string
  readonly rawHeaders: ReadonlyArray<Buffer>
}

/** Receives the head or the failure of an exchange, once. */
export type HeadCallback = (head: Head | undefined, error: unknown) => void

/**
 * Why an exchange was aborted by its caller (interruption, a scope or signal), as undici words it
 * (`UND_ERR_ABORTED`). Our own class rather than undici's: this module imports nothing of undici
 * at run time, so a program that never builds an undici client does not bundle undici.
 */
export class RequestAbortedError extends Error {
  readonly code = "UND_ERR_ABORTED"
  constructor() {
    super("Request aborted")
    this.name = "AbortError"
  }
}

/**
 * One request in flight: undici's legacy handler interface (what its dispatchers call natively)
 * and the body buffered for whichever reader comes. Once registered for an unread body it no
 * longer references its response, so the response can be collected and the request aborted.
 */
export class Exchange implements Dispatcher.DispatchHandler {
  private abortRequest: ((reason: Error) => void) | undefined = undefined
  private aborted: Error | undefined = undefined
  private onHead: HeadCallback | undefined
  private resumeSocket: (() => void) | undefined = undefined
  /** When it times out (`performance.now()` time), while armed in {@link deadlines}. */
  deadline = Infinity
  private timeoutMillis = 0
  chunks: Array<Buffer> = []
  size = 0
  done = false
  error: unknown = undefined
  /** A reader takes the whole body: never pause for it. */
  wholeBody = false
  /** The largest body accepted; a larger one fails the exchange with {@link BodyTooLargeError}. */
  maxBytes = Infinity
  /** A reader is attached (stream or whole body): no registry entry needed. */
  attached = false
  private paused = false
  private registered = false
  private waiter: (() => void) | undefined = undefined
  /** What this exchange's latest canceler aborts through (see {@link canceler}). */
  private handle: InFlight | undefined = undefined

  constructor(onHead: HeadCallback) {
    this.onHead = onHead
  }

  /** Fails the exchange with a timeout after `millis` unless it completes first. */
  startTimer(millis: number): void {
    this.timeoutMillis = millis
    this.deadline = performance.now() + millis
    deadlines.add(this)
  }

  /** Its deadline has passed (called by {@link deadlines}). */
  expire(): void {
    this.fail(new AttemptTimeoutError(this.timeoutMillis))
  }

  /** Aborts the request (a no-op once it completed). */
  abort(): void {
    this.fail(new RequestAbortedError())
  }

  /**
   * An effect that aborts this exchange, for the canceler of the `Effect.async` that waits on it.
   * It reaches the exchange only until the exchange settles. The canceler of a finished async
   * effect survives young collections, so what it holds is promoted and kept until the next full
   * collection (a heap snapshot finds none of it reachable; our reading is that older fiber objects,
   * already promoted and dead or not, still point at it, and a young collection takes the old
   * generation as live). An exchange holds its response body: a
   * canceler that held the exchange itself kept every page's body that long, which over a long
   * listing grew the young generation to full size and peak RSS by about 35 MB.
   */
  canceler(): Effect.Effect<void> {
    // The previous one (the head's, once a body read starts) belongs to an effect that is over.
    if (this.handle !== undefined) this.handle.exchange = undefined
    const handle = new InFlight(this.done || this.error !== undefined ? undefined : this)
    this.handle = handle
    return Effect.sync(() => handle.exchange?.abort())
  }

  /**
   * Ends the exchange with `error` now (its head or body reader sees it at once), and aborts the
   * request in undici, immediately or as soon as it is connected.
   */
  private fail(error: Error): void {
    if (this.done || this.error !== undefined) return
    this.settleError(error)
    this.aborted = error
    if (this.abortRequest !== undefined) this.abortRequest(error)
  }

  private settleError(error: unknown): void {
    this.error = error
    this.release()
    const onHead = this.onHead
    if (onHead !== undefined) {
      this.onHead = undefined
      onHead(undefined, error)
      return
    }
    this.wake()
  }

  onConnect(abort: (reason?: Error) => void): void {
    if (this.aborted !== undefined) abort(this.aborted)
    else this.abortRequest = abort
  }

  onHeaders(statusCode: number, rawHeaders: Array<Buffer>, resume: () => void, statusText: string): boolean {
    // Informational responses (100 Continue, 103 Early Hints) are not the response.
    if (statusCode < 200 || this.error !== undefined) return true
    this.resumeSocket = resume
    const onHead = this.onHead
    this.onHead = undefined
    if (onHead !== undefined) onHead({ status: statusCode, statusText, rawHeaders }, undefined)
    // Refused on its announced length, after the head (the reader learns the status and request id).
    if (this.maxBytes !== Infinity && declaredLength(rawHeaders) > this.maxBytes) {
      this.fail(new BodyTooLargeError(this.maxBytes))
      return false
    }
    return true
  }

  onData(chunk: Buffer): boolean {
    if (this.error !== undefined) return true
    if (this.size + chunk.length > this.maxBytes) {
      this.fail(new BodyTooLargeError(this.maxBytes))
      return false
    }
    this.chunks.push(chunk)
    this.size += chunk.length
    this.wake()
    if (this.size < HIGH_WATER_MARK || this.wholeBody) return true
    this.paused = true
    if (!this.attached && !this.registered) this.register()
    return false
  }

  onComplete(): void {
    if (this.error !== undefined) return
    this.done = true
    this.release()
    this.wake()
  }

  onError(error: Error): void {
    // After `fail`, undici reports the abort it was asked for: already settled.
    if (this.done || this.error !== undefined) return
    this.settleError(error)
  }

  /**
   * The response, until it is registered, read or finished: the exchange must not reach it once
   * registered (the held value would keep its target alive).
   */
  responseRef: object | undefined = undefined

  private register(): void {
    const response = this.responseRef
    if (response === undefined) return
    this.responseRef = undefined
    this.registered = true
    abandoned.register(response, this, this)
  }

  private release(): void {
    if (this.handle !== undefined) {
      this.handle.exchange = undefined
      this.handle = undefined
    }
    if (this.deadline !== Infinity) {
      this.deadline = Infinity
      deadlines.delete(this)
    }
    if (this.registered) {
      this.registered = false
      abandoned.unregister(this)
    }
    this.responseRef = undefined
  }

  /** A reader arrives: no registry entry from now on; a whole-body reader lifts the pause. */
  attach(wholeBody: boolean): void {
    this.attached = true
    this.responseRef = undefined
    if (wholeBody) this.wholeBody = true
    if (this.registered) {
      this.registered = false
      abandoned.unregister(this)
    }
    if (this.paused && (wholeBody || this.size < HIGH_WATER_MARK)) this.resume()
  }

  /** The whole body once `done`, as one buffer (kept, so later readers get the same one). */
  body(): Buffer {
    if (this.chunks.length !== 1) {
      this.chunks = [concat(this.chunks, this.size)]
    }
    return this.chunks[0]!
  }

  /** Takes what is buffered (a stream reader), resuming the socket if it was paused. */
  take(): Array<Buffer> {
    const chunks = this.chunks
    this.chunks = []
    this.size = 0
    if (this.paused) this.resume()
    return chunks
  }

  private resume(): void {
    this.paused = false
    const resume = this.resumeSocket
    if (resume !== undefined) resume()
  }

  /** Calls `f` once when something changes (data, end, error). */
  wait(f: () => void): void {
    this.waiter = f
  }

  private wake(): void {
    const waiter = this.waiter
    if (waiter !== undefined) {
      this.waiter = undefined
      waiter()
    }
  }
}

/**
 * The deadlines of every exchange in flight, on one Node timer set for the earliest of them. A
 * timer per exchange cost ~7 µs to set and more to clear, measured in a listing (a 10-second
 * `setTimeout` creates and schedules its timer list each time the previous one emptied); arming
 * and disarming here is a `Set` operation. When the timer fires it fails what is due and is set for
 * the next deadline; a deadline that left early only makes it fire once for nothing. Unreferenced:
 * an exchange in flight keeps the process alive through its socket, not through its deadline.
 */
class Deadlines {
  private readonly armed = new Set<Exchange>()
  private timer: ReturnType<typeof setTimeout> | undefined = undefined
  private at = Infinity

  add(exchange: Exchange): void {
    this.armed.add(exchange)
    if (exchange.deadline < this.at) this.arm(exchange.deadline)
  }

  delete(exchange: Exchange): void {
    this.armed.delete(exchange)
  }

  private arm(at: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.at = at
    this.timer = setTimeout(() => this.fire(), Math.max(1, Math.ceil(at - performance.now())))
    this.timer.unref?.()
  }

  private fire(): void {
    this.timer = undefined
    this.at = Infinity
    const now = performance.now()
    let next = Infinity
    for (const exchange of this.armed) {
      if (exchange.deadline <= now) {
        this.armed.delete(exchange)
        exchange.expire()
      } else if (exchange.deadline < next) next = exchange.deadline
    }
    if (next !== Infinity) this.arm(next)
  }
}

const deadlines = new Deadlines()

/** What {@link Exchange.canceler} aborts: the exchange while it is in flight, then nothing. */
class InFlight {
  constructor(public exchange: Exchange | undefined) {}
}

/**
 * A header's value without the blanks around it, which are not part of it (RFC 9110 §5.5): node's
 * parser drops them, undici's keeps those that end the line.
 */
const fieldValue = (raw: Buffer): string => {
  const value = raw.toString("latin1")
  const first = value.charCodeAt(0)
  const last = value.charCodeAt(value.length - 1)
  return first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09 ? value.replace(/^[ \t]+|[ \t]+$/g, "") : value
}

/** The `content-length` of a raw header list; -1 when absent or unreadable. */
const declaredLength = (rawHeaders: ReadonlyArray<Buffer>): number => {
  const value = rawHeader(rawHeaders, "content-length")
  return value !== undefined && /^\s*\d+\s*$/.test(value) ? Number(value) : -1
}

/** The body as one buffer: no copy for a single chunk. */
const concat = (chunks: ReadonlyArray<Buffer>, size: number): Buffer =>
  chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)

/**
 * Response headers as the platform's `Headers` (lower-case names, repeated values joined with
 * `", "`, as `Headers.fromInput` does with undici's parsed headers), in one pass over the raw list.
 */
const headersOf = (raw: ReadonlyArray<Buffer>): Headers.Headers => {
  // A fresh object on the platform's null-rooted prototype: any name, `__proto__` included, is
  // an own property.
  const out = Headers.fromInput(NO_HEADERS) as Record<string, string>
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString("latin1").toLowerCase()
    const value = fieldValue(raw[i + 1]!)
    const existing = out[name]
    out[name] = existing === undefined ? value : existing + ", " + value
  }
  return out as Headers.Headers
}

const NO_HEADERS: ReadonlyArray<readonly [string, string]> = []

/** A response whose body is read from its exchange, once, and replayed to later readers. */
export class UndiciResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  private cachedHeaders: Headers.Headers | undefined = undefined
  private body: Buffer | undefined = undefined
  private cachedText: string | undefined = undefined

  readonly status: number
  readonly statusText: string
  private readonly rawHeaders: ReadonlyArray<Buffer>

  constructor(readonly request: HttpClientRequest.HttpClientRequest, private readonly exchange: Exchange, head: Head) {
    super()
    this.status = head.status
    this.statusText = head.statusText
    this.rawHeaders = head.rawHeaders
    exchange.responseRef = this
  }

  get headers(): Headers.Headers {
    return (this.cachedHeaders ??= headersOf(this.rawHeaders))
  }

  get cookies(): Cookies.Cookies {
    const values: Array<string> = []
    for (let i = 0; i < this.rawHeaders.length; i += 2) {
      if (this.rawHeaders[i]!.toString("latin1").toLowerCase() === "set-cookie") {
        values.push(this.rawHeaders[i + 1]!.toString("latin1"))
      }
    }
    return values.length === 0 ? Cookies.empty : Cookies.fromSetCookie(values)
  }

  get remoteAddress(): Option.Option<string> {
    return Option.none()
  }

  private decodeError(cause: unknown): HttpClientError.ResponseError {
    return new HttpClientError.ResponseError({ request: this.request, response: this, reason: "Decode", cause })
  }

  /** The whole body; the request is aborted if the reader is interrupted. */
  private get whole(): Effect.Effect<Buffer, HttpClientError.ResponseError> {
    if (this.body !== undefined) return Effect.succeed(this.body)
    const exchange = this.exchange
    const settle = (): Effect.Effect<Buffer, HttpClientError.ResponseError> | undefined => {
      if (exchange.done) {
        const body = this.body = exchange.body()
        exchange.chunks = []
        return Effect.succeed(body)
      }
      if (exchange.error !== undefined) return Effect.fail(this.decodeError(exchange.error))
      return undefined
    }
    return Effect.suspend(() => {
      if (this.body !== undefined) return Effect.succeed(this.body)
      exchange.attach(true)
      return settle() ?? Effect.async<Buffer, HttpClientError.ResponseError>((resume) => {
        const check = () => {
          const settled = settle()
          if (settled === undefined) exchange.wait(check)
          else resume(settled)
        }
        exchange.wait(check)
        return exchange.canceler()
      })
    })
  }

  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    if (this.cachedText !== undefined) return Effect.succeed(this.cachedText)
    return Effect.map(this.whole, (body) => (this.cachedText ??= decodeUtf8(body)))
  }

  get json(): Effect.Effect<unknown, HttpClientError.ResponseError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({
        try: () => (text === "" ? null : JSON.parse(text) as unknown),
        catch: (cause) => this.decodeError(cause)
      }))
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.ResponseError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({
        try: () => UrlParams.fromInput(new URLSearchParams(text)),
        catch: (cause) => this.decodeError(cause)
      }))
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    return Effect.map(this.whole, (body) => {
      // A fresh ArrayBuffer of exactly the body: a Buffer may be a view into a larger pool.
      const copy = new Uint8Array(body.length)
      copy.set(body)
      return copy.buffer
    })
  }

  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    return Effect.flatMap(this.whole, (body) =>
      Effect.tryPromise({
        try: () => {
          const headers = new globalThis.Headers()
          const type = this.headers["content-type"]
          if (type !== undefined) headers.set("content-type", type)
          return new globalThis.Response(body, { headers }).formData()
        },
        catch: (cause) => this.decodeError(cause)
      }))
  }

  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    const exchange = this.exchange
    return Stream.suspend(() => {
      if (this.body !== undefined) return Stream.succeed(this.body as Uint8Array)
      exchange.attach(false)
      const pull: Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<HttpClientError.ResponseError>> = Effect.suspend(() => {
        const ready = (): Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<HttpClientError.ResponseError>> | undefined => {
          if (exchange.chunks.length > 0) return Effect.succeed(Chunk.unsafeFromArray<Uint8Array>(exchange.take()))
          if (exchange.done) return Effect.fail(Option.none())
          if (exchange.error !== undefined) return Effect.fail(Option.some(this.decodeError(exchange.error)))
          return undefined
        }
        return ready() ?? Effect.async((resume) => {
          const check = () => {
            const r = ready()
            if (r === undefined) exchange.wait(check)
            else resume(r)
          }
          exchange.wait(check)
          return Effect.sync(() => exchange.wait(noop))
        })
      })
      // A reader that stops early (or is interrupted) gives the connection back.
      return Stream.ensuring(Stream.repeatEffectChunkOption(pull), Effect.sync(() => exchange.abort()))
    })
  }

  toJSON(): unknown {
    return { _id: "@effect/platform/HttpClientResponse", status: this.status }
  }
}

/**
 * Sends `request` (its body already in undici's form) through `dispatcher`; the effect succeeds
 * with the response once its head has arrived. Interrupting it aborts the request, as does the
 * abort of a `HttpClient.withScope` controller or of `signal`. With `timeoutMillis`, a request
 * whose head and body are not both in within that time fails (the head with a `RequestError`, a
 * body read with a `ResponseError`) with an {@link AttemptTimeoutError} cause, and is aborted.
 */
export const send = (
  dispatcher: Dispatcher,
  request: HttpClientRequest.HttpClientRequest,
  origin: string,
  path: string,
  body: Exclude<Dispatcher.DispatchOptions["body"], undefined>,
  signal: AbortSignal | undefined,
  timeoutMillis?: number | undefined
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.RequestError> =>
  Effect.async<HttpClientResponse.HttpClientResponse, HttpClientError.RequestError>((resume) => {
    const exchange: Exchange = new Exchange((head, error) => {
      resume(
        head !== undefined
          ? Effect.succeed(new UndiciResponse(request, exchange, head))
          : Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause: error }))
      )
    })
    const scoped = scopedRequests.get(request)
    if (scoped !== undefined) abortOn(scoped.signal, exchange)
    if (signal !== undefined) abortOn(signal, exchange)
    if (!dispatch(dispatcher, exchange, origin, path, request.method as Dispatcher.HttpMethod, request.headers, body, timeoutMillis)) {
      return
    }
    return exchange.canceler()
  })

/**
 * Starts `exchange` on `dispatcher`, its timer first; `false` when undici refused it outright (the
 * exchange has then settled with that error through its head callback).
 */
const dispatch = (
  dispatcher: Dispatcher,
  exchange: Exchange,
  origin: string,
  path: string,
  method: Dispatcher.HttpMethod,
  headers: Record<string, string>,
  body: Exclude<Dispatcher.DispatchOptions["body"], undefined>,
  timeoutMillis: number | undefined
): boolean => {
  if (timeoutMillis !== undefined) exchange.startTimer(timeoutMillis)
  try {
    dispatcher.dispatch({
      origin,
      path,
      method,
      headers,
      body,
      // Timeouts are the caller's (`timeoutMillis`, or Effect's), so undici's cannot fire first
      // with a different error.
      headersTimeout: 0,
      bodyTimeout: 0
    }, exchange)
  } catch (cause) {
    exchange.onError(cause as Error)
    return false
  }
  return true
}

/**
 * How a {@link fetchWhole} ended: the head with the whole body (`body`), the head then a failure
 * while reading the body, or a failure before any head (`head` undefined).
 */
export type WholeCallback = (exchange: Exchange, head: Head | undefined, body: Buffer | undefined, error: unknown) => void

/**
 * A bodiless request whose response is read whole before anyone hears of it: `done` is called once,
 * from undici's callbacks, with everything. No effect, response object or header map on the way;
 * the caller builds those only for the uncommon outcomes. A body larger than `maxBytes` ends it
 * with a {@link BodyTooLargeError} as soon as its length is announced or its bytes pass the cap.
 * Returns the exchange (to abort it, or to hand its buffered body to an {@link UndiciResponse}).
 */
export const fetchWhole = (
  dispatcher: Dispatcher,
  origin: string,
  path: string,
  headers: Record<string, string>,
  timeoutMillis: number | undefined,
  maxBytes: number,
  done: WholeCallback
): Exchange => {
  const exchange: Exchange = new Exchange((head, error) => {
    if (head === undefined) return done(exchange, undefined, undefined, error)
    exchange.attach(true)
    const check = (): void => {
      if (exchange.done) done(exchange, head, exchange.body(), undefined)
      else if (exchange.error !== undefined) done(exchange, head, undefined, exchange.error)
      else exchange.wait(check)
    }
    check()
  })
  exchange.maxBytes = maxBytes
  dispatch(dispatcher, exchange, origin, path, "GET", headers, null, timeoutMillis)
  return exchange
}

/**
 * The values of one response header (`name` in lower case) from undici's raw list, joined with
 * `", "` when repeated as `Headers` would; only names of the right length are decoded.
 */
export const rawHeader = (rawHeaders: ReadonlyArray<Buffer>, name: string): string | undefined => {
  let value: string | undefined = undefined
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const raw = rawHeaders[i]!
    if (raw.length !== name.length || raw.toString("latin1").toLowerCase() !== name) continue
    const v = fieldValue(rawHeaders[i + 1]!)
    value = value === undefined ? v : value + ", " + v
  }
  return value
}

const abortOn = (signal: AbortSignal, exchange: Exchange): void => {
  if (signal.aborted) exchange.abort()
  else signal.addEventListener("abort", () => exchange.abort(), { once: true })
}

// ---------------------------------------------------------------------------------------------
// URLs

/** Characters a WHATWG URL parser leaves as they are in a path (special schemes), minus `%`. */
const PATH_SAFE = /^[A-Za-z0-9\-._~!$&()*+,;=:@/]*$/
/** The same for a query (the parser also leaves `?` and `/` there). */
const QUERY_SAFE = /^[A-Za-z0-9\-._~!$&()*+,;=:@/?]*$/
const HOST = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/
const PORT = /^[1-9][0-9]{0,4}$/
/** The parser reads a host whose last label looks numeric as IPv4 (and fails or rewrites it). */
const ENDS_IN_A_NUMBER = /(^|\.)([0-9]+|0x[0-9a-f]*)$/

/** Percent escapes well formed, and no escape that spells a dot (a dot segment in disguise). */
const escapesPlain = (s: string): boolean => {
  let at = s.indexOf("%")
  while (at !== -1) {
    const h1 = s.charCodeAt(at + 1)
    const h2 = s.charCodeAt(at + 2)
    if (!isHex(h1) || !isHex(h2)) return false
    if (h1 === 50 /* 2 */ && (h2 === 101 || h2 === 69) /* e E */) return false
    at = s.indexOf("%", at + 3)
  }
  return true
}

const isHex = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)

/** No `.` or `..` segment, which the parser would resolve away. */
const noDotSegments = (path: string): boolean => {
  let start = 0
  while (start <= path.length) {
    let end = path.indexOf("/", start)
    if (end === -1) end = path.length
    const length = end - start
    if (length === 1 && path.charCodeAt(start) === 46) return false
    if (length === 2 && path.charCodeAt(start) === 46 && path.charCodeAt(start + 1) === 46) return false
    start = end + 1
  }
  return true
}

/** The origin of the last authority seen: requests of one client nearly always share it. */
let lastPrefix = ""
let lastOrigin = ""

/**
 * `{ origin, path }` (path with query) exactly as `new URL(url)` would give them, for the plain
 * absolute http(s) URLs clients nearly always send; `undefined` for anything else (the caller
 * then uses the URL parser). Only accepts what the parser would leave byte for byte unchanged:
 * a lower-case host name or IPv4 address, a non-default port, no user info, path and query of
 * plain characters and well-formed escapes, no dot segments, no fragment.
 */
export const splitPlainUrl = (url: string): { readonly origin: string; readonly path: string } | undefined => {
  let authorityEnd: number
  if (lastPrefix !== "" && url.startsWith(lastPrefix)) {
    authorityEnd = lastPrefix.length
    const c = url.charCodeAt(authorityEnd)
    if (!(authorityEnd === url.length || c === 47 /* / */ || c === 63 /* ? */)) return splitSlow(url)
  } else {
    return splitSlow(url)
  }
  return splitRest(url, authorityEnd, lastOrigin)
}

const splitSlow = (url: string): { readonly origin: string; readonly path: string } | undefined => {
  let schemeEnd: number
  let defaultPort: string
  if (url.startsWith("http://")) {
    schemeEnd = 7
    defaultPort = "80"
  } else if (url.startsWith("https://")) {
    schemeEnd = 8
    defaultPort = "443"
  } else return undefined
  let authorityEnd = schemeEnd
  while (authorityEnd < url.length) {
    const c = url.charCodeAt(authorityEnd)
    if (c === 47 || c === 63 || c === 35 /* # */ || c === 92 /* \ */) break
    authorityEnd++
  }
  const authority = url.slice(schemeEnd, authorityEnd)
  const colon = authority.indexOf(":")
  const host = colon === -1 ? authority : authority.slice(0, colon)
  if (!HOST.test(host) || host.length > 253) return undefined
  // A host of digits and dots only is an IPv4 address: the parser rewrites forms like `1.2.3` or
  // `010.0.0.1`; accept only the canonical dotted quad.
  if (/^[0-9.]+$/.test(host)) {
    if (!isCanonicalIpv4(host)) return undefined
  } else if (ENDS_IN_A_NUMBER.test(host)) return undefined
  if (/(^|\.)xn--/.test(host)) return undefined
  if (colon !== -1) {
    const port = authority.slice(colon + 1)
    if (!PORT.test(port) || Number(port) > 65535 || port === defaultPort) return undefined
  }
  const prefix = url.slice(0, authorityEnd)
  const result = splitRest(url, authorityEnd, prefix)
  if (result !== undefined) {
    lastPrefix = prefix
    lastOrigin = prefix
  }
  return result
}

const isCanonicalIpv4 = (host: string): boolean => {
  const parts = host.split(".")
  if (parts.length !== 4) return false
  return parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)
}

const splitRest = (
  url: string,
  authorityEnd: number,
  origin: string
): { readonly origin: string; readonly path: string } | undefined => {
  if (authorityEnd === url.length) return { origin, path: "/" }
  const rest = url.slice(authorityEnd)
  const q = rest.indexOf("?")
  const path = q === -1 ? rest : rest.slice(0, q)
  const query = q === -1 ? "" : rest.slice(q + 1)
  if (!PATH_SAFE.test(path.replaceAll("%", "")) || !QUERY_SAFE.test(query.replaceAll("%", ""))) return undefined
  if (!escapesPlain(path) || !escapesPlain(query) || !noDotSegments(path)) return undefined
  // As `pathname + search`: an empty query leaves no `?`.
  const target = q !== -1 && query === "" ? path : rest
  return { origin, path: path === "" ? "/" + target : target }
}

/** Origin and path-with-query of a request, by hand when plain, else through the URL parser. */
export const targetOf = (
  request: HttpClientRequest.HttpClientRequest
): { readonly origin: string; readonly path: string } | Error => {
  if (request.urlParams.length === 0 && request.hash._tag === "None") {
    const plain = splitPlainUrl(request.url)
    if (plain !== undefined) return plain
  }
  const url = UrlParams.makeUrl(request.url, request.urlParams, request.hash)
  if (url._tag === "Left") return url.left
  return { origin: url.right.origin, path: url.right.pathname + url.right.search }
}
