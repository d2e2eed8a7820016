/**
 * Reading wire timestamps by the AWS SDK's rules: those of `parseRfc3339DateTimeWithOffset` in
 * `@smithy/core/serde`, which the SDK's restJson1 deserializer applies to Chime's `date-time`
 * members. A test holds both readers here to that function, input for input.
 *
 * The service's own form, `YYYY-MM-DDTHH:MM:SS.sssZ`, is read with integer arithmetic (days from
 * the civil date, no `Date.UTC` call): two run per room, so this is most of the decoder's own
 * time. Every other form goes through the regex of {@link rfc3339Millis}; a test checks that both
 * give the same result for every input.
 */

/** The SDK's pattern: `t`/`z` in either case, any number of fraction digits, any two-digit offset. */
const RFC_3339 = /^(\d{4})-(\d{2})-(\d{2})[tT](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[zZ]|([-+])(\d{2}):(\d{2}))$/

/** The longest each month (1..12) can be; February 29 is then checked against the year. */
const MAX_DAYS = new Uint8Array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])

const isLeapYear = (year: number): boolean => year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)

/** Whether `day` (1..31) exists in `month` (1..12) of `year`, as the SDK's `validateDayOfMonth` says. */
const dayExists = (year: number, month: number, day: number): boolean =>
  day <= MAX_DAYS[month]! && (day !== 29 || month !== 2 || isLeapYear(year))

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (year >= 1); a day past the month's end rolls
 * over, as in `Date.UTC`.
 */
const daysFromCivil = (year: number, month: number, day: number): number => {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const mp = month > 2 ? month - 3 : month + 9
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

/**
 * What the SDK's `Date.UTC` call gives for fields it has already range-checked. `Date.UTC` reads
 * years 0–99 as 1900–1999 (the SDK passes them on as they are, after checking the day against the
 * year as written), and a second 60 rolls over into the next minute.
 */
const utcMillis = (
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millis: number
): number =>
  daysFromCivil(year < 100 ? year + 1900 : year, month, day) * 86_400_000 + hour * 3_600_000 + minute * 60_000 +
  second * 1000 + millis

/**
 * The general reader: epoch millis of an RFC 3339 date-time the SDK accepts, or `undefined` for
 * one it refuses. Calendar checks as the SDK's: month 1..12, the day within its month (February 29
 * in leap years only), hour 0..23, minute 0..59, second 0..60. Offsets `±HH:MM` of any two digits.
 */
export const rfc3339Millis = (input: string): number | undefined => {
  const m = RFC_3339.exec(input)
  if (m === null) return undefined
  const year = Number(m[1])
  const month = Number(m[2])
  const day = Number(m[3])
  const hour = Number(m[4])
  const minute = Number(m[5])
  const second = Number(m[6])
  if (month < 1 || month > 12 || day < 1 || !dayExists(year, month, day) || hour > 23 || minute > 59 || second > 60) {
    return undefined
  }
  // The SDK reads the fraction as a number and `Date.UTC` truncates the milliseconds: digits past
  // the third never round up, unless so many nines follow that `parseFloat` gives 1.
  const fraction = m[7] === undefined ? 0 : Math.trunc(parseFloat("0." + m[7]) * 1000)
  const local = utcMillis(year, month, day, hour, minute, second, fraction)
  if (m[8] === undefined) return local
  const offset = (Number(m[9]) * 60 + Number(m[10])) * 60_000
  return m[8] === "+" ? local - offset : local + offset
}

const d2 = (s: string, at: number): number => {
  const a = s.charCodeAt(at) - 48
  const b = s.charCodeAt(at + 1) - 48
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1
}

/**
 * Epoch millis of a timestamp in the service's exact form that the SDK accepts, or `undefined`
 * for anything else (other forms, impossible dates): the caller then uses {@link rfc3339Millis}.
 * Three fraction digits are exact: `parseFloat("0.abc") * 1000` truncates back to `abc` for all
 * thousand of them.
 */
export const serviceFormMillis = (s: string): number | undefined => {
  if (
    s.length === 24 && s.charCodeAt(4) === 45 && s.charCodeAt(7) === 45 && s.charCodeAt(10) === 84 &&
    s.charCodeAt(13) === 58 && s.charCodeAt(16) === 58 && s.charCodeAt(19) === 46 && s.charCodeAt(23) === 90
  ) {
    const hi = d2(s, 0)
    const lo = d2(s, 2)
    const month = d2(s, 5)
    const day = d2(s, 8)
    const hour = d2(s, 11)
    const minute = d2(s, 14)
    const second = d2(s, 17)
    const m1 = d2(s, 20)
    const m2 = s.charCodeAt(22) - 48
    if (
      hi >= 0 && lo >= 0 && month >= 1 && month <= 12 && day >= 1 && day <= MAX_DAYS[month]! && hour >= 0 &&
      hour <= 23 && minute >= 0 && minute <= 59 && second >= 0 && second <= 60 && m1 >= 0 && m2 >= 0 && m2 <= 9
    ) {
      const year = hi * 100 + lo
      if (day !== 29 || month !== 2 || isLeapYear(year)) {
        // `utcMillis` written out: this runs twice a room.
        return daysFromCivil(year < 100 ? year + 1900 : year, month, day) * 86_400_000 + hour * 3_600_000 +
          minute * 60_000 + second * 1000 + m1 * 10 + m2
      }
    }
  }
  return undefined
}

const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0"))
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0"))
const DAY = 86_400_000
/** Epoch milliseconds of 0000-01-01 and of the last millisecond of 9999. */
const FIRST_ISO = -62_167_219_200_000
const LAST_ISO = 253_402_300_799_999

/**
 * `Date.prototype.toISOString` of epoch milliseconds, by integer arithmetic (the civil date of a
 * day number, H. Hinnant's `days_from_civil` inverted): a third of `toISOString`'s time. Outside
 * years 0000–9999, `toISOString` itself.
 */
export const isoOfMillis = (ms: number): string => {
  if (!(ms >= FIRST_ISO && ms <= LAST_ISO) || !Number.isInteger(ms)) return new Date(ms).toISOString()
  const days = Math.floor(ms / DAY)
  let rest = ms - days * DAY
  const z = days + 719_468
  const era = Math.floor(z / 146_097)
  const doe = z - era * 146_097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1
  const month = mp < 10 ? mp + 3 : mp - 9
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0)
  const hours = Math.floor(rest / 3_600_000)
  rest -= hours * 3_600_000
  const minutes = Math.floor(rest / 60_000)
  rest -= minutes * 60_000
  const seconds = Math.floor(rest / 1000)
  const millis = rest - seconds * 1000
  return (
    PAD2[Math.floor(year / 100)]! + PAD2[year % 100]! + "-" + PAD2[month]! + "-" + PAD2[day]! + "T" +
    PAD2[hours]! + ":" + PAD2[minutes]! + ":" + PAD2[seconds]! + "." + PAD3[millis]! + "Z"
  )
}
