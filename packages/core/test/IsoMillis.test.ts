import { describe, expect, it } from "@effect/vitest"
import { rfc3339Millis } from "../src/internal/isoMillis.js"
import * as Timestamp from "../src/Timestamp.js"

/** A small deterministic generator (mulberry32). */
const rng = (seed: number) => () => {
  seed |= 0
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const pad = (n: number, width: number) => String(n).padStart(width, "0")

describe("the timestamp reader's fast path for the service's form", () => {
  it("gives the general reader's result on the service's form over the whole calendar, edges included", () => {
    const next = rng(7)
    const mismatches: Array<string> = []
    for (let i = 0; i < 200_000; i++) {
      // Years 0..9999 (below 100 read as 19xx), months/days/times in and just out of range, second 60.
      const year = next() < 0.1 ? Math.floor(next() * 200) : Math.floor(next() * 10_000)
      const month = Math.floor(next() * 14)
      const day = Math.floor(next() * 33)
      const hour = Math.floor(next() * 25)
      const minute = Math.floor(next() * 61)
      const second = Math.floor(next() * 61)
      const ms = Math.floor(next() * 1000)
      const s = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}.${
        pad(ms, 3)
      }Z`
      if (Timestamp.parseIsoMillis(s) !== rfc3339Millis(s)) mismatches.push(s)
    }
    expect(mismatches).toEqual([])
  })

  it("agrees on leap days, month ends, epoch edges and other forms", () => {
    const samples = [
      "2020-02-29T23:59:59.999Z",
      "2019-02-29T00:00:00.000Z",
      "2100-02-29T00:00:00.000Z",
      "2000-02-29T12:00:00.000Z",
      "1970-01-01T00:00:00.000Z",
      "1969-12-31T23:59:59.999Z",
      "0100-01-01T00:00:00.000Z",
      "0099-12-31T23:59:59.999Z",
      "9999-12-31T23:59:59.999Z",
      "2019-04-31T00:00:00.000Z",
      "2019-12-02T22:29:31.549Z",
      "1600-03-01T00:00:00.000Z",
      "2019-12-02T22:29:31.5Z",
      "2019-12-02T22:29:31Z",
      "2019-12-02T23:29:31.549+01:00",
      "2019-12-02 22:29:31.549Z",
      "2019-12-02T22:29:31.549z",
      "2019-1a-02T22:29:31.549Z",
      "0000-02-29T00:00:00.000Z",
      "0004-02-29T00:00:00.000Z",
      "2016-12-31T23:59:60.999Z",
      "2019-02-28T23:59:60.000Z",
      "２０１９-12-02T22:29:31.549Z",
      "2019-12-02T22:29:31.5490Z",
      "",
      "not a date",
      "2019-12-02T24:00:00.000Z",
      "2019-00-10T00:00:00.000Z",
      "2019-12-00T00:00:00.000Z",
      "+02019-12-02T22:29:31.549Z",
      "2019-12-02T22:29:31.-49Z",
      "2019-12-02T22:29:3 .549Z"
    ]
    for (const s of samples) expect([s, Timestamp.parseIsoMillis(s)]).toEqual([s, rfc3339Millis(s)])
  })

  it("truncates every three-digit fraction to itself", () => {
    for (let ms = 0; ms < 1000; ms++) {
      const s = `2019-12-02T22:29:31.${pad(ms, 3)}Z`
      const expected = Date.UTC(2019, 11, 2, 22, 29, 31, ms)
      expect([s, Timestamp.parseIsoMillis(s), rfc3339Millis(s)]).toEqual([s, expected, expected])
    }
  })
})

describe("the timestamp reader follows the AWS SDK's RFC 3339 rules", () => {
  const utc = Date.UTC
  it("accepts t and z in either case, and fractions of any length, truncated to the millisecond", () => {
    expect(Timestamp.parseIsoMillis("2019-12-02t23:59:59z")).toBe(utc(2019, 11, 2, 23, 59, 59))
    expect(Timestamp.parseIsoMillis("2019-12-02T23:59:59.5499z")).toBe(utc(2019, 11, 2, 23, 59, 59, 549))
    expect(Timestamp.parseIsoMillis("2019-12-02T23:59:59.1234567891234Z")).toBe(utc(2019, 11, 2, 23, 59, 59, 123))
    expect(Timestamp.parseIsoMillis("2019-12-02T23:59:59.9999999Z")).toBe(utc(2019, 11, 2, 23, 59, 59, 999))
    // So many nines that the fraction reads as 1: the next second, as the SDK gives.
    expect(Timestamp.parseIsoMillis("2019-12-31T23:59:59.99999999999999999Z")).toBe(utc(2020, 0, 1))
  })

  it("refuses impossible calendar dates and hour 24 instead of rolling them over, and other forms", () => {
    for (
      const s of [
        "2019-02-30T00:00:00Z",
        "2019-02-29T00:00:00Z",
        "2100-02-29T00:00:00Z",
        "2019-04-31T00:00:00.000Z",
        "2019-12-02T24:00:00Z",
        "2019-12-02T24:00:00.000Z",
        "2019-12-02T23:60:00Z",
        "2019-12-02T23:59:61Z"
      ]
    ) {
      expect([s, Timestamp.parseIsoMillis(s)]).toEqual([s, undefined])
    }
    expect(Timestamp.parseIsoMillis("2020-02-29T00:00:00Z")).toBe(utc(2020, 1, 29))
    expect(Timestamp.parseIsoMillis("2000-02-29T00:00:00.000Z")).toBe(utc(2000, 1, 29))
    // Other forms, refused before and after.
    for (
      const s of [
        "2019-12-02T22:29:31.Z",
        "2019-12-02T22:29:31,5Z",
        "2019-12-02T22:29Z",
        "2019-12-02T22:29:31+0100",
        "2019-12-02T22:29:31+01",
        "2019-12-02T22:29:31",
        "20191202T222931Z",
        "2019-12-02T22:29:31.549 Z",
        " 2019-12-02T22:29:31Z",
        "2019-12-02T22:29:31.５Z"
      ]
    ) {
      expect([s, Timestamp.parseIsoMillis(s)]).toEqual([s, undefined])
    }
  })

  it("rolls a leap second over into the next minute", () => {
    expect(Timestamp.parseIsoMillis("2016-12-31T23:59:60Z")).toBe(utc(2017, 0, 1))
    expect(Timestamp.parseIsoMillis("2016-12-31T23:59:60.500Z")).toBe(utc(2017, 0, 1, 0, 0, 0, 500))
  })

  it("applies any two-digit offset, and reads years 0000-0099 as the SDK's Date.UTC does", () => {
    expect(Timestamp.parseIsoMillis("2019-12-02T23:29:31.549+01:00")).toBe(utc(2019, 11, 2, 22, 29, 31, 549))
    expect(Timestamp.parseIsoMillis("2019-12-02T00:00:00-00:30")).toBe(utc(2019, 11, 2, 0, 30))
    expect(Timestamp.parseIsoMillis("2019-12-02T00:00:00+99:99")).toBe(utc(2019, 11, 2) - (99 * 60 + 99) * 60_000)
    expect(Timestamp.parseIsoMillis("0050-01-01T00:00:00Z")).toBe(utc(1950, 0, 1))
    // February 29 is checked against year 0 (a leap year) and then lands in 1900 (not one).
    expect(Timestamp.parseIsoMillis("0000-02-29T00:00:00.000Z")).toBe(utc(1900, 2, 1))
  })
})
