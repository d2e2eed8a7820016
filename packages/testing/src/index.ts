/**
 * @chime-rooms/testing — what users need to test programs that list Chime rooms: seeded datasets,
 * fault scripts, an in-memory `ChimeRooms` layer with a call log, and a local emulator.
 *
 * @since 0.1.0
 */
export * as Dataset from "./Dataset.js"
export * as Emulator from "./Emulator.js"
export * as Fault from "./Fault.js"
export * as FaultScript from "./FaultScript.js"
export * as InMemory from "./InMemory.js"
export * as SigV4Verifier from "./SigV4Verifier.js"
