/**
 * What the tests against broken or hostile servers share: a plain HTTP server on 127.0.0.1 that
 * answers as a script says and counts its connections, and every `HttpClient` a user can provide.
 */
import { Credentials, HttpChimeRooms, UndiciHttpClient } from "@chime-rooms/http"
import { ChimeRateLimiter, Resilience, RetryPolicy } from "@chime-rooms/stream"
import { FetchHttpClient, HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer, Redacted } from "effect"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo, Socket } from "node:net"

/** Every `HttpClient` a user can provide, by name. */
export const clients: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>]> = [
  // Ours as given: HttpChimeRooms takes its fast path (calls started without a fiber).
  ["UndiciHttpClient", UndiciHttpClient.layer],
  ["UndiciHttpClient with spans", UndiciHttpClient.layerWith({ spans: true })],
  // Ours behind any middleware is just an HttpClient: the general path.
  [
    "UndiciHttpClient behind mapRequest",
    Layer.effect(HttpClient.HttpClient, Effect.map(HttpClient.HttpClient, HttpClient.mapRequest((request) => request)))
      .pipe(
        Layer.provide(UndiciHttpClient.layer)
      )
  ],
  ["NodeHttpClient.layerUndici", NodeHttpClient.layerUndici],
  ["NodeHttpClient.layer", NodeHttpClient.layer],
  ["FetchHttpClient", FetchHttpClient.layer]
]

/** Test credentials: a key and a session token that must never be seen anywhere. */
export const secrets = {
  accessKeyId: "ASIAHOSTILETEST00001",
  secretAccessKey: "hostile-secret-key-that-must-never-leak/0123456789",
  sessionToken: "hostile-session-token-that-must-never-leak-FwoGZXIvYXdzE"
} as const

/** `secrets` as the emulator's and the client's credentials. */
export const secretCredentials = {
  accessKeyId: secrets.accessKeyId,
  secretAccessKey: Redacted.make(secrets.secretAccessKey),
  sessionToken: Redacted.make(secrets.sessionToken)
}

export const staticCredentials = Credentials.layerStatic(secretCredentials)

/** Retries quickly and often enough that no scripted fault exhausts them. */
export const quickRetries = RetryPolicy.make({
  maxAttempts: 8,
  baseDelay: "1 millis",
  throttlingBaseDelay: "2 millis",
  maxDelay: "20 millis"
})

/** The resilience services with no rate limit. */
export const unlimited = Resilience.layer({ rateLimiter: ChimeRateLimiter.layerUnlimited })

/** The HTTP `ChimeRooms` at `endpoint` over `client`, with the static test credentials. */
export const chimeOver = (
  endpoint: string,
  client: Layer.Layer<HttpClient.HttpClient>,
  options: HttpChimeRooms.HttpChimeRoomsOptions = {}
) => HttpChimeRooms.layer({ endpoint, ...options }).pipe(Layer.provide(client), Layer.provide(staticCredentials))

export interface ScriptedServer {
  readonly endpoint: string
  /** Requests received so far. */
  readonly requests: () => number
  /** Connections accepted so far, and those still open. */
  readonly connections: () => { readonly accepted: number; readonly open: number }
  /** Bytes of response bodies written so far. */
  readonly bodyBytes: () => number
}

/** What the script is given for each request (numbered from 1). */
export interface Exchange {
  readonly call: number
  readonly request: IncomingMessage
  readonly response: ServerResponse
  /** Writes `bytes` as a body in chunks of 64 KiB, honouring backpressure; resolves when done or the socket closed. */
  readonly stream: (bytes: number) => Promise<void>
}

/** A server on 127.0.0.1 answering each request as `script` says, closed with the scope. */
export const scriptedServer = (script: (exchange: Exchange) => void | Promise<void>) =>
  Effect.acquireRelease(
    Effect.async<ScriptedServer & { readonly close: () => Promise<void> }>((resume) => {
      let calls = 0
      let accepted = 0
      let bodyBytes = 0
      const sockets = new Set<Socket>()
      const chunk = Buffer.alloc(64 * 1024, "a")
      const server = createServer((request, response) => {
        const call = ++calls
        const stream = (bytes: number) =>
          new Promise<void>((done) => {
            let left = bytes
            const closed = () => done()
            response.once("close", closed)
            const pump = (): void => {
              while (left > 0 && !response.destroyed) {
                const n = Math.min(left, chunk.length)
                left -= n
                bodyBytes += n
                if (!response.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
                  response.once("drain", pump)
                  return
                }
              }
              response.off("close", closed)
              if (!response.destroyed) response.end()
              done()
            }
            pump()
          })
        void Promise.resolve(script({ call, request, response, stream })).catch(() => response.destroy())
      })
      server.on("connection", (socket) => {
        accepted++
        sockets.add(socket)
        socket.once("close", () => sockets.delete(socket))
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        resume(Effect.succeed({
          endpoint: `http://127.0.0.1:${port}`,
          requests: () => calls,
          connections: () => ({ accepted, open: sockets.size }),
          bodyBytes: () => bodyBytes,
          close: () =>
            new Promise<void>((done) => {
              server.closeAllConnections()
              server.close(() => done())
            })
        }))
      })
    }),
    (server) => Effect.promise(() => server.close())
  )

/** A 200 page as the service writes it. */
export const page = (response: ServerResponse, body: unknown, headers: Record<string, string> = {}): void => {
  const text = JSON.stringify(body)
  response.writeHead(200, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(text)),
    "x-amzn-requestid": "req-hostile",
    ...headers
  })
  response.end(text)
}
