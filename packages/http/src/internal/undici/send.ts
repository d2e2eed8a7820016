/**
 * Sending a request on an undici dispatcher: `send` for `UndiciHttpClient` (a response once the
 * head is in), `fetchWhole` for the fast path (head and whole body in one callback, no effect).
 *
 * Why not the platform's `HttpClient.make` and undici's `request`: they allocate a `URL`, an
 * `AbortController` and a registry entry per request, and a stream per body; measured on a page of
 * 99 rooms, that was more CPU (and far more garbage surviving young collections, since registry
 * targets are kept alive by scavenges) than signing and decoding the page.
 *
 * Invariant: the exchange's timer starts before it is dispatched, and a dispatch undici refuses
 * outright settles the exchange with that error, so every exchange started here settles.
 */
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import { globalValue } from "effect/GlobalValue"
import type { Dispatcher } from "undici"
import { Exchange } from "./exchange.js"
import type { Head } from "./exchange.js"
import { UndiciResponse } from "./response.js"

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
    if (
      !dispatch(
        dispatcher,
        exchange,
        origin,
        path,
        request.method as Dispatcher.HttpMethod,
        request.headers,
        body,
        timeoutMillis
      )
    ) {
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
export type WholeCallback = (
  exchange: Exchange,
  head: Head | undefined,
  body: Buffer | undefined,
  error: unknown
) => void

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

const abortOn = (signal: AbortSignal, exchange: Exchange): void => {
  if (signal.aborted) exchange.abort()
  else signal.addEventListener("abort", () => exchange.abort(), { once: true })
}
