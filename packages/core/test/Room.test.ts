import { describe, expect, it } from "@effect/vitest"
import { DateTime, Either, Schema } from "effect"
import { decodeListRoomsResponse, ListRoomsResponse, Room } from "@chime-rooms/core"

const sample =
  '{"NextToken":null,"Rooms":[{"AccountId":"12a3456b-7c89-012d-3456-78901e23fg45","CreatedBy":"arn:aws:iam::111122223333:user/alejandro","CreatedTimestamp":"2019-12-02T22:29:31.549Z","Name":"chatRoom","RoomId":"abcd1e2d-3e45-6789-01f2-3g45h67i890j","UpdatedTimestamp":"2019-12-02T22:33:19.310Z"}]}'

describe("Room", () => {
  it("decodes the service's sample response", () => {
    const page = Schema.decodeUnknownSync(ListRoomsResponse)(JSON.parse(sample))
    expect(page.NextToken).toBeUndefined()
    expect(page.Rooms).toHaveLength(1)
    const room = page.Rooms[0]!
    expect(room.AccountId).toBe("12a3456b-7c89-012d-3456-78901e23fg45")
    expect(room.Name).toBe("chatRoom")
    expect(DateTime.isDateTime(room.CreatedTimestamp)).toBe(true)
    expect(DateTime.toEpochMillis(room.CreatedTimestamp!)).toBe(Date.UTC(2019, 11, 2, 22, 29, 31, 549))
    expect(room.UpdatedTimestamp?._tag).toBe("Utc")
    const fast = decodeListRoomsResponse(JSON.parse(sample))
    expect(Either.getOrThrow(fast)).toEqual(page)
  })
})
