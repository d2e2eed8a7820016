/**
 * Text the service controls (room fields, error messages, request ids, tokens), made safe to print
 * on a terminal: every line of the CLI goes through one of these two, which share one set of
 * characters.
 *
 * @since 0.1.0
 */

// C0 (newline and tab included: each printed value stays on its line), DEL and C1 (U+009B is a
// CSI on its own) move the cursor, start escape sequences or ring the bell; the bidi marks,
// embeddings, overrides and isolates reorder what follows them on the line.
const CONTROL_CLASS = "\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069"
const CONTROL = new RegExp(`[${CONTROL_CLASS}]`, "g")
// The same set but tab, line feed and carriage return: the layout of multi-line text.
const CONTROL_BUT_LAYOUT = new RegExp(`(?![\\t\\n\\r])[${CONTROL_CLASS}]`, "g")

/**
 * `text` with every control character replaced by `?`: it prints as text, one character wide, and
 * moves no cursor.
 *
 * @example
 * ```ts
 * import { Printable } from "@chime-rooms/cli"
 *
 * Printable.printable("chat\u001b[2JRoom") // "chat?[2JRoom"
 * ```
 *
 * @category formatting
 * @since 0.1.0
 */
export const printable = (text: string): string => text.replace(CONTROL, "?")

/**
 * JSON text with every control character written as a `\uXXXX` escape: the same JSON value, as
 * printable as {@link printable} text. (`JSON.stringify` escapes C0 only: DEL, C1 and the bidi
 * controls it leaves raw.) Outside strings JSON text is ASCII without controls, so only string
 * contents change.
 *
 * @example
 * ```ts
 * import { Printable } from "@chime-rooms/cli"
 *
 * Printable.printableJson(JSON.stringify({ Name: "a\u009b2J" })) // '{"Name":"a\\u009b2J"}'
 * ```
 *
 * @category formatting
 * @since 0.1.0
 */
export const printableJson = (json: string): string =>
  json.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)

/**
 * `text` with every control character but tab, line feed and carriage return replaced by `?`: for
 * multi-line values whose line breaks are data (a CSV field, quoted), with nothing left that starts
 * an escape sequence, rings the bell or reorders the line.
 *
 * @example
 * ```ts
 * import { Printable } from "@chime-rooms/cli"
 *
 * Printable.printableLines("two\r\nlines\u001b[2J") // "two\r\nlines?[2J"
 * ```
 *
 * @category formatting
 * @since 0.1.0
 */
export const printableLines = (text: string): string => text.replace(CONTROL_BUT_LAYOUT, "?")
