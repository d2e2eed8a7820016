/** The rows' timestamps: written as `Date.prototype.toISOString` writes them, for any instant. */
import { assert, describe, it } from "@effect/vitest"
import { isoOfMillis } from "../src/internal/rows.js"

describe("isoOfMillis", () => {
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
    for (const millis of instants) {
      assert.strictEqual(isoOfMillis(millis), new Date(millis).toISOString(), String(millis))
    }
  })
})
