/**
 * Broken and hostile servers, over every `HttpClient` a user can provide: the listing gets every
 * room once or a typed error carrying the token to resume from, and the client's resources stay
 * bounded whatever the server sends. Real sockets on 127.0.0.1, live clock, each test bounded.
 */
import { type ChimeError, ChimeRooms, ListRoomsRequest, type Room } from "@chime-rooms/core"
import { Credentials, HttpChimeRooms } from "@chime-rooms/http"
import { ChimeRoomsStream } from "@chime-rooms/stream"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Stream } from "effect"
import { chimeOver, clients, page, quickRetries, scriptedServer, staticCredentials, unlimited } from "./hostile.js"

const request = { AccountId: "acc-1" } as const

/** Lists every room; the rooms that arrived and how the listing ended. */
const listAll = (prefetch: number) =>
  Effect.gen(function*() {
    const got: Array<Room.Room> = []
    const exit = yield* ChimeRoomsStream.rooms(request, { prefetch, retry: quickRetries }).pipe(
      Stream.runForEach((room) => Effect.sync(() => got.push(room))),
      Effect.timeout("10 seconds"),
      Effect.exit
    )
    return { got, exit }
  })

const failure = (exit: Exit.Exit<unknown, unknown>): ChimeError.ChimeError | undefined =>
  Exit.isFailure(exit)
    ? (Cause.failureOption(exit.cause).pipe((o) => (o._tag === "Some" ? o.value as ChimeError.ChimeError : undefined)))
    : undefined

describe("a response body larger than the cap is refused as it streams in", () => {
  const MB = 1024 * 1024
  for (const [name, client] of clients) {
    for (const announced of [true, false]) {
      it.live(
        `${name}, ${
          announced ? "with" : "without"
        } content-length: 300 MB refused (TooLarge), the connection dropped, RSS bounded`,
        () =>
          Effect.scoped(Effect.gen(function*() {
            const server = yield* scriptedServer(({ response, stream }) => {
              response.writeHead(200, {
                "content-type": "application/json",
                ...(announced ? { "content-length": String(300 * MB) } : {})
              })
              return stream(300 * MB)
            })
            const before = process.memoryUsage().rss
            let peak = before
            const sampler = setInterval(() => {
              peak = Math.max(peak, process.memoryUsage().rss)
            }, 2)
            const exit = yield* ChimeRooms.listRooms(request).pipe(
              Effect.provide(chimeOver(server.endpoint, client)),
              Effect.timeout("20 seconds"),
              Effect.exit,
              Effect.ensuring(Effect.sync(() => clearInterval(sampler)))
            )
            peak = Math.max(peak, process.memoryUsage().rss)
            const error = failure(exit)
            assert.strictEqual(error?._tag, "ResponseDecodeError", `${exit}`)
            assert.strictEqual(error?._tag === "ResponseDecodeError" ? error.reason : undefined, "TooLarge")
            assert.strictEqual(error?._tag === "ResponseDecodeError" ? error.status : undefined, 200)
            // The client stopped reading: the server wrote a small part of the body and saw the connection go.
            yield* Effect.sleep("50 millis")
            assert.isBelow(server.bodyBytes(), 100 * MB, "the body was not read to its end")
            assert.strictEqual(server.connections().open, 0, "the connection was dropped")
            assert.isBelow(peak - before, 50 * MB, "peak RSS grew by under 50 MB")
          })),
        30_000
      )
    }
  }

  it.live(
    "the cap is HttpChimeRooms' maxResponseBytes: a page over it is refused, a page under it read",
    () =>
      Effect.scoped(Effect.gen(function*() {
        const rooms = Array.from({ length: 20 }, (_, i) => ({ RoomId: `room-${i}` }))
        const server = yield* scriptedServer(({ response }) => page(response, { Rooms: rooms }))
        const size = JSON.stringify({ Rooms: rooms }).length
        for (const [name, client] of clients) {
          const small = yield* ChimeRooms.listRooms(request).pipe(
            Effect.provide(chimeOver(server.endpoint, client, { maxResponseBytes: size - 1 })),
            Effect.exit
          )
          const error = failure(small)
          assert.strictEqual(error?._tag === "ResponseDecodeError" ? error.reason : undefined, "TooLarge", name)
          const fits = yield* ChimeRooms.listRooms(request).pipe(
            Effect.provide(chimeOver(server.endpoint, client, { maxResponseBytes: size })),
            Effect.exit
          )
          assert.isTrue(Exit.isSuccess(fits), `${name}: ${fits}`)
        }
      })),
    30_000
  )
})

