/**
 * The wire form of Chime's timestamps: ISO-8601 date-time strings, decoded to `DateTime.Utc`.
 *
 * @since 0.1.0
 */
import { DateTime, ParseResult, Schema } from "effect"

/**
 * An ISO-8601 date-time with a time zone designator, as the service writes it
 * (`2019-12-02T22:29:31.549Z`). Calendar checks are left to `Date.parse` below.
 */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/

const digits = (s: string, from: number, count: number): number => {
  let n = 0
  for (let i = from; i < from + count; i++) {
    const d = s.charCodeAt(i) - 48
    if (d < 0 || d > 9) return -1
    n = n * 10 + d
  }
  return n
}

/**
 * The form the service writes, `YYYY-MM-DDTHH:MM:SS.sssZ`, read by hand: runs on every timestamp
 * of every page, and is several times cheaper than the regex plus `Date.parse`. Returns
 * `undefined` for anything else (or any field at an edge, such as hour 24 or a year below 100,
 * where `Date.UTC` and `Date.parse` differ), leaving it to the general path; within these ranges
 * `Date.UTC` gives exactly what `Date.parse` gives (both roll a day 29..31 over the same way).
 */
const parseServiceForm = (s: string): number | undefined => {
  if (
    s.length !== 24 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 ||
    s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58 || s.charCodeAt(19) !== 46 || s.charCodeAt(23) !== 90
  ) return undefined
  const year = digits(s, 0, 4)
  const month = digits(s, 5, 2)
  const day = digits(s, 8, 2)
  const hour = digits(s, 11, 2)
  const minute = digits(s, 14, 2)
  const second = digits(s, 17, 2)
  const millis = digits(s, 20, 3)
  if (
    year < 100 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 ||
    minute < 0 || minute > 59 || second < 0 || second > 59 || millis < 0
  ) return undefined
  return Date.UTC(year, month - 1, day, hour, minute, second, millis)
}

/**
 * Parses one wire timestamp to epoch milliseconds, or `undefined` when it is not an
 * ISO-8601 date-time. Shared by the Schema and the one-pass response decoder.
 *
 * @since 0.1.0
 */
export const parseIsoMillis = (input: string): number | undefined => {
  const fast = parseServiceForm(input)
  if (fast !== undefined) return fast
  if (!ISO_8601.test(input)) return undefined
  const millis = Date.parse(input)
  return Number.isNaN(millis) ? undefined : millis
}

/**
 * `string` ⇄ `DateTime.Utc`. Encoding writes `DateTime.formatIso` (millisecond precision, `Z`),
 * which is the form the service sends, so a decoded room encodes back to its wire string.
 *
 * @example
 * Schema.decodeUnknownSync(Timestamp)("2019-12-02T22:29:31.549Z") // DateTime.Utc
 * @since 0.1.0
 */
export const Timestamp: Schema.Schema<DateTime.Utc, string> = Schema.transformOrFail(
  Schema.String,
  Schema.DateTimeUtcFromSelf,
  {
    strict: true,
    decode: (input, _, ast) => {
      const millis = parseIsoMillis(input)
      return millis === undefined
        ? ParseResult.fail(new ParseResult.Type(ast, input, "Expected an ISO-8601 date-time string"))
        : ParseResult.succeed(DateTime.unsafeMake(millis))
    },
    encode: (dateTime) => ParseResult.succeed(DateTime.formatIso(dateTime))
  }
).annotations({ identifier: "Timestamp", description: "an ISO-8601 date-time string" })
