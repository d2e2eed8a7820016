import { type Room, Timestamp } from "@chime-rooms/core"
import type { ChimeRoomsStream } from "@chime-rooms/stream"
import * as DateTime from "effect/DateTime"

type RoomsPage = ChimeRoomsStream.RoomsPage

/** A `rooms` row as written. */
export type RoomRow = {
  readonly account_id: string
  readonly room_id: string
  readonly name: string | null
  readonly created_by: string | null
  readonly created_timestamp: string | null
  readonly updated_timestamp: string | null
  readonly snapshot: number
  readonly last_seen: string
}

/** A row's values in the order of the table's columns. */
export const columnsOf = (row: RoomRow): ReadonlyArray<string | number | null> => [
  row.account_id,
  row.room_id,
  row.name,
  row.created_by,
  row.created_timestamp,
  row.updated_timestamp,
  row.snapshot,
  row.last_seen
]

const iso = (dateTime: DateTime.Utc | undefined): string | null =>
  dateTime === undefined ? null : Timestamp.formatIsoMillis(DateTime.toEpochMillis(dateTime))

/** Whether a room can be keyed: it has a `RoomId` that is not empty. */
export const keyed = (room: Room.Room): room is Room.Room & { readonly RoomId: string } =>
  room.RoomId !== undefined && room.RoomId !== ""

/**
 * The rows of consecutive pages of one account, one per `RoomId` (a room that a hostile or
 * inconsistent service lists twice keeps its last listing: one statement may not touch a row twice),
 * with how many rooms were keyed and how many could not be.
 */
export const rowsOf = (
  accountId: string,
  pages: ReadonlyArray<RoomsPage>,
  snapshot: number,
  lastSeen: string
): { readonly rows: ReadonlyArray<RoomRow>; readonly keyed: number; readonly unkeyed: number } => {
  const byId = new Map<string, RoomRow>()
  let count = 0
  let unkeyed = 0
  for (const page of pages) {
    for (const room of page.rooms) {
      if (!keyed(room)) {
        unkeyed++
        continue
      }
      count++
      // Deleted first so that a repeated room takes its latest place in the insertion order.
      byId.delete(room.RoomId)
      byId.set(room.RoomId, {
        account_id: accountId,
        room_id: room.RoomId,
        name: room.Name ?? null,
        created_by: room.CreatedBy ?? null,
        created_timestamp: iso(room.CreatedTimestamp),
        updated_timestamp: iso(room.UpdatedTimestamp),
        snapshot,
        last_seen: lastSeen
      })
    }
  }
  return { rows: Array.from(byId.values()), keyed: count, unkeyed }
}

/** The `Name`s among pages, longest first (so that one that contains another is replaced whole). */
export const namesOf = (pages: ReadonlyArray<RoomsPage>): ReadonlyArray<string> => {
  const names = new Set<string>()
  for (const page of pages) {
    for (const room of page.rooms) if (room.Name !== undefined && room.Name !== "") names.add(room.Name)
  }
  return Array.from(names).sort((a, b) => b.length - a.length)
}

/** `text` with every one of `names` replaced by `<Name>`. */
export const scrub = (text: string, names: ReadonlyArray<string>): string => {
  let out = text
  for (const name of names) out = out.split(name).join("<Name>")
  return out
}
