import * as Either from "effect/Either"
import { isRecord } from "effect/Predicate"
import type { ListRoomsResponse } from "../ListRoomsResponse.js"
import type { Room } from "../Room.js"
import { parseIsoMillis } from "../Timestamp.js"
import { serviceFormMillis } from "./isoMillis.js"
import { utcFromMillis } from "./utc.js"

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

const STRING_FIELDS = ["AccountId", "CreatedBy", "Name", "RoomId"] as const
const TIME_FIELDS = ["CreatedTimestamp", "UpdatedTimestamp"] as const

/**
 * Validates and converts one room; `null` for a `null` in the list, which is dropped. Returns the
 * room, or the path-and-rule of the first problem. A `null` member is dropped as the AWS SDK drops
 * it; an explicit `undefined` never comes out of JSON, so it reads as absent too.
 */
const decodeRoom = (raw: unknown, index: number): Room | string | null => {
  if (raw === null) return null
  if (!isRecord(raw)) return `Rooms[${index}]: expected an object or null`
  const room: Mutable<Room> = {}
  for (const key of STRING_FIELDS) {
    const value = raw[key]
    if (value === undefined || value === null) continue
    if (typeof value !== "string") return `Rooms[${index}].${key}: expected a string or null`
    room[key] = value
  }
  for (const key of TIME_FIELDS) {
    const value = raw[key]
    if (value === undefined || value === null) continue
    const millis = typeof value === "string" ? parseIsoMillis(value) : undefined
    if (millis === undefined) return `Rooms[${index}].${key}: expected an RFC 3339 date-time string or null`
    room[key] = utcFromMillis(millis)
  }
  return room
}

/**
 * The common case in one step: an object with all six fields, four strings and two timestamps in
 * the service's own form. Named reads and one object literal give V8 one shape throughout, about
 * twice as fast as the general loop; `undefined` hands anything else (a field missing, `null` or
 * of another type, another timestamp form, a `null` room) to {@link decodeRoom}, which also words
 * the problem.
 */
const decodeCompleteRoom = (raw: unknown): Room | undefined => {
  if (typeof raw !== "object" || raw === null) return undefined
  const r = raw as Record<string, unknown>
  const AccountId = r.AccountId
  const CreatedBy = r.CreatedBy
  const Name = r.Name
  const RoomId = r.RoomId
  const created = r.CreatedTimestamp
  const updated = r.UpdatedTimestamp
  if (
    typeof AccountId !== "string" || typeof CreatedBy !== "string" || typeof Name !== "string" ||
    typeof RoomId !== "string" || typeof created !== "string" || typeof updated !== "string"
  ) return undefined
  const createdMillis = serviceFormMillis(created)
  const updatedMillis = serviceFormMillis(updated)
  if (createdMillis === undefined || updatedMillis === undefined) return undefined
  return {
    AccountId,
    CreatedBy,
    Name,
    RoomId,
    CreatedTimestamp: utcFromMillis(createdMillis),
    UpdatedTimestamp: utcFromMillis(updatedMillis)
  }
}

/**
 * The rules are the AWS SDK's, except where it would hand back a value of the wrong type (it passes
 * a number through as a string member, reads a non-object body as an empty page): that fails here.
 */
export const decodeResponseBody = (body: unknown): Either.Either<ListRoomsResponse, string> => {
  if (!isRecord(body)) return Either.left("expected a JSON object")
  const token = body.NextToken
  if (token !== undefined && token !== null && typeof token !== "string") {
    return Either.left("NextToken: expected a string or null")
  }
  const rawRooms = body.Rooms
  let rooms: Array<Room> = []
  if (rawRooms !== undefined && rawRooms !== null) {
    if (!Array.isArray(rawRooms)) return Either.left("Rooms: expected an array or null")
    const length = rawRooms.length
    rooms = new Array(length)
    let kept = 0
    for (let i = 0; i < length; i++) {
      const room = decodeCompleteRoom(rawRooms[i]) ?? decodeRoom(rawRooms[i], i)
      if (room === null) continue
      if (typeof room === "string") return Either.left(room)
      rooms[kept++] = room
    }
    if (kept !== length) rooms.length = kept
  }
  return Either.right(typeof token === "string" && token !== "" ? { NextToken: token, Rooms: rooms } : { Rooms: rooms })
}
