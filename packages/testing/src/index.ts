/**
 * @chime-rooms/testing — what users need to test programs that list Chime rooms: seeded datasets,
 * fault scripts, an in-memory `ChimeRooms` layer with a call log, and a local emulator.
 *
 * @since 0.1.0
 */
/**
 * @since 0.1.0
 */
export * from "./Dataset.js"
/**
 * @since 0.1.0
 */
export * from "./FaultScript.js"
/**
 * @since 0.1.0
 */
export * from "./InMemory.js"
/**
 * @since 0.1.0
 */
export * from "./SigV4Verifier.js"
/**
 * @since 0.1.0
 */
export * from "./Emulator.js"
