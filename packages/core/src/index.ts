/**
 * @chime-rooms/core — the language of the domain: request, room and response Schemas, the tagged
 * errors with their classifiers, and the `ChimeRooms` service tag. No I/O.
 *
 * @since 0.1.0
 */
/**
 * @since 0.1.0
 */
export * as ChimeRooms from "./ChimeRooms.js"
/**
 * @since 0.1.0
 */
export * as ChimeError from "./ChimeError.js"
/**
 * @since 0.1.0
 */
export * as ListRoomsRequest from "./ListRoomsRequest.js"
/**
 * @since 0.1.0
 */
export * as ListRoomsResponse from "./ListRoomsResponse.js"
/**
 * @since 0.1.0
 */
export * as Room from "./Room.js"
/**
 * @since 0.1.0
 */
export * as Timestamp from "./Timestamp.js"
