/**
 * One request in flight as undici's dispatch handler (no `RequestHandler`, `AbortSignal`, body
 * `Readable` or `FinalizationRegistry` entry on the common path), with the body buffered for
 * whichever reader comes.
 *
 * Invariant: an exchange settles once, `done` or with an `error`, never both; settling releases
 * everything that reaches it from outside (its deadline, its registry entry, its canceler), so a
 * settled exchange is held only by its response.
 */
import * as Effect from "effect/Effect"
import type { Dispatcher } from "undici"
import { BodyTooLargeError } from "../body.js"
import { AttemptTimeoutError } from "../transport.js"
import { deadlines } from "./deadlines.js"
import { declaredLength } from "./rawHeaders.js"

/** Bytes of an unread body kept before the socket is paused until someone reads. */
const HIGH_WATER_MARK = 1024 * 1024

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

/** What {@link Exchange.canceler} aborts: the exchange while it is in flight, then nothing. */
class InFlight {
  constructor(public exchange: Exchange | undefined) {}
}

/** The body as one buffer: no copy for a single chunk. */
const concat = (chunks: ReadonlyArray<Buffer>, size: number): Buffer =>
  chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)
