import { ChimeError, ChimeRooms, type ListRoomsRequest, type ListRoomsResponse, Room } from "@chime-rooms/core"
import { Dataset, Fault, FaultScript, InMemory } from "@chime-rooms/testing"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either, Exit, Fiber, Option, Schema, TestClock } from "effect"

const data = Dataset.generate({ seed: 21, accounts: 2, roomsPerAccount: 57, membersPerAccount: 5 })
const account = data.accounts[0]!
const decodeRoom = Schema.decodeUnknownSync(Room.Room)

/** Lists every page, following NextToken, and returns the pages. */
const allPages = (service: ChimeRooms.ChimeRoomsService, request: ListRoomsRequest.ListRoomsRequest, limit = 10_000) =>
  Effect.gen(function*() {
    const pages: Array<ListRoomsResponse.ListRoomsOutput> = []
    let token: string | undefined
    do {
      const page = yield* service.listRooms(token === undefined ? request : { ...request, NextToken: token })
      pages.push(page)
      token = page.NextToken
    } while (token !== undefined && pages.length < limit)
    return pages
  })

const errorOf = <A>(effect: Effect.Effect<A, ChimeError.ChimeError>) => Effect.flip(effect)

const withService = (options: InMemory.InMemoryOptions = {}) => InMemory.make({ dataset: data, ...options })

/** A valid token with one byte of its MAC flipped, re-encoded so it is still well-formed. */
const tamper = (token: string): string => {
  const bytes = Buffer.from(token, "base64url")
  bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x80
  return bytes.toString("base64url")
}

describe("InMemory.layer paging", () => {
  it.effect("concatenated pages are exactly the dataset, 10 rooms a page by default, no token on the last page", () =>
    Effect.gen(function*() {
      const { service } = yield* withService()
      const pages = yield* allPages(service, { AccountId: account })
      expect(pages.map((p) => p.Rooms.length)).toEqual([10, 10, 10, 10, 10, 7])
      expect(pages.slice(0, -1).every((p) => typeof p.NextToken === "string")).toBe(true)
      expect(pages.at(-1)!.NextToken).toBeUndefined()
      const rooms = pages.flatMap((p) => p.Rooms)
      expect(rooms).toEqual(Dataset.allRooms(data, account).map((r) => decodeRoom(r)))
      // Decoded rooms carry DateTime.Utc timestamps.
      expect(rooms[0]!.CreatedTimestamp?._tag).toBe("Utc")
      expect(pages[0]!.$metadata).toEqual({ requestId: "req-000001", httpStatusCode: 200 })
    }))

  it.effect("honours the pageSize option and MaxResults", () =>
    Effect.gen(function*() {
      const { service } = yield* withService({ pageSize: 25 })
      expect((yield* allPages(service, { AccountId: account })).map((p) => p.Rooms.length)).toEqual([25, 25, 7])
      expect((yield* allPages(service, { AccountId: account, MaxResults: 20 })).map((p) => p.Rooms.length)).toEqual([
        20,
        20,
        17
      ])
      const whole = yield* allPages(service, { AccountId: account, MaxResults: 99 })
      expect(whole).toHaveLength(1)
      expect(whole[0]!.NextToken).toBeUndefined()
      expect((yield* allPages(service, { AccountId: account, MaxResults: 57 })).map((p) => p.Rooms.length)).toEqual([
        57
      ])
    }))

  it.effect("MemberId lists only the member's rooms", () =>
    Effect.gen(function*() {
      const { service } = yield* withService({ pageSize: 3 })
      for (const member of data.members(account)) {
        const pages = yield* allPages(service, { AccountId: account, MemberId: member })
        const ids = pages.flatMap((p) => p.Rooms.map((r) => r.RoomId))
        expect(ids).toEqual(data.memberRooms(account, member)!.map((i) => data.room(account, i).RoomId))
        expect(ids.length).toBeGreaterThan(0)
      }
      const stranger = yield* service.listRooms({ AccountId: account, MemberId: "not-a-member" })
      expect(stranger.Rooms).toEqual([])
      expect(stranger.NextToken).toBeUndefined()
    }))

  it.effect("an unknown account is NotFoundException; MaxResults outside 1..99 never leaves the client", () =>
    Effect.gen(function*() {
      const { log, service } = yield* withService()
      const notFound = yield* errorOf(service.listRooms({ AccountId: "no-such-account" }))
      expect(notFound).toMatchObject({
        _tag: "NotFoundException",
        status: 404,
        code: "NotFound",
        requestId: "req-000001"
      })
      for (const MaxResults of [0, 100]) {
        const invalid = yield* errorOf(service.listRooms({ AccountId: account, MaxResults }))
        expect(invalid).toMatchObject({ _tag: "InvalidRequestError", field: "MaxResults" })
      }
      const blank = yield* errorOf(service.listRooms({ AccountId: "   " }))
      expect(blank).toMatchObject({ _tag: "InvalidRequestError", field: "AccountId" })
      // Only the request that reached the service is numbered and logged.
      expect((yield* log.entries).map((e) => e.call)).toEqual([1])
    }))

  it.effect("serves a large generated account page by page, every room once", () =>
    Effect.gen(function*() {
      // 20,000 rooms keeps the test quick; Dataset.test.ts covers 100,000+ at random positions.
      const big = Dataset.generate({ seed: 8, roomsPerAccount: 20_000 })
      const { service } = yield* InMemory.make({ dataset: big })
      const pages = yield* allPages(service, { AccountId: big.accounts[0]!, MaxResults: 99 })
      expect(pages).toHaveLength(Math.ceil(20_000 / 99))
      const ids = new Set(pages.flatMap((p) => p.Rooms.map((r) => r.RoomId)))
      expect(ids.size).toBe(20_000)
    }))
})

