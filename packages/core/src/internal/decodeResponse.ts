import { Either } from "effect"
import type { ListRoomsResponse } from "../ListRoomsResponse.js"
import type { Room } from "../Room.js"
import { parseIsoMillis } from "../Timestamp.js"
import { serviceFormMillis } from "./isoMillis.js"
import { utcFromMillis } from "./utc.js"

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const STRING_FIELDS = ["AccountId", "CreatedBy", "Name", "RoomId"] as const
const TIME_FIELDS = ["CreatedTimestamp", "UpdatedTimestamp"] as const

/**
 * Validates and converts one room. Returns the room, or the path-and-rule of the first problem.
 * An explicit `undefined` never comes out of JSON, so "absent" is the only optional case.
 */
const decodeRoom = (raw: unknown, index: number): Room | string => {
  if (!isRecord(raw)) return `Rooms[${index}]: expected an object`
  const room: Mutable<Room> = {}
  for (const key of STRING_FIELDS) {
    const value = raw[key]
    if (value === undefined) continue
    if (typeof value !== "string") return `Rooms[${index}].${key}: expected a string`
    room[key] = value
  }
  for (const key of TIME_FIELDS) {
    const value = raw[key]
    if (value === undefined) continue
    const millis = typeof value === "string" ? parseIsoMillis(value) : undefined
    if (millis === undefined) return `Rooms[${index}].${key}: expected an ISO-8601 date-time string`
    room[key] = utcFromMillis(millis)
  }
  return room
}

/**
 * The common case in one step: an object with all six fields, four strings and two timestamps in
 * the service's own form. Named reads and one object literal give V8 one shape throughout, about
 * twice as fast as the general loop; `undefined` hands anything else (a field missing or of
 * another type, another timestamp form) to {@link decodeRoom}, which also words the problem.
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

export const decodeResponseBody = (body: unknown): Either.Either<ListRoomsResponse, string> => {
  if (!isRecord(body)) return Either.left("expected a JSON object")
  const token = body.NextToken
  if (token !== undefined && token !== null && typeof token !== "string") {
    return Either.left("NextToken: expected a string or null")
  }
  const rawRooms = body.Rooms
  let rooms: Array<Room> = []
  if (rawRooms !== undefined) {
    if (!Array.isArray(rawRooms)) return Either.left("Rooms: expected an array")
    rooms = new Array(rawRooms.length)
    for (let i = 0; i < rawRooms.length; i++) {
      const room = decodeCompleteRoom(rawRooms[i]) ?? decodeRoom(rawRooms[i], i)
      if (typeof room === "string") return Either.left(room)
      rooms[i] = room
    }
  }
  return Either.right(typeof token === "string" && token !== "" ? { NextToken: token, Rooms: rooms } : { Rooms: rooms })
}
