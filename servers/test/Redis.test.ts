/**
 * The `redis-server` fixture itself: started with a password on a free loopback port, answering
 * only with it, stopped, started again on the same port, and its directory removed. Real sockets on
 * 127.0.0.1, real time.
 */
import { Redis } from "@chime-rooms/servers"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as net from "node:net"

const PASSWORD = "fixture-s3cret"

/** A server for the test's scope (`close` is idempotent: a test may close it itself). */
const server = (options: { readonly password?: string; readonly port?: number } = {}) =>
  Effect.acquireRelease(Effect.promise(() => Redis.start(options)), (s) => Effect.promise(() => s.close()))

/** Sends `commands` (RESP inline) and resolves with the first line of the last reply, or `closed`. */
const send = (port: number, commands: ReadonlyArray<string>) =>
  Effect.async<string>((resume) => {
    const socket = net.connect({ host: "127.0.0.1", port })
    let reply = ""
    const done = (line: string) => {
      socket.destroy()
      resume(Effect.succeed(line))
    }
    socket.setTimeout(2000, () => done("timeout"))
    socket.once("error", () => done("closed"))
    socket.once("connect", () => socket.write(commands.map((command) => `${command}\r\n`).join("")))
    socket.on("data", (data) => {
      reply += data.toString("latin1")
      const lines = reply.split("\r\n").filter((line) => line !== "")
      if (lines.length >= commands.length) done(lines[commands.length - 1]!)
    })
  })

if (Redis.available) {
  describe("Redis", () => {
    it.scopedLive(
      "a server with a password answers only with it; stopped, it starts again on its port",
      () =>
        Effect.gen(function*() {
          const redis = yield* server({ password: PASSWORD })
          assert.strictEqual(redis.url, `redis://:${PASSWORD}@127.0.0.1:${redis.port}`)
          assert.match(yield* send(redis.port, ["PING"]), /^-NOAUTH/)
          assert.strictEqual(yield* send(redis.port, [`AUTH ${PASSWORD}`, "PING"]), "+PONG")

          yield* Effect.promise(() => redis.stop())
          assert.strictEqual(yield* send(redis.port, ["PING"]), "closed")
          assert.isTrue(fs.existsSync(redis.dir), "stop keeps the directory")
          yield* Effect.promise(() => redis.close())
          assert.isFalse(fs.existsSync(redis.dir), "close removes the directory")

          const again = yield* server({ port: redis.port })
          assert.strictEqual(again.url, `redis://127.0.0.1:${redis.port}`)
          assert.strictEqual(yield* send(again.port, ["PING"]), "+PONG")
        }),
      30_000
    )
  })
}