describe("InMemory.layer tokens", () => {
  const bad = { _tag: "BadRequestException", status: 400, code: "BadRequest" }

  it.effect("refuses forged and modified tokens", () =>
    Effect.gen(function*() {
      const { service } = yield* withService()
      const token = (yield* service.listRooms({ AccountId: account })).NextToken!
      for (const forged of ["10", "eyJwb3NpdGlvbiI6MTB9", tamper(token), token.slice(0, -1), `${token}A`]) {
        expect(yield* errorOf(service.listRooms({ AccountId: account, NextToken: forged }))).toMatchObject(bad)
      }
      // The genuine token still works.
      expect((yield* service.listRooms({ AccountId: account, NextToken: token })).Rooms).toHaveLength(10)
    }))

  it.effect("refuses foreign tokens: another account, another member filter", () =>
    Effect.gen(function*() {
      const { service } = yield* withService({ pageSize: 2 })
      const [m1, m2] = data.members(account)
      const token = (yield* service.listRooms({ AccountId: account })).NextToken!
      const memberToken = (yield* service.listRooms({ AccountId: account, MemberId: m1! })).NextToken!
      expect(yield* errorOf(service.listRooms({ AccountId: data.accounts[1]!, NextToken: token }))).toMatchObject(bad)
      expect(yield* errorOf(service.listRooms({ AccountId: account, MemberId: m1!, NextToken: token }))).toMatchObject(
        bad
      )
      expect(yield* errorOf(service.listRooms({ AccountId: account, NextToken: memberToken }))).toMatchObject(bad)
      expect(yield* errorOf(service.listRooms({ AccountId: account, MemberId: m2!, NextToken: memberToken })))
        .toMatchObject(bad)
    }))

  it.effect("refuses stale tokens: a new instance, or the same secret over a re-seeded dataset", () =>
    Effect.gen(function*() {
      const first = yield* withService({ tokenSecret: "pinned" })
      const token = (yield* first.service.listRooms({ AccountId: account })).NextToken!
      const fresh = yield* withService()
      expect(yield* errorOf(fresh.service.listRooms({ AccountId: account, NextToken: token }))).toMatchObject(bad)
      // A pinned secret over the same data honours the token (a restart), over other data it does not.
      const restarted = yield* withService({ tokenSecret: "pinned" })
      expect((yield* restarted.service.listRooms({ AccountId: account, NextToken: token })).Rooms).toHaveLength(10)
      const reseeded = Dataset.generate({ seed: 22, accounts: 2, roomsPerAccount: 57, membersPerAccount: 5 })
      const other = yield* InMemory.make({ dataset: reseeded, tokenSecret: "pinned" })
      expect(yield* errorOf(other.service.listRooms({ AccountId: reseeded.accounts[0]!, NextToken: token })))
        .toMatchObject(bad)
      // A fixture with the same account id but other rooms is another generation too.
      const fixture = Dataset.fromRooms({ [account]: { rooms: Dataset.allRooms(data, account).slice(0, 30) } })
      const fixtureService = yield* InMemory.make({ dataset: fixture, tokenSecret: "pinned" })
      expect(yield* errorOf(fixtureService.service.listRooms({ AccountId: account, NextToken: token }))).toMatchObject(
        bad
      )
    }))
})

