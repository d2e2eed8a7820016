/**
 * Rendering rooms for a terminal or a pipe, one row at a time (nothing is buffered: the listing
 * may hold millions of rooms).
 *
 * @since 0.1.0
 */
import { Room } from "@chime-rooms/core"
import { DateTime, Schema } from "effect"
import { printable, printableJson } from "./Printable.js"

const columns = [
  { title: "ROOM ID", width: 36, cell: (room: Room.Room) => room.RoomId ?? "" },
  { title: "NAME", width: 28, cell: (room: Room.Room) => room.Name ?? "" },
  { title: "CREATED BY", width: 44, cell: (room: Room.Room) => room.CreatedBy ?? "" },
  { title: "CREATED", width: 20, cell: (room: Room.Room) => time(room.CreatedTimestamp) },
  { title: "UPDATED", width: 20, cell: (room: Room.Room) => time(room.UpdatedTimestamp) }
] as const

const time = (t: DateTime.Utc | undefined) => (t === undefined ? "" : DateTime.formatIso(t).slice(0, 19) + "Z")

// Control characters from the service must not move the cursor on the user's terminal.
const fit = (s: string, width: number) => {
  const clean = printable(s)
  return clean.length > width ? `${clean.slice(0, width - 1)}…` : clean.padEnd(width)
}

/**
 * The header line of the table.
 *
 * @category formatting
 * @since 0.1.0
 */
export const tableHeader = (): string => columns.map((c) => c.title.padEnd(c.width)).join("  ").trimEnd()

/**
 * One room as a table row of fixed-width columns.
 *
 * @category formatting
 * @since 0.1.0
 */
export const tableRow = (room: Room.Room): string => columns.map((c) => fit(c.cell(room), c.width)).join("  ").trimEnd()

const encodeRoom = Schema.encodeSync(Room.Room)

/**
 * One room as one line of JSON in the service's field names (timestamps as ISO strings), every
 * control character in it escaped.
 *
 * @category formatting
 * @since 0.1.0
 */
export const jsonLine = (room: Room.Room): string => printableJson(JSON.stringify(encodeRoom(room)))
