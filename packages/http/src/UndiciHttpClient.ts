/**
 * A lean `HttpClient` over one keep-alive undici `Agent`, built with `HttpClient.make`. It exists
 * because it is measurably cheaper per request than the platform's undici client (see the
 * package README); any other `HttpClient` (`FetchHttpClient.layer`, `NodeHttpClient.layerUndici`)
 * works with `HttpChimeRooms` just as well.
 *
 * @since 0.1.0
 */
import { Cookies, Headers, HttpClient, HttpClientError, HttpClientResponse, HttpIncomingMessage, UrlParams } from "@effect/platform"
import type { HttpBody, HttpClientRequest } from "@effect/platform"
import { Effect, Inspectable, Layer, Option, Stream } from "effect"
import type { Scope } from "effect"
import { Readable } from "node:stream"
import { Agent } from "undici"
import type { Dispatcher } from "undici"

type Body = Exclude<Dispatcher.DispatchOptions["body"], undefined>

const noop = (): void => {}

class UndiciResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  private cachedHeaders: Headers.Headers | undefined
  private cachedText: Effect.Effect<string, HttpClientError.ResponseError> | undefined

  constructor(
    readonly request: HttpClientRequest.HttpClientRequest,
    private readonly source: Dispatcher.ResponseData
  ) {
    super()
    // An unread body that errors later must not crash the process.
    source.body.on("error", noop)
  }

  get status(): number {
    return this.source.statusCode
  }

  get headers(): Headers.Headers {
    return (this.cachedHeaders ??= Headers.fromInput(
      this.source.headers as Record<string, string | ReadonlyArray<string> | undefined>
    ))
  }

  get cookies(): Cookies.Cookies {
    const header = this.source.headers["set-cookie"]
    if (header === undefined) return Cookies.empty
    return Cookies.fromSetCookie(Array.isArray(header) ? header : [header as string])
  }

  get remoteAddress(): Option.Option<string> {
    return Option.none()
  }

  private decodeError(cause: unknown) {
    return new HttpClientError.ResponseError({ request: this.request, response: this, reason: "Decode", cause })
  }

  private cachedPromise<A>(f: () => Promise<A>): Effect.Effect<A, HttpClientError.ResponseError> {
    // Read once, replay after: the body is a one-shot stream.
    let promise: Promise<A> | undefined
    return Effect.async<A, HttpClientError.ResponseError>((resume) => {
      promise ??= f()
      promise.then(
        (value) => resume(Effect.succeed(value)),
        (cause) => resume(Effect.fail(this.decodeError(cause)))
      )
    })
  }

  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    return (this.cachedText ??= this.cachedPromise(() => this.source.body.text()))
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
    return this.cachedPromise(() => this.source.body.arrayBuffer())
  }

  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    return this.cachedPromise(() => this.source.body.formData() as Promise<FormData>)
  }

  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    return Stream.fromAsyncIterable(this.source.body as AsyncIterable<Uint8Array>, (cause) => this.decodeError(cause))
  }

  toJSON(): unknown {
    return { _id: "@effect/platform/HttpClientResponse", status: this.status }
  }
}

const toBody = (
  body: HttpBody.HttpBody
): Effect.Effect<Body> => {
  switch (body._tag) {
    case "Empty":
      return Effect.succeed(null)
    case "Uint8Array":
      return Effect.succeed(body.body)
    case "Raw":
      return Effect.succeed(body.body as Body)
    case "FormData":
      return Effect.succeed(body.formData as unknown as Body)
    case "Stream":
      return Effect.map(Stream.toReadableStreamEffect(body.stream), (web) =>
        Readable.fromWeb(web as import("node:stream/web").ReadableStream<Uint8Array>))
  }
}

/**
 * A client over `dispatcher`. Timeouts are left to Effect (`HttpChimeRooms` applies its own
 * per-attempt timeout); undici's are disabled so they cannot fire first with a different error.
 *
 * @since 0.1.0
 */
export const make = (dispatcher: Dispatcher, options?: ClientOptions): HttpClient.HttpClient => {
  const client = HttpClient.make((request, url, signal) => {
    const send = (body: Body) =>
      Effect.async<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>((resume) => {
        dispatcher.request({
          origin: url.origin,
          path: url.pathname + url.search,
          method: request.method as Dispatcher.HttpMethod,
          headers: request.headers,
          body,
          signal,
          headersTimeout: 0,
          bodyTimeout: 0
        }).then(
          (data) => resume(Effect.succeed(new UndiciResponse(request, data))),
          (cause) => resume(Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause })))
        )
      })
    return request.body._tag === "Empty" ? send(null) : Effect.flatMap(toBody(request.body), send)
  })
  return options?.spans === true ? client : HttpClient.withTracerDisabledWhen(client, always)
}

const always = (): boolean => true

/**
 * Options of the client.
 *
 * @since 0.1.0
 */
export interface ClientOptions {
  /**
   * Create an HTTP client span per request (default `false`): a span with a dozen attributes per
   * page costs more than signing it. Spans of the caller's own effects are unaffected.
   */
  readonly spans?: boolean | undefined
}

/**
 * Options of the keep-alive agent.
 *
 * @since 0.1.0
 */
export type AgentOptions = Agent.Options

/**
 * A scoped keep-alive `Agent`, destroyed with its scope.
 *
 * @since 0.1.0
 */
export const makeAgent = (options?: AgentOptions): Effect.Effect<Agent, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => new Agent({ keepAliveTimeout: 10_000, ...options })),
    (agent) => Effect.promise(() => agent.destroy())
  )

/**
 * The client on its own agent, with options.
 *
 * @since 0.1.0
 */
export const layerWith = (options?: AgentOptions & ClientOptions): Layer.Layer<HttpClient.HttpClient> =>
  Layer.scoped(HttpClient.HttpClient, Effect.map(makeAgent(options), (agent) => make(agent, options)))

/**
 * The client on its own keep-alive agent, closed when the layer is released.
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<HttpClient.HttpClient> = layerWith()