describe("InMemory.layer faults", () => {
  it.effect("each of the seven service errors, with status, Chime code, request id, and retryAfter when scripted", () =>
    Effect.gen(function*() {
      const cases = [
        ["BadRequestException", 400, "BadRequest"],
        ["UnauthorizedClientException", 401, "Unauthorized"],
        ["ForbiddenException", 403, "Forbidden"],
        ["NotFoundException", 404, "NotFound"],
        ["ThrottledClientException", 429, "Throttled"],
        ["ServiceFailureException", 500, "ServiceFailure"],
        ["ServiceUnavailableException", 503, "ServiceUnavailable"]
      ] as const
      const { service } = yield* withService({
        faults: cases.map(([name], i) => ({
          calls: [i + 1],
          fault: Fault.serviceError(
            name,
            name === "ThrottledClientException" || name === "ServiceUnavailableException"
              ? { retryAfter: "3 seconds" }
              : {}
          )
        }))
      })
      for (const [i, [name, status, code]] of cases.entries()) {
        const error = yield* errorOf(service.listRooms({ AccountId: account }))
        expect(error).toMatchObject({ _tag: name, status, code, requestId: `req-00000${i + 1}` })
        expect("message" in error && error.message.length > 0).toBe(true)
        const retryAfter = ChimeError.retryAfterOf(error)
        if (status === 429 || status === 503) expect(retryAfter).toEqual(Option.some(Duration.seconds(3)))
        else expect(Option.isNone(retryAfter)).toBe(true)
      }
      // Call 8 is clean.
      expect((yield* service.listRooms({ AccountId: account })).Rooms).toHaveLength(10)
    }))

  it.effect("a scripted message replaces the default; no retryAfter unless scripted", () =>
    Effect.gen(function*() {
      const { service } = yield* withService({
        faults: [
          { calls: [1], fault: Fault.serviceError("ServiceFailureException", { message: "disk on fire" }) },
          { calls: [2], fault: Fault.throttled() }
        ]
      })
      expect(yield* errorOf(service.listRooms({ AccountId: account }))).toMatchObject({ message: "disk on fire" })
      const throttled = yield* errorOf(service.listRooms({ AccountId: account }))
      expect(Option.isNone(ChimeError.retryAfterOf(throttled))).toBe(true)
    }))

  it.effect("transport and wire faults map to the errors a client reports", () =>
    Effect.gen(function*() {
      const { service } = yield* withService({
        faults: [
          { calls: [1], fault: Fault.transport },
          { calls: [2], fault: Fault.reset },
          { calls: [3], fault: Fault.truncatedJson },
          { calls: [4], fault: Fault.invalidJson },
          { calls: [5], fault: Fault.html502 }
        ]
      })
      const call = () => errorOf(service.listRooms({ AccountId: account }))
      const transport = yield* call()
      expect(transport).toMatchObject({ _tag: "TransportError", reason: "ConnectionReset" })
      expect("requestId" in transport && transport.requestId).toBeFalsy()
      expect(yield* call()).toMatchObject({ _tag: "TransportError", reason: "BodyCutShort", requestId: "req-000002" })
      expect(yield* call()).toMatchObject({
        _tag: "ResponseDecodeError",
        reason: "TruncatedJson",
        status: 200,
        requestId: "req-000003"
      })
      expect(yield* call()).toMatchObject({
        _tag: "ResponseDecodeError",
        reason: "InvalidJson",
        status: 200,
        requestId: "req-000004"
      })
      const html = yield* call()
      expect(html).toMatchObject({ _tag: "ResponseDecodeError", reason: "UnexpectedStatus", status: 502 })
      expect("excerpt" in html && html.excerpt).toContain("502 Bad Gateway")
    }))

  it.effect("RepeatToken hands back the token that led to the page: a loop", () =>
    Effect.gen(function*() {
      const { service } = yield* withService({ faults: [{ calls: [2, 3], fault: Fault.repeatToken }] })
      const first = yield* service.listRooms({ AccountId: account })
      const second = yield* service.listRooms({ AccountId: account, NextToken: first.NextToken! })
      expect(second.NextToken).toBe(first.NextToken)
      const third = yield* service.listRooms({ AccountId: account, NextToken: second.NextToken! })
      expect(third.Rooms).toEqual(second.Rooms)
      expect(third.NextToken).toBe(first.NextToken)
      // Once the fault passes, paging moves on.
      const fourth = yield* service.listRooms({ AccountId: account, NextToken: third.NextToken! })
      expect(fourth.NextToken).not.toBe(first.NextToken)
      expect(fourth.Rooms.map((r) => r.RoomId)).toEqual(
        [10, 11, 12, 13, 14, 15, 16, 17, 18, 19].map((i) => data.room(account, i).RoomId)
      )
    }))

  it.effect("Delay runs on the Clock: the call does not finish until TestClock passes the delay", () =>
    Effect.gen(function*() {
      const { service } = yield* withService({ faults: [{ calls: [1], fault: Fault.delay("5 seconds") }] })
      const fiber = yield* Effect.fork(service.listRooms({ AccountId: account }))
      yield* TestClock.adjust("4999 millis")
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* TestClock.adjust("1 millis")
      const page = yield* Fiber.join(fiber)
      expect(page.Rooms).toHaveLength(10)
      // Call 2 has no delay: it completes without the clock moving.
      const second = yield* Effect.fork(service.listRooms({ AccountId: account }))
      yield* Effect.yieldNow()
      expect(Option.isSome(yield* Fiber.poll(second))).toBe(true)
    }))

  it.effect("Slow delays the answer on the Clock too, and delays combine with errors", () =>
    Effect.gen(function*() {
      const { service } = yield* withService({
        faults: [
          { calls: [1], fault: Fault.slow("2 seconds") },
          { calls: [2], fault: Fault.delay("1 second") },
          { calls: [2], fault: Fault.unavailable("7 seconds") }
        ]
      })
      const slow = yield* Effect.fork(service.listRooms({ AccountId: account }))
      yield* TestClock.adjust("1999 millis")
      expect(Option.isNone(yield* Fiber.poll(slow))).toBe(true)
      yield* TestClock.adjust("1 millis")
      expect((yield* Fiber.join(slow)).Rooms).toHaveLength(10)

      const delayed = yield* Effect.fork(Effect.either(service.listRooms({ AccountId: account })))
      yield* TestClock.adjust("999 millis")
      expect(Option.isNone(yield* Fiber.poll(delayed))).toBe(true)
      yield* TestClock.adjust("1 millis")
      const result = yield* Fiber.join(delayed)
      expect(Either.isLeft(result) && result.left).toMatchObject({
        _tag: "ServiceUnavailableException",
        retryAfter: Duration.seconds(7)
      })
    }))

  it.effect("same seed, same fault decisions and data; another seed, others", () =>
    Effect.gen(function*() {
      const outcomes = (seed: number) =>
        Effect.gen(function*() {
          const dataset = Dataset.generate({ seed, roomsPerAccount: 300 })
          const { log, service } = yield* InMemory.make({
            dataset,
            seed,
            faults: [{ rate: 0.3, fault: Fault.unavailable() }, { rate: 0.1, fault: Fault.transport }]
          })
          for (let i = 0; i < 60; i++) {
            yield* Effect.either(service.listRooms({ AccountId: dataset.accounts[0]!, MaxResults: 5 }))
          }
          return (yield* log.entries).map((e) =>
            e.outcome._tag === "Page"
              ? `page:${e.outcome.rooms}`
              : e.outcome._tag === "Failure"
              ? e.outcome.error
              : "interrupted"
          ).concat(Dataset.allRooms(dataset, dataset.accounts[0]!).slice(0, 5).map((r) => r.RoomId!))
        })
      const a = yield* outcomes(1)
      const b = yield* outcomes(1)
      const c = yield* outcomes(2)
      expect(a).toEqual(b)
      expect(c).not.toEqual(a)
      expect(a.filter((o) => o === "ServiceUnavailableException").length).toBeGreaterThan(5)
      expect(a.filter((o) => o === "TransportError").length).toBeGreaterThan(0)
    }))

  it.effect("accepts a FaultScript parsed from --fault specs", () =>
    Effect.gen(function*() {
      const script = FaultScript.fromSpecs(["429@2:retry-after=2", "loop@3"])
      if (Either.isLeft(script)) return yield* Effect.die(script.left)
      const { log, service } = yield* withService({ faults: script.right })
      const first = yield* service.listRooms({ AccountId: account })
      const throttled = yield* errorOf(service.listRooms({ AccountId: account, NextToken: first.NextToken! }))
      expect(throttled).toMatchObject({ _tag: "ThrottledClientException", retryAfter: Duration.seconds(2) })
      const looped = yield* service.listRooms({ AccountId: account, NextToken: first.NextToken! })
      expect(looped.NextToken).toBe(first.NextToken)
      expect((yield* log.entries).map((e) => e.faults.map(Fault.describe))).toEqual([[], ["429:retry-after=2s"], [
        "loop"
      ]])
    }))
})

