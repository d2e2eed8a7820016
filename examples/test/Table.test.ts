import { describe, expect, it } from "@effect/vitest"
import { DateTime } from "effect"
import { jsonLine, tableHeader, tableRow } from "../src/cli/Table.js"

const room = {
  AccountId: "acc",
  CreatedBy: "arn:aws:iam::111122223333:user/alejandro",
  CreatedTimestamp: DateTime.unsafeMake("2019-12-02T22:29:31.549Z"),
  Name: "chat\u001b[2JRoom",
  RoomId: "abcd1e2d-3e45-6789-01f2-3g45h67i890j",
  UpdatedTimestamp: DateTime.unsafeMake("2019-12-02T22:33:19.310Z")
}

describe("Table", () => {
  it("prints fixed-width rows without terminal control characters", () => {
    expect(tableHeader().startsWith("ROOM ID")).toBe(true)
    const row = tableRow(room)
    expect(row).toContain("abcd1e2d-3e45-6789-01f2-3g45h67i890j  chat?[2JRoom")
    expect(row).toContain("2019-12-02T22:29:31Z")
    expect(row).not.toContain("\u001b")
    expect(tableRow({ RoomId: "x".repeat(50) })).toContain(`${"x".repeat(35)}…`)
  })

  it("writes JSON lines in the service's field names and wire format", () => {
    expect(JSON.parse(jsonLine(room))).toEqual({
      AccountId: "acc",
      CreatedBy: "arn:aws:iam::111122223333:user/alejandro",
      CreatedTimestamp: "2019-12-02T22:29:31.549Z",
      Name: "chat\u001b[2JRoom",
      RoomId: "abcd1e2d-3e45-6789-01f2-3g45h67i890j",
      UpdatedTimestamp: "2019-12-02T22:33:19.310Z"
    })
  })
})
