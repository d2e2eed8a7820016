/**
 * A lean `HttpClient` over one keep-alive undici `Agent`. It exists because it is measurably
 * cheaper per request than the platform's undici client (see the package README); any other
 * `HttpClient` (`FetchHttpClient.layer`, `NodeHttpClient.layerUndici`) works with
 * `HttpChimeRooms` just as well.
 *
 * It is a complete `HttpClient` (built with `HttpClient.makeWith`, so `HttpClient.retry`,
 * `mapRequest`, `withScope`… compose with it): interrupting a request or a body read aborts the
 * request; a body is buffered as it arrives (up to 1 MiB unread, then the socket waits for a
 * reader) and read once, as text, JSON, bytes, form data or a stream with backpressure.
 *
 * @since 0.1.0
 */
import type * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { Readable } from "node:stream"
import type { ReadableStream as WebReadableStream } from "node:stream/web"
import { Agent } from "undici"
import type { Dispatcher } from "undici"
import { makeFastPath } from "./internal/fastPath.js"
import { FastPathTypeId } from "./internal/fastPathHook.js"
import { targetOf } from "./internal/undici/plainUrl.js"
import { send } from "./internal/undici/send.js"

type Body = Exclude<Dispatcher.DispatchOptions["body"], undefined>

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
      return Effect.map(
        Stream.toReadableStreamEffect(body.stream),
        (web) => Readable.fromWeb(web as WebReadableStream<Uint8Array>)
      )
  }
}

/**
 * A client over `dispatcher`. Timeouts are left to Effect (`HttpChimeRooms` applies its own
 * per-attempt timeout); undici's are disabled so they cannot fire first with a different error.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (dispatcher: Dispatcher, options?: ClientOptions): HttpClient.HttpClient => {
  if (options?.spans === true) {
    // The platform's `make` opens the span (and propagates its trace headers).
    return HttpClient.make((request, url, signal) =>
      withBody(request, (body) => send(dispatcher, request, url.origin, url.pathname + url.search, body, signal))
    )
  }
  const execute = (
    request: HttpClientRequest.HttpClientRequest
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> => {
    const target = targetOf(request)
    if (target instanceof Error) {
      return Effect.fail(new HttpClientError.RequestError({ request, reason: "InvalidUrl", cause: target }))
    }
    return withBody(request, (body) => send(dispatcher, request, target.origin, target.path, body, undefined))
  }
  const client = HttpClient.makeWith(
    (effect) => Effect.flatMap(effect, execute),
    Effect.succeed as HttpClient.HttpClient.Preprocess<never, never>
  ) // What `makeWith` would do, without wrapping the request in an effect first.
  ;(client as { execute: typeof execute }).execute = execute // `HttpChimeRooms`' fast path, carried by this very client (clients derived from it do not carry
   // it) so that a program without this client bundles none of it.
  ;(client as unknown as { [FastPathTypeId]: unknown })[FastPathTypeId] = makeFastPath(dispatcher)
  return client
}

const withBody = <A, E>(
  request: HttpClientRequest.HttpClientRequest,
  f: (body: Body) => Effect.Effect<A, E>
): Effect.Effect<A, E> => (request.body._tag === "Empty" ? f(null) : Effect.flatMap(toBody(request.body), f))

/**
 * Options of the client.
 *
 * @category models
 * @since 0.1.0
 */
export interface ClientOptions {
  /**
   * Create an HTTP client span per request, through `HttpClient.make` (default `false`): a span
   * with a dozen attributes per page costs more than signing it. Spans of the caller's own effects
   * are unaffected.
   */
  readonly spans?: boolean | undefined
}

/**
 * Options of the keep-alive agent.
 *
 * @category models
 * @since 0.1.0
 */
export type AgentOptions = Agent.Options

/**
 * A scoped keep-alive `Agent`, destroyed with its scope.
 *
 * @category constructors
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
 * @category layers
 * @since 0.1.0
 */
export const layerWith = (options?: AgentOptions & ClientOptions): Layer.Layer<HttpClient.HttpClient> =>
  Layer.scoped(HttpClient.HttpClient, Effect.map(makeAgent(options), (agent) => make(agent, options)))

/**
 * The client on its own keep-alive agent, closed when the layer is released.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer: Layer.Layer<HttpClient.HttpClient> = layerWith()