describe("CallLog", () => {
  it.effect("records each request, its request id, faults and outcome; clear forgets them", () =>
    Effect.gen(function*() {
      const { log, service } = yield* withService({ faults: [{ calls: [2], fault: Fault.throttled("1 second") }] })
      const first = yield* service.listRooms({ AccountId: account, MaxResults: 50 })
      yield* Effect.either(service.listRooms({ AccountId: account, MaxResults: 50, NextToken: first.NextToken! }))
      yield* service.listRooms({ AccountId: account, MaxResults: 50, NextToken: first.NextToken! })
      const entries = yield* log.entries
      expect(entries).toEqual([
        {
          call: 1,
          requestId: "req-000001",
          request: { AccountId: account, MaxResults: 50 },
          faults: [],
          outcome: { _tag: "Page", rooms: 50, nextToken: first.NextToken }
        },
        {
          call: 2,
          requestId: "req-000002",
          request: { AccountId: account, MaxResults: 50, NextToken: first.NextToken },
          faults: [Fault.throttled("1 second")],
          outcome: { _tag: "Failure", error: "ThrottledClientException", status: 429 }
        },
        {
          call: 3,
          requestId: "req-000003",
          request: { AccountId: account, MaxResults: 50, NextToken: first.NextToken },
          faults: [],
          outcome: { _tag: "Page", rooms: 7 }
        }
      ])
      yield* log.clear
      expect(yield* log.entries).toEqual([])
      yield* service.listRooms({ AccountId: account })
      expect((yield* log.entries).map((e) => e.requestId)).toEqual(["req-000004"])
    }))

  it.effect("records an interrupted call (a client timeout during a delay)", () =>
    Effect.gen(function*() {
      const { log, service } = yield* withService({ faults: [{ calls: [1], fault: Fault.delay("1 minute") }] })
      const result = yield* Effect.fork(Effect.timeout(service.listRooms({ AccountId: account }), "10 seconds"))
      yield* TestClock.adjust("10 seconds")
      const exit = yield* Fiber.await(result)
      expect(Exit.isFailure(exit)).toBe(true)
      expect((yield* log.entries).map((e) => e.outcome)).toEqual([{ _tag: "Interrupted" }])
    }))

  it.effect("the layer provides ChimeRooms and CallLog of one instance, with a custom request id prefix", () =>
    Effect.gen(function*() {
      const page = yield* ChimeRooms.listRooms({ AccountId: account })
      expect(page.$metadata.requestId).toBe("mem-000001")
      const entries = yield* InMemory.callLogEntries
      expect(entries).toHaveLength(1)
      expect(entries[0]!.outcome).toEqual({ _tag: "Page", rooms: 10, nextToken: page.NextToken })
    }).pipe(Effect.provide(InMemory.layer({ dataset: data, requestIdPrefix: "mem-" }))))

  it.effect("refuses a bad pageSize as a defect", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(InMemory.make({ pageSize: 0 }))
      expect(Exit.isFailure(exit)).toBe(true)
    }))
})
