import { ChimeError, ChimeRooms, type ListRoomsRequest, type ListRoomsResponse } from "@chime-rooms/core"
import { ChimeMetrics, ChimeRateLimiter, ChimeRoomsStream, Resilience, RetryPolicy } from "@chime-rooms/stream"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Clock, Deferred, Effect, Either, Exit, Fiber, Layer, Random, Stream, TestClock } from "effect"
import { makeFake, tokenAt } from "./fake.js"

const request = { AccountId: "acc-1", MaxResults: 10 } as const

const unavailable = (requestId: string) =>
  new ChimeError.ServiceUnavailableException({ message: "down", status: 503, requestId })

// Every behaviour holds both for a service that only has `listRooms` (pages fetched in fibers)
// and for one that also starts calls without a fiber (`unsafeListRooms`, as the undici transport).
for (const mode of ["effects", "callbacks"] as const) {
  const fakeLayer = (fake: ReturnType<typeof makeFake>) => mode === "effects" ? fake.layer : fake.callbackLayer

  const env = (fake: ReturnType<typeof makeFake>) =>
    Layer.mergeAll(fakeLayer(fake), Resilience.layer({ rateLimiter: ChimeRateLimiter.layerUnlimited }))

  describe(`ChimeRoomsStream (${mode})`, () => {
    it.effect("emits every room once, in service order, one chunk per page", () =>
      Effect.gen(function*() {
        const fake = makeFake({ rooms: 95, pageSize: 10 })
        const chunks = yield* ChimeRoomsStream.rooms(request).pipe(
          Stream.chunks,
          Stream.runCollect,
          Effect.provide(env(fake))
        )
        assert.deepStrictEqual(Chunk.toReadonlyArray(chunks).map(Chunk.size), [10, 10, 10, 10, 10, 10, 10, 10, 10, 5])
        assert.deepStrictEqual(Chunk.toReadonlyArray(Chunk.flatten(chunks)), fake.all)
        assert.strictEqual(fake.calls.length, 10)
      }))

    it.effect("pages carry request id, resume token, page number and attempts", () =>
      Effect.gen(function*() {
        const fake = makeFake({ rooms: 25, pageSize: 10 })
        const pages = yield* ChimeRoomsStream.pages(request).pipe(Stream.runCollect, Effect.provide(env(fake)))
        assert.deepStrictEqual(
          Chunk.toReadonlyArray(pages).map(({ rooms, ...rest }) => ({ ...rest, n: rooms.length })),
          [
            { requestId: "req-1", nextToken: tokenAt(10), pageNumber: 1, attempts: 1, n: 10 },
            { requestId: "req-2", nextToken: tokenAt(20), pageNumber: 2, attempts: 1, n: 10 },
            { requestId: "req-3", pageNumber: 3, attempts: 1, n: 5 }
          ]
        )
      }))

    it.effect("resumes from request.NextToken", () =>
      Effect.gen(function*() {
        const fake = makeFake({ rooms: 35, pageSize: 10 })
        const rooms = yield* ChimeRoomsStream.rooms({ ...request, NextToken: tokenAt(20) }).pipe(
          Stream.runCollect,
          Effect.provide(env(fake))
        )
        assert.deepStrictEqual(Chunk.toReadonlyArray(rooms), fake.all.slice(20))
        assert.deepStrictEqual(fake.calls.map((c) => c.token), [tokenAt(20), tokenAt(30)])
      }))

    it.effect("an empty account is an empty stream after one request", () =>
      Effect.gen(function*() {
        const fake = makeFake({ rooms: 0, pageSize: 10 })
        const n = yield* ChimeRoomsStream.rooms(request).pipe(Stream.runCount, Effect.provide(env(fake)))
        assert.strictEqual(n, 0)
        assert.strictEqual(fake.calls.length, 1)
      }))

    it.effect("backpressure: page n is requested only when the consumer pulls it", () =>
      Effect.gen(function*() {
        const fake = makeFake({ rooms: 100, pageSize: 10 })
        yield* Effect.scoped(Effect.gen(function*() {
          const pull = yield* Stream.toPull(ChimeRoomsStream.rooms(request))
          assert.strictEqual(fake.calls.length, 0)
          for (let n = 1; n <= 4; n++) {
            const chunk = yield* pull
            assert.strictEqual(Chunk.size(chunk), 10)
            // Let any background work run: nothing should have been requested ahead.
            yield* TestClock.adjust("10 seconds")
            assert.strictEqual(fake.calls.length, n)
          }
        })).pipe(Effect.provide(env(fake)))
        assert.strictEqual(fake.calls.length, 4)
      }))

    it.effect("take stops requesting", () =>
      Effect.gen(function*() {
        const fake = makeFake({ rooms: 100, pageSize: 10 })
        const rooms = yield* ChimeRoomsStream.rooms(request).pipe(
          Stream.take(15),
          Stream.runCollect,
          Effect.provide(env(fake))
        )
        assert.strictEqual(Chunk.size(rooms), 15)
        assert.strictEqual(fake.calls.length, 2)
      }))

    for (const prefetch of [1, 3]) {
      it.effect(`prefetch ${prefetch}: at most ${prefetch} pages requested beyond those consumed`, () =>
        Effect.gen(function*() {
          const fake = makeFake({ rooms: 200, pageSize: 10, latency: "100 millis" })
          yield* Effect.scoped(Effect.gen(function*() {
            const pull = yield* Stream.toPull(ChimeRoomsStream.pages(request, { prefetch }))
            yield* TestClock.adjust("10 seconds")
            assert.strictEqual(fake.calls.length, 0, "nothing is requested before the first pull")
            for (let n = 1; n <= 3; n++) {
              const fiber = yield* Effect.fork(pull)
              yield* TestClock.adjust("10 seconds")
              const chunk = yield* Fiber.join(fiber)
              assert.strictEqual(Chunk.unsafeHead(chunk).pageNumber, n)
              yield* TestClock.adjust("10 seconds")
              assert.strictEqual(fake.calls.length, n + prefetch, `after pull ${n}`)
            }
          })).pipe(Effect.provide(env(fake)))
        }))
    }

    it.effect("prefetch overlaps requests with consumption and keeps order", () =>
      Effect.gen(function*() {
        const fake = makeFake({ rooms: 95, pageSize: 10, latency: "100 millis" })
        const fiber = yield* ChimeRoomsStream.rooms(request, { prefetch: 2 }).pipe(
          Stream.tap(() => Effect.sleep("10 millis")),
          Stream.runCollect,
          Effect.provide(env(fake)),
          Effect.fork
        )
        yield* TestClock.adjust("1 hour")
        const rooms = yield* Fiber.join(fiber)
        assert.deepStrictEqual(Chunk.toReadonlyArray(rooms), fake.all)
      }))

    it.effect("prefetch: the next request starts, and the event loop turns once, before a consumer that never suspends works", () =>
      Effect.gen(function*() {
        // A transport may write a request only on a later turn of the event loop (undici writes on
        // a reused keep-alive socket from a `setImmediate`): the fake marks a call "written" that way.
        const fake = makeFake({ rooms: 50, pageSize: 10, latency: "100 millis" })
        let written = 0
        const transport = Layer.succeed(ChimeRooms.ChimeRooms, {
          listRooms: (input) =>
            Effect.zipRight(Effect.sync(() => setImmediate(() => written++)), fake.service.listRooms(input)),
          ...(mode === "effects" ? {} : {
            unsafeListRooms: (input, clock, done) => {
              setImmediate(() => written++)
              return fake.unsafeListRooms(input, clock, done)
            }
          })
        })
        const seen: Array<string> = []
        const fiber = yield* ChimeRoomsStream.pages(request, { prefetch: 1 }).pipe(
          // Synchronous work on each page: the consumer gives the thread up only at its next pull.
          Stream.runForEach((page) =>
            Effect.sync(() => seen.push(`page ${page.pageNumber}: ${fake.calls.length} started, ${written} written`))
          ),
          Effect.provide(Layer.mergeAll(transport, Resilience.layer({ rateLimiter: ChimeRateLimiter.layerUnlimited }))),
          Effect.fork
        )
        yield* TestClock.adjust("1 hour")
        yield* Fiber.join(fiber)
        assert.deepStrictEqual(seen, [
          "page 1: 2 started, 2 written",
          "page 2: 3 started, 3 written",
          "page 3: 4 started, 4 written",
          "page 4: 5 started, 5 written",
          "page 5: 5 started, 5 written"
        ])
      }))

    it.effect("prefetch surfaces a failure after the pages before it", () =>
      Effect.gen(function*() {
        const fake = makeFake({
          rooms: 50,
          pageSize: 10,
          fault: (_, token) =>
            token === tokenAt(30) ? new ChimeError.NotFoundException({ message: "gone", status: 404 }) : undefined
        })
        const result = yield* ChimeRoomsStream.rooms(request, { prefetch: 2 }).pipe(
          Stream.runFoldEffect(0, (n) => Effect.succeed(n + 1)),
          Effect.either,
          Effect.provide(env(fake))
        )
        assert.isTrue(Either.isLeft(result))
        if (Either.isLeft(result)) assert.strictEqual(result.left.resumeToken, tokenAt(30))
      }))

    it.effect("a fixed limiter paces the pages: one permit per request, (N − burst) / rate in all", () =>
      Effect.gen(function*() {
        const fake = makeFake({ rooms: 200, pageSize: 10 })
        const fiber = yield* ChimeRoomsStream.pages(request).pipe(
          Stream.runCount,
          Effect.provide(
            Layer.mergeAll(
              fakeLayer(fake),
              Resilience.layer({ rateLimiter: ChimeRateLimiter.layerFixed({ rate: 10, burst: 2 }) })
            )
          ),
          Effect.fork
        )
        yield* TestClock.adjust("1 minute")
        assert.strictEqual(yield* Fiber.join(fiber), 20)
        // 20 requests, 2 at once, then one every 100 ms.
        assert.deepStrictEqual(fake.calls.map((c) => c.at), [
          0,
          0,
          ...Array.from({ length: 18 }, (_, i) => (i + 1) * 100)
        ])
      }))

    it.effect("maxPages stops after that many pages", () =>
      Effect.gen(function*() {
        const fake = makeFake({ rooms: 100, pageSize: 10 })
        const pages = yield* ChimeRoomsStream.pages(request, { maxPages: 3 }).pipe(
          Stream.runCollect,
          Effect.provide(env(fake))
        )
        assert.strictEqual(Chunk.size(pages), 3)
        assert.strictEqual(fake.calls.length, 3)
        assert.strictEqual(Chunk.unsafeLast(pages).nextToken, tokenAt(30))
      }))

    it.effect("a repeated NextToken fails with PaginationLoopError instead of looping", () =>
      Effect.gen(function*() {
        // Page 3 (offset 20) points back to offset 10.
        const fake = makeFake({
          rooms: 100,
          pageSize: 10,
          nextToken: (offset, natural) => offset === 20 ? tokenAt(10) : natural
        })
        const emitted: Array<number> = []
        const result = yield* ChimeRoomsStream.pages(request).pipe(
          Stream.runForEach((page) => Effect.sync(() => emitted.push(page.pageNumber))),
          Effect.either,
          Effect.provide(env(fake))
        )
        assert.deepStrictEqual(emitted, [1, 2, 3])
        assert.strictEqual(fake.calls.length, 3)
        assert.isTrue(Either.isLeft(result))
        if (Either.isLeft(result)) {
          assert.instanceOf(result.left, ChimeError.PaginationLoopError)
          assert.strictEqual((result.left as ChimeError.PaginationLoopError).pages, 3)
          assert.strictEqual(result.left.requestId, "req-3")
        }
      }))

    it.effect("a token equal to the starting NextToken is a loop too", () =>
      Effect.gen(function*() {
        const fake = makeFake({ rooms: 100, pageSize: 10, nextToken: () => tokenAt(50) })
        const result = yield* ChimeRoomsStream.pages({ ...request, NextToken: tokenAt(50) }).pipe(
          Stream.runDrain,
          Effect.either,
          Effect.provide(env(fake))
        )
        assert.isTrue(Either.isLeft(result) && result.left._tag === "PaginationLoopError")
        assert.strictEqual(fake.calls.length, 1)
      }))

    it.effect("a failed page is retried in place: the stream never restarts", () =>
      Effect.gen(function*() {
        const fake = makeFake({
          rooms: 50,
          pageSize: 10,
          fault: (call) => (call === 3 || call === 4 ? unavailable(`req-${call}`) : undefined)
        })
        const fiber = yield* ChimeRoomsStream.pages(request).pipe(
          Stream.runCollect,
          Effect.provide(env(fake)),
          Effect.fork
        )
        yield* TestClock.adjust("1 minute")
        const pages = Chunk.toReadonlyArray(yield* Fiber.join(fiber))
        assert.deepStrictEqual(pages.flatMap((p) => p.rooms), fake.all)
        assert.deepStrictEqual(pages.map((p) => p.attempts), [1, 1, 3, 1, 1])
        assert.deepStrictEqual(fake.calls.map((c) => c.token), [
          undefined,
          tokenAt(10),
          tokenAt(20),
          tokenAt(20),
          tokenAt(20),
          tokenAt(30),
          tokenAt(40)
        ])
      }))

    it.effect("a page that fails for good carries the token to resume from; resuming yields the rest", () =>
      Effect.gen(function*() {
        let broken = true
        const fake = makeFake({
          rooms: 50,
          pageSize: 10,
          fault: (_, token) => (broken && token === tokenAt(30) ? unavailable("req-x") : undefined)
        })
        const seen: Array<string> = []
        const fiber = yield* ChimeRoomsStream.rooms(request).pipe(
          Stream.runForEach((room) => Effect.sync(() => seen.push(room.RoomId!))),
          Effect.either,
          Effect.provide(env(fake)),
          Effect.fork
        )
        yield* TestClock.adjust("10 minutes")
        const result = yield* Fiber.join(fiber)
        assert.isTrue(Either.isLeft(result))
        const error = (result as Either.Left<ChimeError.ChimeError, void>).left
        assert.strictEqual(error._tag, "ServiceUnavailableException")
        assert.strictEqual(error.resumeToken, tokenAt(30))
        // 1 + 4 retries (default 5 attempts) of the failing page.
        assert.strictEqual(fake.calls.filter((c) => c.token === tokenAt(30)).length, RetryPolicy.defaults.maxAttempts)
        broken = false
        const rest = yield* ChimeRoomsStream.rooms({ ...request, NextToken: error.resumeToken! }).pipe(
          Stream.runCollect,
          Effect.provide(env(fake))
        )
        assert.deepStrictEqual(
          [...seen, ...Chunk.toReadonlyArray(rest).map((r) => r.RoomId!)],
          fake.all.map((r) => r.RoomId!)
        )
      }))

    it.effect("a first page that fails for good has no resume token", () =>
      Effect.gen(function*() {
        const fake = makeFake({
          rooms: 50,
          pageSize: 10,
          fault: () => new ChimeError.NotFoundException({ message: "no", status: 404 })
        })
        const error = yield* ChimeRoomsStream.rooms(request).pipe(
          Stream.runDrain,
          Effect.flip,
          Effect.provide(env(fake))
        )
        assert.strictEqual(error._tag, "NotFoundException")
        assert.isUndefined(error.resumeToken)
        assert.isFalse("resumeToken" in error)
        assert.strictEqual(fake.calls.length, 1, "404 is not retried")
      }))

    for (const prefetch of [0, 2]) {
      it.effect(`interrupting the consumer interrupts the request in flight (prefetch ${prefetch})`, () =>
        Effect.gen(function*() {
          const started = yield* Deferred.make<void>()
          const interrupted = yield* Deferred.make<void>()
          const fake = makeFake({
            rooms: 100,
            pageSize: 10,
            hang: (call) =>
              call === 3
                ? Deferred.succeed(started, undefined).pipe(
                  Effect.zipRight(Effect.never),
                  Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined))
                )
                : undefined
          })
          const fiber = yield* ChimeRoomsStream.rooms(request, { prefetch }).pipe(
            Stream.runDrain,
            Effect.provide(env(fake)),
            Effect.fork
          )
          yield* Deferred.await(started)
          yield* Fiber.interrupt(fiber)
          // A call started without a fiber is aborted without waiting for it to wind down.
          yield* Deferred.await(interrupted)
          const exit = yield* Fiber.await(fiber)
          assert.isTrue(Exit.isInterrupted(exit))
        }))
    }

    it.effect("interruption during a backoff sleep stops the retries", () =>
      Effect.gen(function*() {
        const fake = makeFake({ rooms: 10, pageSize: 10, fault: (call) => unavailable(`req-${call}`) })
        const fiber = yield* ChimeRoomsStream.rooms(request).pipe(
          Stream.runDrain,
          Effect.provide(env(fake)),
          Effect.fork
        )
        yield* TestClock.adjust("1 millis")
        yield* Fiber.interrupt(fiber)
        const before = fake.calls.length
        yield* TestClock.adjust("1 hour")
        assert.strictEqual(fake.calls.length, before)
      }))

    it.effect("a stream can be run twice (state is per run)", () =>
      Effect.gen(function*() {
        const fake = makeFake({ rooms: 30, pageSize: 10 })
        const stream = ChimeRoomsStream.rooms(request)
        const a = yield* Stream.runCount(stream).pipe(Effect.provide(env(fake)))
        const b = yield* Stream.runCount(stream).pipe(Effect.provide(env(fake)))
        assert.deepStrictEqual([a, b], [30, 30])
      }))

    it.effect("stats: pages, rooms, requests, retries, throttles", () =>
      Effect.gen(function*() {
        const fake = makeFake({
          rooms: 45,
          pageSize: 10,
          fault: (call) =>
            call === 2
              ? unavailable("r")
              : call === 4
              ? new ChimeError.ThrottledClientException({ message: "slow down", status: 429, code: "Throttled" })
              : undefined
        })
        const stats = yield* Effect.gen(function*() {
          const fiber = yield* ChimeRoomsStream.rooms(request).pipe(Stream.runDrain, Effect.fork)
          yield* TestClock.adjust("1 minute")
          yield* Fiber.join(fiber)
          return yield* ChimeMetrics.snapshot
        }).pipe(Effect.provide(Layer.mergeAll(fakeLayer(fake), Resilience.layer())))
        assert.strictEqual(stats.pages, 5)
        assert.strictEqual(stats.rooms, 45)
        assert.strictEqual(stats.requests, 7)
        assert.strictEqual(stats.retries, 2)
        assert.strictEqual(stats.throttles, 1)
        assert.strictEqual(stats.failures, 0)
        assert.isNumber(stats.currentRate, "the adaptive limiter engaged after the throttle")
      }))

    it.effect("jitter comes from Effect's Random: a fixed Random gives fixed delays", () =>
      Effect.gen(function*() {
        const fake = makeFake({ rooms: 20, pageSize: 10, fault: (call) => (call <= 3 ? unavailable("r") : undefined) })
        const fiber = yield* ChimeRoomsStream.rooms(request).pipe(
          Stream.runDrain,
          Effect.provide(env(fake)),
          Effect.withRandom(Random.fixed([0.5])),
          Effect.fork
        )
        yield* TestClock.adjust("1 minute")
        yield* Fiber.join(fiber)
        // 0.5 × 100, 0.5 × 200, 0.5 × 400 ms.
        assert.deepStrictEqual(fake.calls.map((c) => c.at), [0, 50, 150, 350, 350])
      }))

    it.effect("with prefetch, a failure is the plain ChimeError with its resume token", () =>
      Effect.gen(function*() {
        const fake = makeFake({
          rooms: 20,
          pageSize: 10,
          fault: () => new ChimeError.NotFoundException({ message: "no", status: 404 })
        })
        const error = yield* ChimeRoomsStream.rooms(request, { prefetch: 1 }).pipe(
          Stream.runDrain,
          Effect.flip,
          Effect.provide(env(fake))
        )
        assert.instanceOf(error, ChimeError.NotFoundException)
        assert.isUndefined(error.resumeToken)
      }))
  })
}

