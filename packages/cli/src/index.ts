/**
 * @chime-rooms/cli — the `chime-rooms` command: list every room of an Amazon Chime account, or run
 * a local emulator. The bin is `dist/bin/chime-rooms.js`; these modules run it in-process.
 *
 * @since 0.1.0
 */
/**
 * Rooms as RFC 4180 CSV: `csvHeader`, `csvRow`, `csvField`.
 *
 * @since 0.1.0
 */
export * as Csv from "./Csv.js"
/**
 * `chime-rooms emulator`: its options, the JSON line it announces, the command.
 *
 * @since 0.1.0
 */
export * as EmulatorCommand from "./EmulatorCommand.js"
/**
 * `chime-rooms export`: its options, the command; rooms into SQLite or PostgreSQL, resumable.
 *
 * @since 0.3.0
 */
export * as ExportCommand from "./ExportCommand.js"
/**
 * The process as the command sees it: `Io`, `ExitCode`, `UsageError`, `writer`.
 *
 * @since 0.1.0
 */
export * as Io from "./Io.js"
/**
 * `chime-rooms list`: its options, the embedded emulator, the command.
 *
 * @since 0.1.0
 */
export * as ListCommand from "./ListCommand.js"
/**
 * Service text made safe for a terminal: `printable`, `printableJson`, `printableLines`.
 *
 * @since 0.1.0
 */
export * as Printable from "./Printable.js"
/**
 * The `chime-rooms` command and `run(argv, io)`, which returns its exit code.
 *
 * @since 0.1.0
 */
export * as Run from "./Run.js"
/**
 * Rooms as a fixed-width table or JSON lines.
 *
 * @since 0.1.0
 */
export * as Table from "./Table.js"
