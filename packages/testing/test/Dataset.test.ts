import { ListRoomsResponse, Room } from "@chime-rooms/core"
import { Dataset } from "@chime-rooms/testing"
import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { uuidOf } from "../src/internal/hash.js"

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const ARN = /^arn:aws:iam::\d{12}:user\/[a-z]+\.[a-z]+$/
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

describe("Dataset.generate", () => {
  it("gives the same data for the same seed and different data for another", () => {
    const a = Dataset.generate({ seed: 42, accounts: 2, roomsPerAccount: 50 })
    const b = Dataset.generate({ seed: 42, accounts: 2, roomsPerAccount: 50 })
    const c = Dataset.generate({ seed: 43, accounts: 2, roomsPerAccount: 50 })
    expect(a.accounts).toEqual(b.accounts)
    expect(a.generation).toBe(b.generation)
    for (const account of a.accounts) {
      expect(Dataset.allRooms(a, account)).toEqual(Dataset.allRooms(b, account))
      for (const member of a.members(account)) {
        expect(a.memberRooms(account, member)).toEqual(b.memberRooms(account, member))
      }
    }
    expect(c.accounts).not.toEqual(a.accounts)
    expect(c.generation).not.toBe(a.generation)
    expect(Dataset.allRooms(c, c.accounts[0]!).map((r) => r.RoomId)).not.toEqual(
      Dataset.allRooms(a, a.accounts[0]!).map((r) => r.RoomId)
    )
  })

  it("writes plausible rooms: UUID ids, IAM user ARNs, ISO timestamps with ms, Updated >= Created", () => {
    const data = Dataset.generate({ seed: 7, accounts: 3, roomsPerAccount: 400 })
    expect(data.accounts).toHaveLength(3)
    expect(new Set(data.accounts).size).toBe(3)
    for (const account of data.accounts) {
      expect(account).toMatch(UUID)
      expect(data.roomCount(account)).toBe(400)
      const rooms = Dataset.allRooms(data, account)
      expect(new Set(rooms.map((r) => r.RoomId)).size).toBe(400)
      for (const room of rooms) {
        expect(room.AccountId).toBe(account)
        expect(room.RoomId).toMatch(UUID)
        expect(room.CreatedBy).toMatch(ARN)
        expect(room.CreatedTimestamp).toMatch(ISO_MS)
        expect(room.UpdatedTimestamp).toMatch(ISO_MS)
        expect(Date.parse(room.UpdatedTimestamp!)).toBeGreaterThanOrEqual(Date.parse(room.CreatedTimestamp!))
        expect(room.Name).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+ \d+$/)
        // The wire form decodes with core's Schema.
        expect(Either.isRight(Schema.decodeUnknownEither(Room.Room)(room))).toBe(true)
      }
      // Rooms share a few creators per account, as in a real organisation.
      expect(new Set(rooms.map((r) => r.CreatedBy)).size).toBeLessThanOrEqual(8)
    }
    expect(data.roomCount("no-such-account")).toBeUndefined()
  })

  it("roomJson is the JSON of room()", () => {
    const data = Dataset.generate({ seed: 3, roomsPerAccount: 100 })
    const account = data.accounts[0]!
    for (let i = 0; i < 100; i++) {
      const text = Dataset.roomJson(data, account, i)
      expect(JSON.parse(text)).toEqual(data.room(account, i))
    }
    const page = JSON.parse(`{"Rooms":[${[0, 1, 2].map((i) => Dataset.roomJson(data, account, i)).join(",")}]}`)
    expect(Either.isRight(ListRoomsResponse.decode(page))).toBe(true)
  })

  it("computes memberships: sorted, in range, about the requested rate, unknown member = undefined", () => {
    const data = Dataset.generate({ seed: 11, roomsPerAccount: 2000, membersPerAccount: 10, membershipRate: 0.25 })
    const account = data.accounts[0]!
    const members = data.members(account)
    expect(members).toHaveLength(10)
    for (const member of members) {
      expect(member).toMatch(UUID)
      const rooms = data.memberRooms(account, member)!
      expect([...rooms].sort((x, y) => x - y)).toEqual(rooms)
      expect(new Set(rooms).size).toBe(rooms.length)
      expect(rooms.every((i) => Number.isInteger(i) && i >= 0 && i < 2000)).toBe(true)
      expect(rooms.length).toBeGreaterThan(2000 * 0.25 * 0.8)
      expect(rooms.length).toBeLessThan(2000 * 0.25 * 1.2)
      // Cached lists are returned again, equal.
      expect(data.memberRooms(account, member)).toEqual(rooms)
    }
    // Different members belong to different rooms.
    expect(data.memberRooms(account, members[0]!)).not.toEqual(data.memberRooms(account, members[1]!))
    expect(data.memberRooms(account, "not-a-member")).toBeUndefined()
    expect(data.memberRooms("not-an-account", members[0]!)).toBeUndefined()
    expect(data.members("not-an-account")).toEqual([])
  })

  it("defaults to about three members per room", () => {
    const data = Dataset.generate({ seed: 5, roomsPerAccount: 3000 })
    const account = data.accounts[0]!
    const total = data.members(account).reduce((n, m) => n + data.memberRooms(account, m)!.length, 0)
    expect(total / 3000).toBeGreaterThan(2.5)
    expect(total / 3000).toBeLessThan(3.5)
  })

  it("serves 100,000+ rooms per account without holding them: random reads are fast, memory stays flat", () => {
    const before = process.memoryUsage().heapUsed
    // Ten accounts of a million rooms: 10 million rooms would need gigabytes if materialised.
    const data = Dataset.generate({ seed: 99, accounts: 10, roomsPerAccount: 1_000_000 })
    const afterBuild = process.memoryUsage().heapUsed
    expect(afterBuild - before).toBeLessThan(2 * 1024 * 1024)

    const account = data.accounts[4]!
    expect(data.roomCount(account)).toBe(1_000_000)
    const started = performance.now()
    const positions: Array<number> = []
    let x = 12345
    for (let k = 0; k < 20_000; k++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0
      positions.push(x % 1_000_000)
    }
    const ids = positions.map((i) => data.room(account, i).RoomId)
    const elapsed = performance.now() - started
    // 20,000 random rooms; generous bound for a slow CI machine (measured ~40 ms here).
    expect(elapsed).toBeLessThan(2000)
    // Random access is stable: a room read again is the same room.
    expect(data.room(account, positions[17]!).RoomId).toBe(ids[17])
    expect(data.room(account, 999_999).RoomId).toMatch(UUID)
  })

  it("materialises one member's rooms of a 100,000-room account in a single pass", () => {
    const data = Dataset.generate({ seed: 2, roomsPerAccount: 100_000, membersPerAccount: 20 })
    const account = data.accounts[0]!
    const started = performance.now()
    const rooms = data.memberRooms(account, data.members(account)[3]!)!
    expect(performance.now() - started).toBeLessThan(1000)
    expect(rooms.length).toBeGreaterThan(100_000 * 0.15 * 0.9)
    expect(rooms.length).toBeLessThan(100_000 * 0.15 * 1.1)
  })
})

