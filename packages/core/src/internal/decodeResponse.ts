import { Either } from "effect"
import type { ListRoomsResponse } from "../ListRoomsResponse.js"
import type { Room } from "../Room.js"
import { parseIsoMillis } from "../Timestamp.js"
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
      const room = decodeRoom(rawRooms[i], i)
      if (typeof room === "string") return Either.left(room)
      rooms[i] = room
    }
  }
  return Either.right(typeof token === "string" && token !== "" ? { NextToken: token, Rooms: rooms } : { Rooms: rooms })
}
