import { ListRoomsResponse, Room, Timestamp } from "@chime-rooms/core"
import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, DateTime, Either, FastCheck, ParseResult, Schema } from "effect"

const sample =
  "{\"NextToken\":null,\"Rooms\":[{\"AccountId\":\"12a3456b-7c89-012d-3456-78901e23fg45\",\"CreatedBy\":\"arn:aws:iam::111122223333:user/alejandro\",\"CreatedTimestamp\":\"2019-12-02T22:29:31.549Z\",\"Name\":\"chatRoom\",\"RoomId\":\"abcd1e2d-3e45-6789-01f2-3g45h67i890j\",\"UpdatedTimestamp\":\"2019-12-02T22:33:19.310Z\"}]}"

const decodeRoom = Schema.decodeUnknownEither(Room.Room)
const decodePage = Schema.decodeUnknownEither(ListRoomsResponse.ListRoomsResponse)

describe("Room", () => {
  it("decodes the service's sample response to DateTime.Utc times", () => {
    const page = Schema.decodeUnknownSync(ListRoomsResponse.ListRoomsResponse)(JSON.parse(sample))
    expect(page.NextToken).toBeUndefined()
    expect(page.Rooms).toHaveLength(1)
    const room = page.Rooms[0]!
    expect(room).toEqual({
      AccountId: "12a3456b-7c89-012d-3456-78901e23fg45",
      CreatedBy: "arn:aws:iam::111122223333:user/alejandro",
      CreatedTimestamp: DateTime.unsafeMake("2019-12-02T22:29:31.549Z"),
      Name: "chatRoom",
      RoomId: "abcd1e2d-3e45-6789-01f2-3g45h67i890j",
      UpdatedTimestamp: DateTime.unsafeMake("2019-12-02T22:33:19.310Z")
    })
    expect(DateTime.isDateTime(room.CreatedTimestamp)).toBe(true)
    expect(room.CreatedTimestamp?._tag).toBe("Utc")
    expect(DateTime.toEpochMillis(room.CreatedTimestamp!)).toBe(Date.UTC(2019, 11, 2, 22, 29, 31, 549))
    expect(DateTime.toEpochMillis(room.UpdatedTimestamp!)).toBe(Date.UTC(2019, 11, 2, 22, 33, 19, 310))
  })

  it("encodes back to the same wire strings (round trip)", () => {
    const wire = JSON.parse(sample).Rooms[0]
    const room = Schema.decodeUnknownSync(Room.Room)(wire)
    expect(Schema.encodeSync(Room.Room)(room)).toEqual(wire)
  })

  it("drops null members, as the AWS SDK does", () => {
    const wire = {
      AccountId: null,
      CreatedBy: null,
      CreatedTimestamp: null,
      Name: null,
      RoomId: "r",
      UpdatedTimestamp: null
    }
    expect(Schema.decodeUnknownSync(Room.Room)(wire)).toStrictEqual({ RoomId: "r" })
    expect(ListRoomsResponse.decode({ Rooms: [wire] })).toStrictEqual(Either.right({ Rooms: [{ RoomId: "r" }] }))
  })

  it("ignores unknown extra fields", () => {
    const room = Schema.decodeUnknownSync(Room.Room)({ RoomId: "r", Extra: 1, Nested: { a: 1 } })
    expect(room).toEqual({ RoomId: "r" })
  })

  it("accepts any subset of its members", () => {
    expect(Schema.decodeUnknownSync(Room.Room)({})).toEqual({})
    expect(Schema.decodeUnknownSync(Room.Room)({ Name: "n" })).toEqual({ Name: "n" })
    expect(Schema.decodeUnknownSync(Room.Room)({ CreatedTimestamp: "2020-01-01T00:00:00Z" }).CreatedTimestamp).toEqual(
      DateTime.unsafeMake(Date.UTC(2020, 0, 1))
    )
  })

  it("rejects a malformed timestamp with a typed error, not a throw", () => {
    for (const bad of ["yesterday", "2019-12-02", "2019-13-02T22:29:31.549Z", "Dec 2 2019", "", 1575325771]) {
      const result = decodeRoom({ CreatedTimestamp: bad })
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isLeft(result)) expect(ParseResult.isParseError(result.left)).toBe(true)
      expect(Either.isLeft(ListRoomsResponse.decode({ Rooms: [{ CreatedTimestamp: bad }] }))).toBe(true)
    }
  })

  it("decodes offsets to UTC", () => {
    const room = Schema.decodeUnknownSync(Room.Room)({ UpdatedTimestamp: "2019-12-02T23:29:31.549+01:00" })
    expect(Schema.encodeSync(Timestamp.Timestamp)(room.UpdatedTimestamp!)).toBe("2019-12-02T22:29:31.549Z")
  })
})

