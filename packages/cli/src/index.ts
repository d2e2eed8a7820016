/**
 * @chime-rooms/cli — the `chime-rooms` command: list every room of an Amazon Chime account, or run
 * a local emulator. The bin is `dist/bin/chime-rooms.js`; these modules run it in-process.
 *
 * @since 0.1.0
 */
export * as Args from "./Args.js"
export * as Printable from "./Printable.js"
export * as Run from "./Run.js"
export * as Table from "./Table.js"
