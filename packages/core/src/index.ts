/**
 * @chime-rooms/core — the language of the domain: request, room and response Schemas, the tagged
 * errors with their classifiers, and the `ChimeRooms` service tag. No I/O.
 *
 * @since 0.1.0
 */
export * from "./ChimeRooms.js"
export * from "./Errors.js"
export * from "./ListRoomsRequest.js"
export * from "./ListRoomsResponse.js"
export * from "./Room.js"
export * from "./Timestamp.js"