describe("a token that cannot be sent ends the listing cleanly, at every prefetch", () => {
  const tokens: ReadonlyArray<readonly [string, string]> = [
    ["a lone surrogate", "tok-\ud800-bad"],
    ["a token longer than the cap", "t".repeat(ListRoomsRequest.maxNextTokenLength + 1)]
  ]
  for (const [what, bad] of tokens) {
    for (const [name, client] of clients) {
      it.live(
        `${what}, ${name}: the rooms before it, then InvalidRequestError with resumeToken, for prefetch 0–5`,
        () =>
          Effect.scoped(Effect.gen(function*() {
            const server = yield* scriptedServer(({ request: incoming, response }) => {
              const token = new URL(incoming.url!, "http://x").searchParams.get("next-token")
              if (token === null) return page(response, { NextToken: "tok-1", Rooms: [{ RoomId: "room-1" }] })
              if (token === "tok-1") return page(response, { NextToken: bad, Rooms: [{ RoomId: "room-2" }] })
              response.writeHead(400).end()
              return
            })
            for (let prefetch = 0; prefetch <= 5; prefetch++) {
              const before = server.requests()
              const { exit, got } = yield* listAll(prefetch).pipe(
                Effect.provide(Layer.mergeAll(chimeOver(server.endpoint, client), unlimited))
              )
              assert.deepStrictEqual(got.map((r) => r.RoomId), ["room-1", "room-2"], `prefetch ${prefetch}`)
              const error = failure(exit)
              assert.strictEqual(error?._tag, "InvalidRequestError", `prefetch ${prefetch}: ${exit}`)
              assert.strictEqual(error?._tag === "InvalidRequestError" ? error.field : undefined, "NextToken")
              assert.strictEqual(error?.resumeToken, bad, `prefetch ${prefetch}: the token to resume from`)
              assert.strictEqual(server.requests() - before, 2, `prefetch ${prefetch}: nothing was sent with it`)
            }
          })),
        30_000
      )
    }
  }
})

