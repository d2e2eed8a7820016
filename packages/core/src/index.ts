/**
 * @chime-rooms/core — the language of the domain: request, room and response Schemas, the tagged
 * errors with their classifiers, and the `ChimeRooms` service tag. No I/O.
 *
 * @since 0.1.0
 */
/**
 * @since 0.1.0
 */
export * from "./ChimeRooms.js"
/**
 * @since 0.1.0
 */
export * from "./Errors.js"
/**
 * @since 0.1.0
 */
export * from "./ListRoomsRequest.js"
/**
 * @since 0.1.0
 */
export * from "./ListRoomsResponse.js"
/**
 * @since 0.1.0
 */
export * from "./Room.js"
/**
 * @since 0.1.0
 */
export * from "./Timestamp.js"
