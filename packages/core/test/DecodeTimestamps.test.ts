import { ListRoomsResponse } from "@chime-rooms/core"
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Either, Equal, Hash, Schema } from "effect"

describe("one-pass decoder timestamps", () => {
  it("are DateTime.Utc values indistinguishable from the Schema's", () => {
    const wire = {
      Rooms: [
        { RoomId: "a", CreatedTimestamp: "2019-12-02T22:29:31.549Z", UpdatedTimestamp: "2020-02-29T23:59:59.999Z" },
        { RoomId: "b", CreatedTimestamp: "2019-12-02T23:29:31.5+01:00" },
        {
          RoomId: "c",
          CreatedTimestamp: "2019-12-02t23:59:59.123456789012z",
          UpdatedTimestamp: "2016-12-31T23:59:60.000Z"
        },
        null,
        { RoomId: "d", CreatedTimestamp: null, UpdatedTimestamp: "0050-06-30T12:00:00-99:99" }
      ]
    }
    const fast = Either.getOrThrow(ListRoomsResponse.decode(wire))
    const slow = Schema.decodeUnknownSync(ListRoomsResponse.ListRoomsResponse)(wire)
    for (let i = 0; i < fast.Rooms.length; i++) {
      for (const key of ["CreatedTimestamp", "UpdatedTimestamp"] as const) {
        const a = fast.Rooms[i]![key]
        const b = slow.Rooms[i]![key]
        if (a === undefined || b === undefined) {
          expect(a).toBe(b)
          continue
        }
        expect(DateTime.isDateTime(a) && DateTime.isUtc(a)).toBe(true)
        expect(Equal.equals(a, b)).toBe(true)
        expect(Hash.hash(a)).toBe(Hash.hash(b))
        expect(DateTime.formatIso(a)).toBe(DateTime.formatIso(b))
        expect(DateTime.toPartsUtc(a)).toEqual(DateTime.toPartsUtc(b))
        expect(JSON.stringify(a)).toBe(JSON.stringify(b))
        expect(String(a)).toBe(String(b))
        expect(Object.keys(a)).toEqual(Object.keys(b))
        expect(Schema.encodeSync(ListRoomsResponse.ListRoomsResponse)(fast)).toEqual(
          Schema.encodeSync(ListRoomsResponse.ListRoomsResponse)(slow)
        )
      }
    }
  })
})
