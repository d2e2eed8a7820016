/**
 * The output of `ListRooms`: one page of rooms and the token of the next.
 *
 * @since 0.1.0
 */
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { decodeResponseBody } from "./internal/decodeResponse.js"
import { Room } from "./Room.js"

/**
 * `NextToken` on the wire: `null`, absent and `""` all mean "this was the last page", and all
 * decode to an absent property.
 */
const NextToken = Schema.optionalToOptional(Schema.NullOr(Schema.String), Schema.String, {
  decode: Option.filter((token): token is string => token !== null && token !== ""),
  encode: (token) => token
})

/**
 * The room list on the wire: a `null` in it is dropped, so a page holds only rooms.
 */
const RoomList = Schema.transform(Schema.Array(Schema.NullOr(Room)), Schema.Array(Schema.typeSchema(Room)), {
  strict: true,
  decode: (rooms) => rooms.filter((room): room is Room => room !== null),
  encode: (rooms) => rooms
})

/**
 * One page of `ListRooms`. `Rooms` absent or `null` on the wire decodes to `[]`, and a `null` in
 * the list is dropped.
 *
 * @example
 * ```ts
 * import { ListRoomsResponse } from "@chime-rooms/core"
 * import { Schema } from "effect"
 *
 * Schema.decodeUnknownSync(ListRoomsResponse.ListRoomsResponse)({ NextToken: null, Rooms: null }) // { Rooms: [] }
 * ```
 *
 * @category schemas
 * @since 0.1.0
 */
export const ListRoomsResponse = Schema.Struct({
  NextToken,
  Rooms: Schema.optionalWith(RoomList, { nullable: true, default: () => [] })
}).annotations({ identifier: "ListRoomsResponse" })

/**
 * @since 0.1.0
 */
export interface ListRoomsResponse extends Schema.Schema.Type<typeof ListRoomsResponse> {}

/**
 * What the transport knows about the response that carried a page.
 *
 * @category models
 * @since 0.1.0
 */
export interface ResponseMetadata {
  /** `x-amzn-RequestId`. */
  readonly requestId?: string
  /** The HTTP status. */
  readonly httpStatusCode?: number
}

/**
 * A page as `ChimeRooms.listRooms` returns it: the decoded body and, like the AWS SDK's
 * `$metadata`, what the transport knew of the response.
 *
 * @category models
 * @since 0.1.0
 */
export interface ListRoomsOutput extends ListRoomsResponse {
  readonly $metadata: ResponseMetadata
}

/**
 * Decodes a parsed JSON body in one pass, with the same rules and result as
 * `Schema.decodeUnknown(ListRoomsResponse)`, but without building a parse tree: this runs on every
 * page. On failure it returns a message that names the path and the rule, never the value found
 * (so a room `Name` cannot leak into it).
 *
 * The rules are the AWS SDK's: `null` members, a `null` `Rooms` and a `null` in the room list are
 * dropped, unknown members ignored, timestamps read as `parseIsoMillis` reads them. Where the
 * SDK would hand back a value of the wrong type (a number as `Name`, a string as `Rooms`, a body
 * that is not an object) this fails instead.
 *
 * @example
 * ```ts
 * import { ListRoomsResponse } from "@chime-rooms/core"
 *
 * const body = '{"Rooms":[{"RoomId":"r-1","CreatedTimestamp":"2019-12-02T22:29:31Z"}]}'
 * ListRoomsResponse.decode(JSON.parse(body))
 * // { _tag: "Right", right: { Rooms: [...] } } | { _tag: "Left", left: "Rooms[3].CreatedTimestamp: ..." }
 * ```
 *
 * @category decoding
 * @since 0.1.0
 */
export const decode = decodeResponseBody