describe("generator internals", () => {
  it("uuidOf writes version-4-shaped UUIDs from its words", () => {
    expect(uuidOf(0x01234567, 0x89abcdef, 0x76543210, 0xfedcba98)).toBe("01234567-89ab-4def-b654-3210fedcba98")
    expect(uuidOf(0, 0, 0, 0)).toMatch(UUID)
    expect(uuidOf(-1, -1, -1, -1)).toMatch(UUID)
  })
})

describe("Dataset.fromRooms", () => {
  const fixture = {
    "acc-1": {
      rooms: [
        { RoomId: "r-1", Name: "One", CreatedTimestamp: "2020-01-01T00:00:00.000Z" },
        { RoomId: "r-2", Name: "Two" },
        { RoomId: "r-3", Name: "Three" }
      ],
      members: { "u-1": ["r-3", "r-1", "r-404"], "u-2": [] }
    },
    "acc-2": { rooms: [] }
  }

  it("serves the rooms as given, with memberships by RoomId (sorted, unknown ids ignored)", () => {
    const data = Dataset.fromRooms(fixture)
    expect(data.accounts).toEqual(["acc-1", "acc-2"])
    expect(data.roomCount("acc-1")).toBe(3)
    expect(data.roomCount("acc-2")).toBe(0)
    expect(data.roomCount("acc-3")).toBeUndefined()
    expect(data.room("acc-1", 1)).toEqual({ RoomId: "r-2", Name: "Two" })
    expect(data.memberRooms("acc-1", "u-1")).toEqual([0, 2])
    expect(data.memberRooms("acc-1", "u-2")).toEqual([])
    expect(data.memberRooms("acc-1", "u-3")).toBeUndefined()
    expect(data.members("acc-1")).toEqual(["u-1", "u-2"])
    expect(JSON.parse(Dataset.roomJson(data, "acc-1", 0))).toEqual(fixture["acc-1"].rooms[0])
  })

  it("derives its generation from the content", () => {
    expect(Dataset.fromRooms(fixture).generation).toBe(Dataset.fromRooms(fixture).generation)
    const edited = { ...fixture, "acc-2": { rooms: [{ RoomId: "r-9" }] } }
    expect(Dataset.fromRooms(edited).generation).not.toBe(Dataset.fromRooms(fixture).generation)
  })
})
