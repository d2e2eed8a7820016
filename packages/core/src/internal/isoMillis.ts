/**
 * Reading wire timestamps. The service's own form, `YYYY-MM-DDTHH:MM:SS.sssZ`, is read with
 * integer arithmetic (days from the civil date, no `Date.UTC` call): two run per room, so this is
 * most of the decoder's own time. Any other ISO-8601 form goes through the regex and `Date.parse`;
 * a test checks that both give the same result for every input.
 */

/**
 * An ISO-8601 date-time with a time zone designator. Calendar checks are left to `Date.parse`.
 */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/

/** The general reader: any ISO-8601 date-time with a zone, or `undefined`. */
export const generalIsoMillis = (input: string): number | undefined => {
  if (!ISO_8601.test(input)) return undefined
  const millis = Date.parse(input)
  return Number.isNaN(millis) ? undefined : millis
}

const d2 = (s: string, at: number): number => {
  const a = s.charCodeAt(at) - 48
  const b = s.charCodeAt(at + 1) - 48
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1
}

/** Days since 1970-01-01 of a proleptic Gregorian date (year >= 1); days past the month's end roll over as in `Date.UTC`. */
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
 * Epoch millis of a timestamp in the service's exact form, or `undefined` for anything else
 * (other forms, and years below 100, where `Date.UTC` maps years to 19xx): the caller then uses
 * {@link generalIsoMillis}.
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
      hi >= 0 && lo >= 0 && month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour >= 0 && hour <= 23 &&
      minute >= 0 && minute <= 59 && second >= 0 && second <= 59 && m1 >= 0 && m2 >= 0 && m2 <= 9
    ) {
      const year = hi * 100 + lo
      // Below 100 `Date.UTC` maps years to 19xx: leave those to the general reader.
      if (year >= 100) {
        return daysFromCivil(year, month, day) * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 +
          m1 * 10 + m2
      }
    }
  }
  return undefined
}
