/**
 * Response headers read from undici's raw list (`[name, value, name, value, …]` as `Buffer`s),
 * without building a header map unless one is asked for.
 *
 * Invariant: a value reads as node's parser and `Headers.fromInput` would give it: names compared
 * in lower case, the blanks around a value dropped, repeated values joined with `", "`.
 */
import * as Headers from "@effect/platform/Headers"

/**
 * A header's value without the blanks around it, which are not part of it (RFC 9110 §5.5): node's
 * parser drops them, undici's keeps those that end the line.
 */
const fieldValue = (raw: Buffer): string => {
  const value = raw.toString("latin1")
  const first = value.charCodeAt(0)
  const last = value.charCodeAt(value.length - 1)
  return first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09
    ? value.replace(/^[ \t]+|[ \t]+$/g, "")
    : value
}

/** The `content-length` of a raw header list; -1 when absent or unreadable. */
export const declaredLength = (rawHeaders: ReadonlyArray<Buffer>): number => {
  const value = rawHeader(rawHeaders, "content-length")
  return value !== undefined && /^\s*\d+\s*$/.test(value) ? Number(value) : -1
}

/**
 * Response headers as the platform's `Headers` (lower-case names, repeated values joined with
 * `", "`, as `Headers.fromInput` does with undici's parsed headers), in one pass over the raw list.
 */
export const headersOf = (raw: ReadonlyArray<Buffer>): Headers.Headers => {
  // A fresh object on the platform's null-rooted prototype: any name, `__proto__` included, is
  // an own property.
  const out = Headers.fromInput(NO_HEADERS) as Record<string, string>
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString("latin1").toLowerCase()
    const value = fieldValue(raw[i + 1]!)
    const existing = out[name]
    out[name] = existing === undefined ? value : existing + ", " + value
  }
  return out as Headers.Headers
}

const NO_HEADERS: ReadonlyArray<readonly [string, string]> = []

/**
 * The values of one response header (`name` in lower case) from undici's raw list, joined with
 * `", "` when repeated as `Headers` would; only names of the right length are decoded.
 */
export const rawHeader = (rawHeaders: ReadonlyArray<Buffer>, name: string): string | undefined => {
  let value: string | undefined = undefined
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const raw = rawHeaders[i]!
    if (raw.length !== name.length || raw.toString("latin1").toLowerCase() !== name) continue
    const v = fieldValue(rawHeaders[i + 1]!)
    value = value === undefined ? v : value + ", " + v
  }
  return value
}
