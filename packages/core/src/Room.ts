/**
 * A Chime room as `ListRooms` returns it.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { Timestamp } from "./Timestamp.js"

/**
 * A room. Every member is optional, as in the service model; unknown extra fields are ignored on
 * decode. `Name` is sensitive: the library never writes it into an error message or a log line.
 *
 * @example
 * const room = Schema.decodeUnknownSync(Room)({ RoomId: "r-1", CreatedTimestamp: "2019-12-02T22:29:31.549Z" })
 * @since 0.1.0
 */
export const Room = Schema.Struct({
  AccountId: Schema.optional(Schema.String),
  CreatedBy: Schema.optional(Schema.String),
  CreatedTimestamp: Schema.optional(Timestamp),
  Name: Schema.optional(Schema.String),
  RoomId: Schema.optional(Schema.String),
  UpdatedTimestamp: Schema.optional(Timestamp)
}).annotations({ identifier: "Room" })

/**
 * @since 0.1.0
 */
export interface Room extends Schema.Schema.Type<typeof Room> {}

/**
 * The JSON form of a room on the wire.
 *
 * @since 0.1.0
 */
export interface RoomEncoded extends Schema.Schema.Encoded<typeof Room> {}

/**
 * The fields a room may carry, in the service's order. `Name` is the one sensitive field.
 *
 * @since 0.1.0
 */
export const roomFields = ["AccountId", "CreatedBy", "CreatedTimestamp", "Name", "RoomId", "UpdatedTimestamp"] as const
