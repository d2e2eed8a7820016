/**
 * `Date.prototype.toISOString` for epoch milliseconds from 1970 to 9999, without a `Date`: the
 * generated dataset formats two timestamps per room served, and this is several times faster.
 */

const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0"))
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0"))
const DAY = 86_400_000

/** `YYYY-MM-DDTHH:mm:ss.sssZ` for `ms` (an integer in 0 .. 253402300799999). */
export const isoOf = (ms: number): string => {
  const days = Math.floor(ms / DAY)
  let rest = ms - days * DAY
  // Civil date from a day count (H. Hinnant's days_from_civil, inverted), on the March-based year.
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