describe("ChimeRoomsStream over a service that starts calls without a fiber", () => {
  /**
   * A service whose calls are answered when the test says so, from outside any fiber, as a
   * transport's callbacks are: each delivery reports the page's token early, then the page (or
   * `fault(call)`); the log records starts, aborts and deliveries.
   */
  /** `heard`: the token reported early for call `call` when it differs from the page's own. */
  const manual = (
    fault?: (call: number) => ChimeError.ChimeError | undefined,
    heard?: (call: number, token: string) => string
  ) => {
    const fake = makeFake({ rooms: 30, pageSize: 10 })
    const log: Array<string> = []
    const deliveries: Array<() => void> = []
    const name = (token: string | undefined) => token ?? "first"
    let calls = 0
    const service = {
      listRooms: fake.service.listRooms,
      unsafeListRooms: (
        input: ListRoomsRequest.ListRoomsRequest,
        _clock: Clock.Clock,
        done: (exit: Exit.Exit<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError>) => void,
        onNextToken?: (token: string) => void
      ) => {
        const call = ++calls
        let aborted = false
        log.push(`start ${name(input.NextToken)}`)
        const page = Effect.runSync(fake.service.listRooms(input))
        const error = fault?.(call)
        deliveries.push(() => {
          if (aborted) return
          log.push(`deliver ${name(input.NextToken)}`)
          if (page.NextToken !== undefined) onNextToken?.(heard?.(call, page.NextToken) ?? page.NextToken)
          done(error === undefined ? Exit.succeed(page) : Exit.fail(error))
          log.push(`delivered ${name(input.NextToken)}`)
        })
        return () => {
          aborted = true
          log.push(`abort ${name(input.NextToken)}`)
        }
      }
    }
    // Delivers the oldest pending answer once there is one (on the real clock: the test's is a TestClock).
    const deliverNext = Effect.zipRight(
      Effect.repeat(Effect.sleep("1 millis"), { until: () => deliveries.length > 0 }),
      Effect.sync(() => deliveries.shift()!())
    ).pipe(Effect.withClock(Clock.make()))
    return { fake, log, service, deliverNext, pending: () => deliveries.length }
  }

  it.effect("with room ahead (prefetch 2), the next page is requested as soon as this one's token is known", () =>
    Effect.gen(function*() {
      const { deliverNext, fake, log, service } = manual()
      const fiber = yield* ChimeRoomsStream.pages(request, { prefetch: 2 }).pipe(
        Stream.runForEach((page) => Effect.sync(() => log.push(`consumer: page ${page.pageNumber}`))),
        Effect.provide(Layer.mergeAll(Layer.succeed(ChimeRooms.ChimeRooms, service), Resilience.layer())),
        Effect.fork
      )
      for (let i = 0; i < 3; i++) yield* deliverNext
      yield* Fiber.join(fiber)
      // The next request leaves from the delivery itself, before the page is even done (validated).
      assert.deepStrictEqual(log.slice(0, 5), [
        "start first",
        "deliver first",
        "start tok-10",
        "delivered first",
        "consumer: page 1"
      ])
      assert.deepStrictEqual(log.filter((line) => line.startsWith("consumer")), [
        "consumer: page 1",
        "consumer: page 2",
        "consumer: page 3"
      ])
      assert.strictEqual(fake.calls.length, 3)
    }))

  it.effect("a page that fails after its token came early takes back the page it sent, then is retried in place", () =>
    Effect.gen(function*() {
      const { deliverNext, log, service } = manual((call) => (call === 1 ? unavailable("r-1") : undefined))
      const fiber = yield* ChimeRoomsStream.rooms(request, { prefetch: 2 }).pipe(
        Stream.runCollect,
        Effect.provide(
          Layer.mergeAll(
            Layer.succeed(ChimeRooms.ChimeRooms, service),
            Resilience.layer({ rateLimiter: ChimeRateLimiter.layerUnlimited })
          )
        ),
        Effect.fork
      )
      yield* deliverNext
      // The failed first page waits out its backoff (on the TestClock) and is asked again (through
      // `listRooms`, in a fiber); then come the taken-back call (which answers nothing), pages 2 and 3.
      yield* TestClock.adjust("1 minute")
      for (let i = 0; i < 3; i++) yield* deliverNext
      const rooms = yield* Fiber.join(fiber)
      assert.deepStrictEqual(log.slice(0, 4), ["start first", "deliver first", "start tok-10", "abort tok-10"])
      assert.deepStrictEqual(
        Chunk.toReadonlyArray(rooms).map((room) => room.RoomId),
        makeFake({ rooms: 30, pageSize: 10 }).all.map((room) => room.RoomId)
      )
    }))

  it.effect("a page whose token turns out other than the one heard early takes back the page it sent and requests the right one", () =>
    Effect.gen(function*() {
      // The first page's token is misheard as `tok-20`: a real token, whose page would skip rooms 10–19.
      const { deliverNext, log, pending, service } = manual(undefined, (call, token) => (call === 1 ? "tok-20" : token))
      const fiber = yield* ChimeRoomsStream.rooms(request, { prefetch: 2 }).pipe(
        Stream.runCollect,
        Effect.provide(
          Layer.mergeAll(
            Layer.succeed(ChimeRooms.ChimeRooms, service),
            Resilience.layer({ rateLimiter: ChimeRateLimiter.layerUnlimited })
          )
        ),
        Effect.fork
      )
      yield* deliverNext
      // The misheard call is answered too, and must count for nothing.
      while (pending() > 0 || log.filter((line) => line.startsWith("deliver ")).length < 3) yield* deliverNext
      const rooms = yield* Fiber.join(fiber)
      assert.deepStrictEqual(log.slice(0, 5), [
        "start first",
        "deliver first",
        "start tok-20",
        "abort tok-20",
        "start tok-10"
      ])
      assert.deepStrictEqual(
        Chunk.toReadonlyArray(rooms).map((room) => room.RoomId),
        makeFake({ rooms: 30, pageSize: 10 }).all.map((room) => room.RoomId)
      )
    }))
})
