/**
 * @chime-rooms/testing — what users need to test programs that list Chime rooms: seeded datasets,
 * fault scripts, an in-memory `ChimeRooms` layer with a call log, and a local emulator.
 *
 * @since 0.1.0
 */
/**
 * @since 0.1.0
 */
export * as Dataset from "./Dataset.js"
/**
 * @since 0.1.0
 */
export * as Emulator from "./Emulator.js"
/**
 * @since 0.1.0
 */
export * as Fault from "./Fault.js"
/**
 * @since 0.1.0
 */
export * as FaultScript from "./FaultScript.js"
/**
 * @since 0.1.0
 */
export * as InMemory from "./InMemory.js"
/**
 * @since 0.1.0
 */
export * as SigV4Verifier from "./SigV4Verifier.js"