describe("clocks: one response with an absurd Date breaks no later request", () => {
  const dates = ["Sat, 13 Sep 275760 00:00:00 GMT", "Thu, 01 Jan 1970 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT"]
  for (const date of dates) {
    for (const [name, client] of clients) {
      it.live(
        `Date: ${date}, ${name}: the refusal is an error, and the next listing goes through`,
        () =>
          Effect.scoped(Effect.gen(function*() {
            let refused = 0
            const signedAt: Array<number> = []
            const server = yield* scriptedServer(({ request: incoming, response }) => {
              const amzDate = String(incoming.headers["x-amz-date"])
              signedAt.push(
                Date.parse(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z"))
              )
              if (refused < 1) {
                refused++
                const body = JSON.stringify({ message: "Signature expired: 20260101T000000Z is now earlier than ..." })
                response.writeHead(403, {
                  "x-amzn-errortype": "InvalidSignatureException",
                  "x-amzn-requestid": "req-skew",
                  date,
                  "content-length": String(body.length)
                })
                response.end(body)
                return
              }
              page(response, { Rooms: [{ RoomId: "room-1" }] })
            })
            // One layer: the refusal teaches it nothing, and every later request is signed as before.
            const { again, first, later } = yield* Effect.gen(function*() {
              const first = yield* listAll(0)
              const again = yield* listAll(0)
              const later = yield* listAll(3)
              return { first, again, later }
            }).pipe(Effect.provide(Layer.mergeAll(chimeOver(server.endpoint, client), unlimited)))
            assert.strictEqual(failure(first.exit)?._tag, "ForbiddenException", `${first.exit}`)
            assert.isTrue(Exit.isSuccess(again.exit), `${again.exit}`)
            assert.isTrue(Exit.isSuccess(later.exit), `${later.exit}`)
            assert.deepStrictEqual(later.got.map((r) => r.RoomId), ["room-1"])
            // Every request was signed for now, not for the date the server claimed.
            for (const at of signedAt) assert.isBelow(Math.abs(at - Date.now()), 60_000, "x-amz-date is ours")
          })),
        30_000
      )
    }
  }
})

describe("a throw inside a transport callback settles the page, over every client", () => {
  /** Ten pages of one room each. */
  const tenPages = scriptedServer(({ request: incoming, response }) => {
    const token = new URL(incoming.url!, "http://x").searchParams.get("next-token")
    const n = token === null ? 1 : Number(token.slice(4))
    page(response, { ...(n < 10 ? { NextToken: `tok-${n + 1}` } : {}), Rooms: [{ RoomId: `room-${n}` }] })
  })
  const boom = new Error("credentials blew up")
  /** Credentials whose synchronous read (the fast path signs with it, in the transport's callbacks) throws on its `at`-th call. */
  const throwingCredentials = (at: number) =>
    Layer.effect(
      Credentials.Credentials,
      Effect.map(Credentials.Credentials, (real): Credentials.CredentialsService => {
        let calls = 0
        const throwing = (): void => {
          if (++calls === at) throw boom
        }
        return {
          get: Effect.zipRight(Effect.sync(throwing), real.get),
          unsafeCurrent: (now) => {
            throwing()
            return real.unsafeCurrent?.(now)
          }
        }
      })
    ).pipe(Layer.provide(staticCredentials))

  for (const [name, client] of clients) {
    for (const prefetch of [0, 3]) {
      it.live(
        `${name}, prefetch ${prefetch}: the credentials throw while signing page 4; pages 1–3 arrive, then the defect`,
        () =>
          Effect.scoped(Effect.gen(function*() {
            const server = yield* tenPages
            const chime = HttpChimeRooms.layer({ endpoint: server.endpoint }).pipe(
              Layer.provide(client),
              Layer.provide(throwingCredentials(4))
            )
            const { exit, got } = yield* listAll(prefetch).pipe(Effect.provide(Layer.mergeAll(chime, unlimited)))
            assert.isTrue(
              Exit.isFailure(exit) && Cause.isDie(exit.cause) && Cause.squash(exit.cause) === boom,
              `${exit}`
            )
            assert.deepStrictEqual(got.map((r) => r.RoomId), ["room-1", "room-2", "room-3"])
          })),
        20_000
      )
    }
  }
})

describe("a refusal whose body is read to tell a refused clock", () => {
  for (const [name, client] of clients) {
    it.live(
      `${name}: a 403 with today's Date is a ForbiddenException with its message; a 300 MB one is TooLarge`,
      () =>
        Effect.scoped(Effect.gen(function*() {
          const server = yield* scriptedServer(({ call, response, stream }) => {
            const headers = {
              "x-amzn-errortype": "AccessDeniedException",
              "x-amzn-requestid": `req-${call}`,
              date: new Date().toUTCString()
            }
            if (call === 1) {
              const body = JSON.stringify({ message: "User is not authorized" })
              response.writeHead(403, { ...headers, "content-length": String(body.length) })
              response.end(body)
              return
            }
            response.writeHead(403, headers)
            return stream(300 * 1024 * 1024)
          })
          const chime = chimeOver(server.endpoint, client)
          const first = failure(yield* ChimeRooms.listRooms(request).pipe(Effect.provide(chime), Effect.exit))
          assert.deepInclude(first, {
            _tag: "ForbiddenException",
            code: "AccessDeniedException",
            message: "User is not authorized",
            requestId: "req-1"
          })
          const huge = failure(
            yield* ChimeRooms.listRooms(request).pipe(Effect.provide(chime), Effect.timeout("20 seconds"), Effect.exit)
          )
          assert.deepInclude(huge, { _tag: "ResponseDecodeError", reason: "TooLarge", status: 403, requestId: "req-2" })
          assert.isBelow(server.bodyBytes(), 100 * 1024 * 1024)
        })),
      30_000
    )
  }
})