describe("ListRoomsResponse", () => {
  it("treats NextToken null, absent and empty as the last page", () => {
    for (const body of [{ NextToken: null }, {}, { NextToken: "" }]) {
      expect(decodePage(body)).toEqual(Either.right({ Rooms: [] }))
      expect(ListRoomsResponse.decode(body)).toEqual(Either.right({ Rooms: [] }))
    }
    expect(decodePage({ NextToken: "t", Rooms: [] })).toEqual(Either.right({ NextToken: "t", Rooms: [] }))
  })

  it("reads a null Rooms as no rooms and drops a null in the room list", () => {
    for (
      const body of [{ Rooms: null }, { NextToken: null, Rooms: null }, { Rooms: [null] }, { Rooms: [null, null] }]
    ) {
      expect(decodePage(body)).toEqual(Either.right({ Rooms: [] }))
      expect(ListRoomsResponse.decode(body)).toEqual(Either.right({ Rooms: [] }))
    }
    const body = { NextToken: "t", Rooms: [null, { RoomId: "a" }, null, { RoomId: "b", Name: null }, null] }
    const expected = { NextToken: "t", Rooms: [{ RoomId: "a" }, { RoomId: "b" }] }
    expect(decodePage(body)).toStrictEqual(Either.right(expected))
    expect(ListRoomsResponse.decode(body)).toStrictEqual(Either.right(expected))
    // Positions in messages are those on the wire, nulls counted.
    expect(ListRoomsResponse.decode({ Rooms: [null, { RoomId: 1 }] })).toEqual(
      Either.left("Rooms[1].RoomId: expected a string or null")
    )
  })

  it("rejects the wrong shape", () => {
    for (
      const body of [
        null,
        [],
        "x",
        5,
        true,
        { Rooms: {} },
        { Rooms: "x" },
        { Rooms: [1] },
        { Rooms: [[]] },
        { Rooms: ["r"] },
        { NextToken: 5 },
        { NextToken: {} },
        { Rooms: [{ RoomId: 1 }] },
        { Rooms: [{ Name: true }] },
        { Rooms: [{ CreatedTimestamp: 1575325771549 }] },
        { Rooms: [{ UpdatedTimestamp: {} }] }
      ]
    ) {
      expect(Either.isLeft(decodePage(body))).toBe(true)
      expect(Either.isLeft(ListRoomsResponse.decode(body))).toBe(true)
    }
  })

  it("the one-pass decoder never puts a room Name in its message", () => {
    const secretName = "Board meeting: layoffs"
    const result = ListRoomsResponse.decode({
      Rooms: [{ Name: secretName, CreatedTimestamp: secretName }, { Name: 5 }]
    })
    expect(result).toEqual(Either.left("Rooms[0].CreatedTimestamp: expected an RFC 3339 date-time string or null"))
    expect(ListRoomsResponse.decode({ Rooms: [{}, { Name: { secretName } }] })).toEqual(
      Either.left("Rooms[1].Name: expected a string or null")
    )
  })

  it("the one-pass decoder agrees with the Schema on arbitrary pages", () => {
    const wirePage = Arbitrary.make(Schema.encodedSchema(ListRoomsResponse.ListRoomsResponse))
    const pad = (n: number, width: number) => String(n).padStart(width, "0")
    const timestamp = FastCheck.date({ min: new Date(0), max: new Date(4102444800000), noInvalidDate: true }).map((d) =>
      d.toISOString()
    )
    // Every form: impossible dates, hour 24, second 60, either case, fractions of 0..12 digits, offsets.
    const anyForm = FastCheck.tuple(
      FastCheck.integer({ min: 0, max: 9999 }),
      FastCheck.integer({ min: 0, max: 13 }),
      FastCheck.integer({ min: 0, max: 32 }),
      FastCheck.integer({ min: 0, max: 24 }),
      FastCheck.integer({ min: 0, max: 60 }),
      FastCheck.integer({ min: 0, max: 61 }),
      FastCheck.stringMatching(/^\d{0,12}$/),
      FastCheck.constantFrom("T", "t", " "),
      FastCheck.constantFrom("Z", "z", "+01:00", "-13:45", "+99:99", "")
    ).map(([y, mo, d, h, mi, s, fraction, t, zone]) =>
      `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}${t}${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}${
        fraction === "" ? "" : "." + fraction
      }${zone}`
    )
    const noise = FastCheck.oneof(
      FastCheck.string(),
      FastCheck.integer(),
      FastCheck.constant(null),
      FastCheck.constant([]),
      timestamp,
      anyForm
    )
    const room = FastCheck.oneof(
      {
        weight: 8,
        arbitrary: FastCheck.dictionary(
          FastCheck.constantFrom(
            "AccountId",
            "CreatedBy",
            "CreatedTimestamp",
            "Name",
            "RoomId",
            "UpdatedTimestamp",
            "Other"
          ),
          noise
        )
      },
      { weight: 1, arbitrary: FastCheck.constant(null) },
      { weight: 1, arbitrary: noise }
    )
    const page = FastCheck.record(
      {
        NextToken: FastCheck.oneof(FastCheck.string(), FastCheck.constant(null), FastCheck.integer()),
        Rooms: FastCheck.oneof({ weight: 8, arbitrary: FastCheck.array(room) }, { weight: 1, arbitrary: noise })
      },
      { requiredKeys: [] }
    )
    FastCheck.assert(
      FastCheck.property(FastCheck.oneof(wirePage, page), (body) => {
        const expected = decodePage(body)
        const actual = ListRoomsResponse.decode(body)
        expect(Either.isRight(actual)).toBe(Either.isRight(expected))
        // toEqual: the Schema keeps an explicit `undefined` member (never in JSON) that the one-pass decoder drops.
        if (Either.isRight(actual) && Either.isRight(expected)) expect(actual.right).toEqual(expected.right)
      }),
      { numRuns: 1000 }
    )
  })
})
