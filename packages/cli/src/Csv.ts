/**
 * Rooms as CSV (RFC 4180), one row at a time: a header row naming the room's fields in
 * `roomFields` order, then one row per room in the service's wire form (timestamps as ISO 8601
 * strings, an absent field empty), every line ended by CRLF. A field holding a comma, a double
 * quote, CR or LF is quoted, its double quotes doubled, so that commas, quotes and line breaks in a
 * room's `Name` come back unchanged from any CSV reader.
 *
 * CSV, like JSON, is data for programs, but it has no escape: what the service sent is written as
 * it is, except the control characters that act on a terminal showing the file (`cat rooms.csv`):
 * every character `Printable.printable` replaces but tab, LF and CR becomes `?`, as on the table. Tab
 * and line breaks are ordinary text and kept; for every value exactly, use `--format json`.
 *
 * @since 0.1.0
 */
import { Room } from "@chime-rooms/core"
import { Schema } from "effect"
import { printableLines } from "./Printable.js"

/**
 * One value as a CSV field: quoted when it holds `,`, `"`, CR or LF.
 *
 * @example
 * ```ts
 * import { Csv } from "@chime-rooms/cli"
 *
 * Csv.csvField("Ops, \"night\"") // '"Ops, ""night"""'
 * ```
 *
 * @category formatting
 * @since 0.1.0
 */
export const csvField = (value: string): string => {
  const text = printableLines(value)
  return /[",\r\n]/.test(text) ? `"${text.replaceAll("\"", "\"\"")}"` : text
}

/**
 * The header row, without its line end: the room's fields in `roomFields` order.
 *
 * @category formatting
 * @since 0.1.0
 */
export const csvHeader = (): string => Room.roomFields.join(",")

const encodeRoom = Schema.encodeSync(Room.Room)

/**
 * One room as a CSV row, without its line end, in the columns of {@link csvHeader}.
 *
 * @category formatting
 * @since 0.1.0
 */
export const csvRow = (room: Room.Room): string => {
  const wire: Record<string, unknown> = encodeRoom(room)
  return Room.roomFields.map((field) => {
    const value = wire[field]
    return value === undefined || value === null ? "" : csvField(String(value))
  }).join(",")
}

/**
 * The line end of every row, the header's too: CRLF, as RFC 4180 says.
 *
 * @category constants
 * @since 0.1.0
 */
export const csvLineEnd = "\r\n"
