/**
 * @chime-rooms/sql — every room of an account into any `@effect/sql` database, exactly once: each
 * page's rooms and the token after it committed together, so that an export killed at any point
 * goes on from where it stopped.
 *
 * @since 0.3.0
 */
/**
 * The tables and their migrations: `run`, `migrations`, `migrationsTable`.
 *
 * @since 0.3.0
 */
export * as Migrations from "./Migrations.js"
/**
 * The database side: checkpoints, leases and the one writer (`layer`, `make`, `RoomStore`).
 *
 * @since 0.3.0
 */
export * as RoomStore from "./RoomStore.js"
/**
 * The export: `exportRooms` and the `sink` of pages.
 *
 * @since 0.3.0
 */
export * as SqlExport from "./SqlExport.js"
/**
 * The export's own failures: `ExportStoreError`, `ExportBusyError`, `ExportLeaseLostError`.
 *
 * @since 0.3.0
 */
export * as SqlExportError from "./SqlExportError.js"
