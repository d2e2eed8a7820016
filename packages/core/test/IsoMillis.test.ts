import { describe, expect, it } from "@effect/vitest"
import { parseIsoMillis } from "../src/Timestamp.js"
import { generalIsoMillis } from "../src/internal/isoMillis.js"

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
      // Years 0..9999 (the general reader below 100), months/days/times in and just out of range.
      const year = next() < 0.1 ? Math.floor(next() * 200) : Math.floor(next() * 10_000)
      const month = Math.floor(next() * 14)
      const day = Math.floor(next() * 33)
      const hour = Math.floor(next() * 25)
      const minute = Math.floor(next() * 61)
      const second = Math.floor(next() * 61)
      const ms = Math.floor(next() * 1000)
      const s = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}.${pad(ms, 3)}Z`
      if (parseIsoMillis(s) !== generalIsoMillis(s)) mismatches.push(s)
    }
    expect(mismatches).toEqual([])
  })

  it("agrees on leap days, month ends, epoch edges and other forms", () => {
    const samples = [
      "2020-02-29T23:59:59.999Z", "2019-02-29T00:00:00.000Z", "2100-02-29T00:00:00.000Z", "2000-02-29T12:00:00.000Z",
      "1970-01-01T00:00:00.000Z", "1969-12-31T23:59:59.999Z", "0100-01-01T00:00:00.000Z", "0099-12-31T23:59:59.999Z",
      "9999-12-31T23:59:59.999Z", "2019-04-31T00:00:00.000Z", "2019-12-02T22:29:31.549Z", "1600-03-01T00:00:00.000Z",
      "2019-12-02T22:29:31.5Z", "2019-12-02T22:29:31Z", "2019-12-02T23:29:31.549+01:00", "2019-12-02 22:29:31.549Z",
      "2019-12-02T22:29:31.549z", "2019-1a-02T22:29:31.549Z", "２０１９-12-02T22:29:31.549Z", "2019-12-02T22:29:31.5490Z",
      "", "not a date", "2019-12-02T24:00:00.000Z", "2019-00-10T00:00:00.000Z", "2019-12-00T00:00:00.000Z",
      "+02019-12-02T22:29:31.549Z", "2019-12-02T22:29:31.-49Z", "2019-12-02T22:29:3 .549Z"
    ]
    for (const s of samples) expect([s, parseIsoMillis(s)]).toEqual([s, generalIsoMillis(s)])
  })
})
