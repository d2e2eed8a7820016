/**
 * The platform's `HttpClientResponse` over an {@link Exchange}: headers decoded from the raw list
 * only when asked for.
 *
 * Invariant: the body is read from the exchange once; the first whole read keeps it, and every
 * later reader (text, json, stream…) gets that same buffer.
 */
import * as Cookies from "@effect/platform/Cookies"
import type * as Headers from "@effect/platform/Headers"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Inspectable from "effect/Inspectable"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { decodeUtf8 } from "../body.js"
import type { Exchange, Head } from "./exchange.js"
import { headersOf } from "./rawHeaders.js"

const noop = (): void => {}

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
      const pull: Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<HttpClientError.ResponseError>> = Effect.suspend(
        () => {
          const ready = ():
            | Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<HttpClientError.ResponseError>>
            | undefined =>
          {
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
        }
      )
      // A reader that stops early (or is interrupted) gives the connection back.
      return Stream.ensuring(Stream.repeatEffectChunkOption(pull), Effect.sync(() => exchange.abort()))
    })
  }

  toJSON(): unknown {
    return { _id: "@effect/platform/HttpClientResponse", status: this.status }
  }
}
