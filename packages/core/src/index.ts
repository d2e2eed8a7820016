/**
 * @chime-rooms/core — the language of the domain: request, room and response Schemas, the tagged
 * errors with their classifiers, and the `ChimeRooms` service tag. No I/O.
 *
 * @since 0.1.0
 */
export * as ChimeRooms from "./ChimeRooms.js"
export * as ChimeError from "./ChimeError.js"
export * as ListRoomsRequest from "./ListRoomsRequest.js"
export * as ListRoomsResponse from "./ListRoomsResponse.js"
export * as Room from "./Room.js"
export * as Timestamp from "./Timestamp.js"
