/** `Timestamp.formatIsoMillis`: the text `Date.prototype.toISOString` writes, for any instant. */
import { Timestamp } from "@chime-rooms/core"
import { assert, describe, it } from "@effect/vitest"

describe("Timestamp.formatIsoMillis", () => {
  it("gives toISOString's text: edges of days, months, leap years, eras, and 200,000 seeded instants", () => {
    const edges = [
      0,
      -1,
      1,
      86399999,
      86400000,
      951782400000,
      951868800000,
      4107542400000,
      253402300799999,
      253402300800000,
      -62167219200000,
      -62167219200001,
      -8640000000000000,
      8640000000000000,
      1709164800000,
      1709251199999
    ]
    let seed = 20261203
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed / 2147483648
    }
    const instants = [...edges, ...Array.from({ length: 200_000 }, () => Math.floor((next() - 0.3) * 4e14))]
    // The dataset generator's samples too (it formats two timestamps per room with it).
    let x = 7
    for (let k = 0; k < 5000; k++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0
      instants.push(Math.floor((x / 4294967296) * 4_102_444_800_000) + (x & 1023))
    }
    for (const millis of instants) {
      assert.strictEqual(Timestamp.formatIsoMillis(millis), new Date(millis).toISOString(), String(millis))
    }
  })
})
