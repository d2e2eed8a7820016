/**
 * The wire form of Chime's timestamps: RFC 3339 date-time strings (the model's `iso8601`
 * timestamp format), decoded to `DateTime.Utc` by the AWS SDK's rules.
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { isoOfMillis, rfc3339Millis, serviceFormMillis } from "./internal/isoMillis.js"

/**
 * Parses one wire timestamp to epoch milliseconds as the AWS SDK for JavaScript v3 does
 * (`parseRfc3339DateTimeWithOffset`), or `undefined` where the SDK throws. It accepts `t`/`z` in
 * either case, any number of fraction digits (truncated to the millisecond) and any `±HH:MM`
 * offset; it refuses impossible dates (`2019-02-29`, `2019-04-31`) and hour 24, and rolls second
 * 60 over into the next minute. Years 0000–0099 read as 1900–1999, as the SDK's `Date.UTC` reads
 * them. Shared by the Schema and the one-pass response decoder.
 *
 * @example
 * ```ts
 * import { Timestamp } from "@chime-rooms/core"
 *
 * Timestamp.parseIsoMillis("2019-12-02t22:29:31.5499z") // 1575325771549
 * Timestamp.parseIsoMillis("2019-02-29T00:00:00Z") // undefined
 * ```
 *
 * @category parsing
 * @since 0.1.0
 */
export const parseIsoMillis = (input: string): number | undefined => serviceFormMillis(input) ?? rfc3339Millis(input)

/**
 * Epoch milliseconds as the service writes a timestamp, the text of `Date.prototype.toISOString`
 * (`YYYY-MM-DDTHH:MM:SS.sssZ`), by integer arithmetic: a third of `toISOString`'s time, for code
 * that writes two per room.
 *
 * @example
 * ```ts
 * import { Timestamp } from "@chime-rooms/core"
 *
 * Timestamp.formatIsoMillis(1575325771549) // "2019-12-02T22:29:31.549Z"
 * ```
 *
 * @category formatting
 * @since 0.3.0
 */
export const formatIsoMillis = (millis: number): string => isoOfMillis(millis)

/**
 * `string` ⇄ `DateTime.Utc`. Encoding writes `DateTime.formatIso` (millisecond precision, `Z`),
 * which is the form the service sends, so a decoded room encodes back to its wire string.
 *
 * @example
 * ```ts
 * import { Timestamp } from "@chime-rooms/core"
 * import { Schema } from "effect"
 *
 * Schema.decodeUnknownSync(Timestamp.Timestamp)("2019-12-02T22:29:31.549Z") // DateTime.Utc
 * ```
 *
 * @category schemas
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
        ? ParseResult.fail(new ParseResult.Type(ast, input, "Expected an RFC 3339 date-time string"))
        : ParseResult.succeed(DateTime.unsafeMake(millis))
    },
    encode: (dateTime) => ParseResult.succeed(DateTime.formatIso(dateTime))
  }
).annotations({ identifier: "Timestamp", description: "an RFC 3339 date-time string" })
