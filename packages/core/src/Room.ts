/**
 * A Chime room as `ListRooms` returns it.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { Timestamp } from "./Timestamp.js"

/**
 * A room. Every member is optional, as in the service model; a `null` member decodes as absent
 * and unknown extra fields are ignored, as the AWS SDK does. `Name` is sensitive: the library
 * never writes it into an error message or a log line.
 *
 * @example
 * ```ts
 * import { Room } from "@chime-rooms/core"
 * import { Schema } from "effect"
 *
 * const room = Schema.decodeUnknownSync(Room.Room)({ RoomId: "r-1", Name: null, CreatedTimestamp: "2019-12-02T22:29:31Z" })
 * // { RoomId: "r-1", CreatedTimestamp: DateTime.Utc }
 * ```
 *
 * @category schemas
 * @since 0.1.0
 */
export const Room = Schema.Struct({
  AccountId: Schema.optionalWith(Schema.String, { nullable: true }),
  CreatedBy: Schema.optionalWith(Schema.String, { nullable: true }),
  CreatedTimestamp: Schema.optionalWith(Timestamp, { nullable: true }),
  Name: Schema.optionalWith(Schema.String, { nullable: true }),
  RoomId: Schema.optionalWith(Schema.String, { nullable: true }),
  UpdatedTimestamp: Schema.optionalWith(Timestamp, { nullable: true })
}).annotations({ identifier: "Room" })

/**
 * @since 0.1.0
 */
export interface Room extends Schema.Schema.Type<typeof Room> {}

/**
 * The JSON form of a room on the wire (a member may be `null`).
 *
 * @category models
 * @since 0.1.0
 */
export interface RoomEncoded extends Schema.Schema.Encoded<typeof Room> {}

/**
 * The fields a room may carry, in the service's order. `Name` is the one sensitive field.
 *
 * @category constants
 * @since 0.1.0
 */
export const roomFields = ["AccountId", "CreatedBy", "CreatedTimestamp", "Name", "RoomId", "UpdatedTimestamp"] as const
