import { UndiciHttpClient } from "@chime-rooms/http"
import { HttpBody, HttpClient, HttpClientRequest } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Fiber, Option, Schedule, Scope, Stream } from "effect"
import { createServer } from "node:http"
import type { IncomingMessage, ServerResponse } from "node:http"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { Exchange } from "../src/internal/undici/exchange.js"
import { splitPlainUrl } from "../src/internal/undici/plainUrl.js"

interface Seen {
  readonly method: string
  readonly url: string
  readonly headers: IncomingMessage["headers"]
  readonly body: string
}

/** A loopback server answering with `handler`; records what it received and the sockets it saw. */
const serve = (handler: (req: IncomingMessage, res: ServerResponse, body: string) => void) =>
  Effect.acquireRelease(
    Effect.async<
      {
        url: string
        seen: Array<Seen>
        closed: () => number
        sockets: () => number
        server: ReturnType<typeof createServer>
      }
    >((resume) => {
      const seen: Array<Seen> = []
      let closed = 0
      let sockets = 0
      const server = createServer((req, res) => {
        const parts: Array<Buffer> = []
        req.on("data", (d: Buffer) => parts.push(d))
        req.on("end", () => {
          const body = Buffer.concat(parts).toString("utf8")
          seen.push({ method: req.method!, url: req.url!, headers: req.headers, body })
          res.on("close", () => {
            if (!res.writableFinished) closed++
          })
          handler(req, res, body)
        })
      })
      server.on("connection", () => sockets++)
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        resume(
          Effect.succeed({
            url: `http://127.0.0.1:${port}`,
            seen,
            closed: () => closed,
            sockets: () => sockets,
            server
          })
        )
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

const client = Effect.flatMap(UndiciHttpClient.makeAgent(), (agent) => Effect.succeed(UndiciHttpClient.make(agent)))

/** Waits on real I/O until `f` holds (at most ~2 s). */
const eventually = (f: () => boolean) =>
  Effect.gen(function*() {
    for (let i = 0; i < 400 && !f(); i++) yield* Effect.sleep("5 millis")
    expect(f()).toBe(true)
  })

describe("UndiciHttpClient", () => {
  it.scopedLive("sends method, path, query and headers as given, and reads status, headers and text", () =>
    Effect.gen(function*() {
      const server = yield* serve((_req, res) => {
        res.setHeader("x-one", "1")
        res.setHeader("set-cookie", ["a=1", "b=2"])
        res.setHeader("x-dup", ["p", "q"])
        res.writeHead(201, { "content-type": "text/plain; charset=utf-8" })
        res.end("\uFEFFhéllo")
      })
      const http = yield* client
      const response = yield* http.execute(
        HttpClientRequest.get(`${server.url}/a/b%2Fc?x=1&y=%20z`).pipe(HttpClientRequest.setHeader("X-Custom", "v"))
      )
      expect(response.status).toBe(201)
      expect(response.headers["x-one"]).toBe("1")
      expect(response.headers["x-dup"]).toBe("p, q")
      expect(response.headers["content-type"]).toBe("text/plain; charset=utf-8")
      expect(response.cookies.cookies["a"]?.value).toBe("1")
      expect(response.cookies.cookies["b"]?.value).toBe("2")
      // undici's text(): UTF-8 with the byte order mark dropped; a second read replays it.
      expect(yield* response.text).toBe("héllo")
      expect(yield* response.text).toBe("héllo")
      expect(server.seen[0]!.url).toBe("/a/b%2Fc?x=1&y=%20z")
      expect(server.seen[0]!.method).toBe("GET")
      expect(server.seen[0]!.headers["x-custom"]).toBe("v")
      expect(server.seen[0]!.headers["host"]).toBe(server.url.slice("http://".length))
    }))

  it.scopedLive("applies urlParams and normalises through the URL parser when the URL is not plain", () =>
    Effect.gen(function*() {
      const server = yield* serve((_req, res) => res.end("ok"))
      const http = yield* client
      yield* http.execute(HttpClientRequest.get(`${server.url}/p`, { urlParams: { a: "1 2", b: "é" } }))
      yield* http.execute(HttpClientRequest.get(`${server.url}/x/../y/./z q`))
      expect(server.seen.map((s) => s.url)).toEqual(["/p?a=1+2&b=%C3%A9", "/y/z%20q"])
    }))

  it.scopedLive("sends bodies (bytes, text, stream) and reads json, arrayBuffer and urlParams", () =>
    Effect.gen(function*() {
      const server = yield* serve((_req, res, body) => {
        res.setHeader("content-type", "application/json")
        res.end(JSON.stringify({ echo: body }))
      })
      const http = yield* client
      const json = yield* Effect.flatMap(
        http.execute(HttpClientRequest.post(`${server.url}/j`).pipe(HttpClientRequest.bodyText("text body"))),
        (r) => r.json
      )
      expect(json).toEqual({ echo: "text body" })
      const bytes = yield* Effect.flatMap(
        http.execute(
          HttpClientRequest.put(`${server.url}/b`).pipe(
            HttpClientRequest.bodyUint8Array(new TextEncoder().encode("bytes"))
          )
        ),
        (r) => r.arrayBuffer
      )
      expect(new TextDecoder().decode(bytes)).toBe(JSON.stringify({ echo: "bytes" }))
      const streamed = yield* Effect.flatMap(
        http.execute(
          HttpClientRequest.post(`${server.url}/s`).pipe(
            HttpClientRequest.setBody(
              HttpBody.stream(Stream.make(new TextEncoder().encode("st"), new TextEncoder().encode("ream")))
            )
          )
        ),
        (r) => r.json
      )
      expect(streamed).toEqual({ echo: "stream" })
    }))

  it.scopedLive("streams a large body with backpressure, in order, on one connection reused afterwards", () =>
    Effect.gen(function*() {
      const block = Buffer.alloc(64 * 1024, 97)
      const blocks = 48 // 3 MiB: more than the unread high-water mark
      const server = yield* serve((_req, res) => {
        res.writeHead(200, { "content-length": String(block.length * blocks) })
        let sent = 0
        const write = () => {
          while (sent < blocks) {
            sent++
            if (!res.write(block)) return res.once("drain", write)
          }
          res.end()
        }
        write()
      })
      const http = yield* client
      // undici's Agent opens a second connection for the request after its first; from then on
      // requests in sequence share one.
      yield* Effect.flatMap(http.execute(HttpClientRequest.get(`${server.url}/big`)), (r) => r.arrayBuffer)
      yield* Effect.flatMap(http.execute(HttpClientRequest.get(`${server.url}/big`)), (r) => r.arrayBuffer)
      const sockets = server.sockets()
      const response = yield* http.execute(HttpClientRequest.get(`${server.url}/big`))
      // Let the body pile up unread past the high-water mark: the socket waits for the reader.
      yield* Effect.sleep("50 millis")
      const total = yield* response.stream.pipe(Stream.runFold(0, (n, chunk) => n + chunk.length))
      expect(total).toBe(block.length * blocks)
      const again = yield* Effect.flatMap(
        http.execute(HttpClientRequest.get(`${server.url}/big`)),
        (r) => r.arrayBuffer
      )
      expect(again.byteLength).toBe(block.length * blocks)
      expect(server.sockets()).toBe(sockets)
    }))

  it.scopedLive("interrupting a request waiting for its head aborts it", () =>
    Effect.gen(function*() {
      const server = yield* serve(() => {}) // never answers
      const http = yield* client
      const fiber = yield* Effect.fork(http.execute(HttpClientRequest.get(`${server.url}/hang`)))
      yield* eventually(() => server.seen.length === 1)
      yield* Fiber.interrupt(fiber)
      yield* eventually(() => server.closed() === 1)
    }))

  it.scopedLive("interrupting a body read aborts the request; a stream stopped early gives the connection back", () =>
    Effect.gen(function*() {
      const server = yield* serve((_req, res) => {
        res.writeHead(200)
        res.write("partial") // and never ends
      })
      const http = yield* client
      const response = yield* http.execute(HttpClientRequest.get(`${server.url}/slow`))
      const reading = yield* Effect.fork(response.text)
      yield* Effect.sleep("20 millis")
      yield* Fiber.interrupt(reading)
      yield* eventually(() => server.closed() === 1)

      const second = yield* http.execute(HttpClientRequest.get(`${server.url}/slow`))
      const first = yield* second.stream.pipe(Stream.take(1), Stream.runCollect)
      expect(new TextDecoder().decode(Chunk.unsafeHead(first))).toBe("partial")
      yield* eventually(() => server.closed() === 2)
    }))

  it.scopedLive("HttpClient.withScope: closing the scope aborts a response still being read", () =>
    Effect.gen(function*() {
      const server = yield* serve((_req, res) => {
        res.writeHead(200)
        res.write("x")
      })
      const http = HttpClient.withScope(yield* client)
      const scope = yield* Scope.make()
      const response = yield* http.execute(HttpClientRequest.get(`${server.url}/scoped`)).pipe(Scope.extend(scope))
      expect(response.status).toBe(200)
      yield* Scope.close(scope, Exit.void)
      yield* eventually(() => server.closed() === 1)
    }))

  it.scopedLive("a body cut short fails the read with a ResponseError; a refused connection with a RequestError", () =>
    Effect.gen(function*() {
      const server = yield* serve((_req, res) => {
        res.writeHead(200, { "content-length": "100" })
        res.write("only this")
        setTimeout(() => res.socket?.destroy(), 10)
      })
      const http = yield* client
      const response = yield* http.execute(HttpClientRequest.get(`${server.url}/cut`))
      const error = yield* Effect.flip(response.text)
      expect(error._tag).toBe("ResponseError")
      const refused = yield* Effect.flip(http.execute(HttpClientRequest.get("http://127.0.0.1:1/x")))
      expect(refused._tag).toBe("RequestError")
      expect(refused.reason).toBe("Transport")
    }))

  it.scopedLive("composes with mapRequest, filterStatusOk and retry", () =>
    Effect.gen(function*() {
      let calls = 0
      const server = yield* serve((_req, res) => {
        calls++
        res.writeHead(calls < 3 ? 503 : 200)
        res.end(String(calls))
      })
      const http = (yield* client).pipe(
        HttpClient.mapRequest(HttpClientRequest.prependUrl(server.url)),
        HttpClient.filterStatusOk,
        HttpClient.retry({ schedule: Schedule.spaced("1 millis"), times: 5 })
      )
      const text = yield* Effect.flatMap(http.get("/r"), (r) => r.text)
      expect(text).toBe("3")
      expect(server.seen.map((s) => s.url)).toEqual(["/r", "/r", "/r"])
    }))

  it.scopedLive("with spans: true it still round-trips (through HttpClient.make)", () =>
    Effect.gen(function*() {
      const server = yield* serve((_req, res) => res.end("spanned"))
      const agent = yield* UndiciHttpClient.makeAgent()
      const http = UndiciHttpClient.make(agent, { spans: true })
      const response = yield* http.execute(HttpClientRequest.get(`${server.url}/s?q=1`))
      expect(yield* response.text).toBe("spanned")
      expect(server.seen[0]!.url).toBe("/s?q=1")
      expect(Option.isNone(response.remoteAddress)).toBe(true)
    }))
})

describe("Exchange.canceler", () => {
  it("aborts the exchange while it is in flight", () => {
    const heads: Array<unknown> = []
    const exchange = new Exchange((head, error) => heads.push(head ?? error))
    Effect.runSync(exchange.canceler())
    expect(heads).toHaveLength(1)
    expect((heads[0] as Error).name).toBe("AbortError")
  })

  it("lets go of the exchange (and its body) once it has settled", async () => {
    setFlagsFromString("--expose-gc")
    const gc = runInNewContext("gc") as () => void
    const settled = (): { readonly ref: WeakRef<Exchange>; readonly cancel: Effect.Effect<void> } => {
      const exchange = new Exchange(() => {})
      const cancel = exchange.canceler()
      exchange.onHeaders(200, [], () => {}, "OK")
      exchange.onData(Buffer.alloc(64 * 1024))
      exchange.onComplete()
      return { ref: new WeakRef(exchange), cancel }
    }
    const { cancel, ref } = settled()
    // A WeakRef's target is kept until the current job ends.
    await new Promise((resolve) => setTimeout(resolve, 0))
    gc()
    expect(ref.deref()).toBeUndefined()
    Effect.runSync(cancel) // still safe to run: a no-op
  })
})

describe("splitPlainUrl", () => {
  const hosts = [
    "127.0.0.1:8080",
    "localhost",
    "example.com",
    "chime.us-east-1.amazonaws.com",
    "a-b.c",
    "EXAMPLE.com",
    "1.2.3",
    "010.0.0.1",
    "a.1",
    "x.0x10",
    "xn--nxasmq6b.com",
    "host:80",
    "host:0443",
    "host:99999",
    "user@host",
    "h:",
    "h.",
    "",
    "[::1]:9000",
    "ex%41mple.com",
    "a..b"
  ]
  const paths = [
    "",
    "/",
    "/a/b",
    "/accounts/a%2Fb/rooms",
    "/a/./b",
    "/a/../b",
    "/a/%2e%2E/b",
    "/a/.x/..y",
    "/ü",
    "/a b",
    "/a%zz",
    "/a%",
    "/a|b",
    "/a^b",
    "/a`b",
    "/a{b}",
    "/a\\b",
    "/a'b",
    "/a\"b",
    "/a<b>",
    "/a\tb",
    "//x",
    "/.",
    "/..",
    "/x/..",
    "/x/.",
    "/%2e",
    "/%2E%2E/"
  ]
  const queries = [
    "",
    "?",
    "?a=1&b=2",
    "?next-token=AbC%2B%2F%3D",
    "?a=b c",
    "?a='x'",
    "?a=é",
    "?a=1#frag",
    "?x=/?/",
    "?%zz",
    "?a=%2e%2e"
  ]

  it("agrees with the URL parser on every URL it accepts", () => {
    let accepted = 0
    for (const scheme of ["http://", "https://", "HTTP://", "ftp://"]) {
      for (const host of hosts) {
        for (const path of paths) {
          for (const query of queries) {
            const url = scheme + host + path + query
            const split = splitPlainUrl(url)
            if (split === undefined) continue
            accepted++
            const parsed = new URL(url)
            expect({ url, origin: split.origin, path: split.path }).toEqual({
              url,
              origin: parsed.origin,
              path: parsed.pathname + parsed.search
            })
          }
        }
      }
    }
    expect(accepted).toBeGreaterThan(300)
  })

  it("accepts the URLs HttpChimeRooms sends", () => {
    expect(
      splitPlainUrl("https://chime.us-east-1.amazonaws.com/accounts/acc%20x/rooms?max-results=99&next-token=a%2Bb")
    )
      .toEqual({
        origin: "https://chime.us-east-1.amazonaws.com",
        path: "/accounts/acc%20x/rooms?max-results=99&next-token=a%2Bb"
      })
    expect(splitPlainUrl("http://127.0.0.1:4567/accounts/a/rooms")).toEqual({
      origin: "http://127.0.0.1:4567",
      path: "/accounts/a/rooms"
    })
  })
})
