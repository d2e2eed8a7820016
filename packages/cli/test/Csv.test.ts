import { Room } from "@chime-rooms/core"
import { Dataset } from "@chime-rooms/testing"
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, Schema } from "effect"
import { execFileSync } from "node:child_process"
import { csvField, csvHeader, csvRow } from "../src/Csv.js"
import { ExitCode } from "../src/Io.js"
import { run } from "../src/Run.js"
import { capture } from "./support.js"

/** Reads CSV text with Python's `csv` module (bytes as they are: no newline translation) into rows. */
const pythonRows = (csv: string): Array<Array<string>> =>
  JSON.parse(
    execFileSync(
      "python3",
      [
        "-c",
        "import csv, io, json, sys\n" +
        "rows = list(csv.reader(io.TextIOWrapper(sys.stdin.buffer, encoding='utf-8', newline=''), strict=True))\n" +
        "sys.stdout.write(json.dumps(rows))"
      ],
      { input: csv, encoding: "utf8" }
    )
  )

const names = [
  "Ops, night shift",
  "The \"quoted\" room",
  "two\nlines",
  "windows\r\nline end",
  "a lone\rCR",
  "\"\"",
  "",
  " leading and trailing ",
  "tab\there",
  "Zoë · 会議室 — 🎉",
  "all of it: , \" \r\n \n \" ,",
  "=1+2"
]

describe("Csv", () => {
  it("quotes a field holding a comma, a quote, CR or LF, doubling its quotes; leaves the rest as it is", () => {
    expect(csvField("plain")).toBe("plain")
    expect(csvField("")).toBe("")
    expect(csvField("a,b")).toBe("\"a,b\"")
    expect(csvField("say \"hi\"")).toBe("\"say \"\"hi\"\"\"")
    expect(csvField("a\nb")).toBe("\"a\nb\"")
    expect(csvField("a\rb")).toBe("\"a\rb\"")
    expect(csvField(" spaced ")).toBe(" spaced ")
    expect(csvField("tab\tkept")).toBe("tab\tkept")
    expect(csvHeader()).toBe("AccountId,CreatedBy,CreatedTimestamp,Name,RoomId,UpdatedTimestamp")
  })

  it("replaces the control characters that act on a terminal, but tab, CR and LF, by ?", () => {
    expect(csvField("a\u001b[2J\u0007\u007f\u009b31m\u202eb\u2066\u0000")).toBe("a?[2J???31m?b??")
    expect(csvField("x\u001b]0;owned\u0007,y")).toBe("\"x?]0;owned?,y\"")
  })

  it("writes a room in the wire form, an absent field empty", () => {
    const room = Schema.decodeSync(Room.Room)({
      AccountId: "acc",
      CreatedTimestamp: "2019-12-02T22:29:31.549Z",
      Name: "Ops, \"night\"",
      RoomId: "r-1"
    })
    expect(csvRow(room)).toBe("acc,,2019-12-02T22:29:31.549Z,\"Ops, \"\"night\"\"\",r-1,")
    expect(csvRow({ RoomId: "r-2", UpdatedTimestamp: DateTime.unsafeMake("2020-01-01T00:00:00.000Z") })).toBe(
      ",,,,r-2,2020-01-01T00:00:00.000Z"
    )
  })

  it.live("`list --format csv`: names with commas, quotes and line breaks round-trip through Python's csv module", () =>
    Effect.gen(function*() {
      const rooms = names.map((Name, i) => ({
        RoomId: `r-${i}`,
        Name,
        CreatedBy: `arn:aws:iam::111122223333:user/u${i}`,
        CreatedTimestamp: "2019-12-02T22:29:31.549Z",
        UpdatedTimestamp: "2019-12-02T22:33:19.310Z"
      }))
      // Some rooms without every field: absent is empty.
      rooms.push({ RoomId: "r-sparse", Name: "sparse" } as (typeof rooms)[number])
      const dataset = Dataset.fromRooms({ acc: { rooms } })
      const io = capture()
      expect(yield* run(["list", "--format", "csv", "--max-results", "5"], io, { dataset })).toBe(ExitCode.ok)
      const expected = [
        ["AccountId", "CreatedBy", "CreatedTimestamp", "Name", "RoomId", "UpdatedTimestamp"],
        ...Dataset.allRooms(dataset, "acc").map((room) =>
          [room.AccountId, room.CreatedBy, room.CreatedTimestamp, room.Name, room.RoomId, room.UpdatedTimestamp].map(
            (value) => value ?? ""
          )
        )
      ]
      expect(expected[4]![3]).toBe("windows\r\nline end")
      expect(pythonRows(io.stdout())).toEqual(expected)
      // Every row, the last one too, ends with CRLF; a bare LF is only ever inside a quoted field.
      expect(io.stdout().endsWith("\r\n")).toBe(true)
      expect(io.stdout().startsWith(`${csvHeader()}\r\n`)).toBe(true)
    }))
})
