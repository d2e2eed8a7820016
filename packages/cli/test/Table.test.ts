import { describe, expect, it } from "@effect/vitest"
import { DateTime } from "effect"
import { printable, printableJson } from "../src/Printable.js"
import { jsonLine, tableHeader, tableRow } from "../src/Table.js"

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
    // A bidi override would reverse the rest of the row on screen.
    expect(tableRow({ RoomId: "r-1", CreatedBy: "arn\u202eevil\u2066" })).toContain("arn?evil?")
  })

  it("makes text printable: C0, DEL, C1 and bidi controls become ?, the rest stays", () => {
    expect(printable("a\u0000\t\n\r\u001b[31m\u007f\u0085\u009b2J\u061c\u200e\u200f\u202a\u202e\u2066\u2069z")).toBe(
      "a?????[31m???2J???????z"
    )
    expect(printable("Zoë · 会議室 — ok…")).toBe("Zoë · 会議室 — ok…")
  })

  it("writes JSON lines without a raw control character, the same value when parsed", () => {
    const hostile = { RoomId: "r-1", Name: "a\u001b[2J\u007f\u009b31m\u202eb\u2069", CreatedBy: "Zoë\n\u0085" }
    const line = jsonLine(hostile)
    // eslint-disable-next-line no-control-regex
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/)
    expect(line).toContain("\\u009b31m\\u202eb\\u2069")
    expect(JSON.parse(line)).toEqual(hostile)
    expect(printableJson("{\"a\":\"\u200f\"}")).toBe("{\"a\":\"\\u200f\"}")
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
