import { BadRequestException, ChimeClient, ListRoomsCommand, paginateListRooms, type Room } from "@aws-sdk/client-chime"
import { Dataset, Emulator } from "@chime-rooms/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"

// The SDK warns about Node 20 on every run; the warning says nothing about these tests.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true"

const dataset = Dataset.generate({ seed: 42, accounts: 2, roomsPerAccount: 250, membersPerAccount: 10 })

const clientFor = (emulator: Emulator.EmulatorService, secret?: string) =>
  new ChimeClient({
    endpoint: emulator.endpoint,
    region: emulator.region,
    maxAttempts: 1,
    credentials: {
      accessKeyId: emulator.credentials.accessKeyId,
      secretAccessKey: secret ?? Redacted.value(emulator.credentials.secretAccessKey)
    }
  })

describe("the AWS SDK for JavaScript against the emulator", () => {
  it.scoped("paginateListRooms lists exactly the seeded rooms of an account", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ dataset })
      const client = clientFor(emulator)
      const accountId = emulator.accounts[1]!
      const rooms = yield* Effect.promise(async () => {
        const out: Array<Room> = []
        for await (const page of paginateListRooms({ client, pageSize: 37 }, { AccountId: accountId })) {
          for (const room of page.Rooms ?? []) out.push(room)
        }
        return out
      })
      const expected = Dataset.allRooms(dataset, accountId)
      expect(rooms).toHaveLength(250)
      expect(rooms.map((r) => ({
        ...r,
        CreatedTimestamp: r.CreatedTimestamp?.toISOString(),
        UpdatedTimestamp: r.UpdatedTimestamp?.toISOString()
      }))).toEqual(expected)
      client.destroy()
    }))

  it.scoped("a wrong secret gets InvalidSignatureException, with the request id", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ dataset })
      const client = clientFor(emulator, "not-the-emulator-secret")
      const error = yield* Effect.flip(
        Effect.tryPromise(() => client.send(new ListRoomsCommand({ AccountId: emulator.accounts[0]! })))
      )
      const cause = error.cause as { name: string; $metadata: { httpStatusCode?: number; requestId?: string } }
      expect(cause.name).toBe("InvalidSignatureException")
      expect(cause.$metadata.httpStatusCode).toBe(403)
      expect(cause.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/)
      client.destroy()
    }))

  it.scoped("an unknown access key gets UnrecognizedClientException", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ dataset })
      const client = new ChimeClient({
        endpoint: emulator.endpoint,
        region: emulator.region,
        maxAttempts: 1,
        credentials: { accessKeyId: "AKIAUNKNOWNKEY000000", secretAccessKey: "whatever" }
      })
      const error = yield* Effect.flip(
        Effect.tryPromise(() => client.send(new ListRoomsCommand({ AccountId: emulator.accounts[0]! })))
      )
      expect((error.cause as Error).name).toBe("UnrecognizedClientException")
      client.destroy()
    }))

  it.scoped("MaxResults: 100 gets BadRequestException (the SDK does not validate it client-side)", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ dataset })
      const client = clientFor(emulator)
      const error = yield* Effect.flip(
        Effect.tryPromise(() =>
          client.send(new ListRoomsCommand({ AccountId: emulator.accounts[0]!, MaxResults: 100 }))
        )
      )
      expect(error.cause).toBeInstanceOf(BadRequestException)
      const cause = error.cause as BadRequestException
      expect(cause.Code).toBe("BadRequest")
      expect(cause.$metadata.httpStatusCode).toBe(400)
      expect(emulator.received().at(-1)?.query["max-results"]).toBe("100")
      client.destroy()
    }))

  it.scoped("an unknown account gets NotFoundException; a member filter gets the member's rooms", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ dataset })
      const client = clientFor(emulator)
      const error = yield* Effect.flip(
        Effect.tryPromise(() => client.send(new ListRoomsCommand({ AccountId: "no such/account" })))
      )
      expect((error.cause as Error).name).toBe("NotFoundException")
      expect(emulator.received().at(-1)?.path).toBe("/accounts/no%20such%2Faccount/rooms")
      const accountId = emulator.accounts[0]!
      const member = dataset.members(accountId)[3]!
      const rooms = yield* Effect.promise(async () => {
        const out: Array<Room> = []
        for await (
          const page of paginateListRooms({ client }, { AccountId: accountId, MemberId: member, MaxResults: 7 })
        ) {
          for (const room of page.Rooms ?? []) out.push(room)
        }
        return out
      })
      const expected = (dataset.memberRooms(accountId, member) ?? []).map((i) => dataset.room(accountId, i).RoomId)
      expect(expected.length).toBeGreaterThan(0)
      expect(rooms.map((r) => r.RoomId)).toEqual(expected)
      client.destroy()
    }))

  it.scoped("temporary credentials: the SDK's x-amz-security-token is checked", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({
        dataset,
        credentials: [{
          accessKeyId: "ASIAEMULATORTEMP0001",
          secretAccessKey: Redacted.make("temporary/secret+key"),
          sessionToken: Redacted.make("session-token-value")
        }]
      })
      const clientWith = (sessionToken: string) =>
        new ChimeClient({
          endpoint: emulator.endpoint,
          region: emulator.region,
          maxAttempts: 1,
          credentials: { accessKeyId: "ASIAEMULATORTEMP0001", secretAccessKey: "temporary/secret+key", sessionToken }
        })
      const good = clientWith("session-token-value")
      const page = yield* Effect.promise(() =>
        good.send(new ListRoomsCommand({ AccountId: emulator.accounts[0]!, MaxResults: 5 }))
      )
      expect(page.Rooms).toHaveLength(5)
      const bad = clientWith("another-token")
      const error = yield* Effect.flip(
        Effect.tryPromise(() => bad.send(new ListRoomsCommand({ AccountId: emulator.accounts[0]! })))
      )
      expect((error.cause as Error).name).toBe("UnrecognizedClientException")
      good.destroy()
      bad.destroy()
    }))

  it.scoped("a server clock 10 minutes ahead: the SDK corrects its clock from the Date header and retries", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ dataset, clockOffset: "10 minutes" })
      const client = new ChimeClient({
        endpoint: emulator.endpoint,
        region: emulator.region,
        maxAttempts: 3,
        credentials: {
          accessKeyId: emulator.credentials.accessKeyId,
          secretAccessKey: Redacted.value(emulator.credentials.secretAccessKey)
        }
      })
      const page = yield* Effect.promise(() =>
        client.send(new ListRoomsCommand({ AccountId: emulator.accounts[0]!, MaxResults: 3 }))
      )
      expect(page.Rooms).toHaveLength(3)
      const outcomes = emulator.received().map((r) => r.outcome?.status)
      expect(outcomes).toEqual([403, 200])
      client.destroy()
    }))
})
