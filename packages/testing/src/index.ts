/**
 * @chime-rooms/testing — what users need to test programs that list Chime rooms: seeded datasets,
 * fault scripts, an in-memory `ChimeRooms` layer with a call log, and a local emulator.
 *
 * @since 0.1.0
 */
export * from "./Dataset.js"
export * from "./FaultScript.js"
export * from "./InMemory.js"
export * from "./SigV4Verifier.js"
export * from "./Emulator.js"
