/**
 * The wire form of Chime's timestamps: ISO-8601 date-time strings, decoded to `DateTime.Utc`.
 *
 * @since 0.1.0
 */
import { DateTime, ParseResult, Schema } from "effect"
import { generalIsoMillis, serviceFormMillis } from "./internal/isoMillis.js"

/**
 * Parses one wire timestamp to epoch milliseconds, or `undefined` when it is not an
 * ISO-8601 date-time. Shared by the Schema and the one-pass response decoder.
 *
 * @since 0.1.0
 */
export const parseIsoMillis = (input: string): number | undefined =>
  serviceFormMillis(input) ?? generalIsoMillis(input)

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
