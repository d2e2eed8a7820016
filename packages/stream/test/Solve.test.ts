/**
 * `solve` on its own: what a history of responses proves about a token-bucket server.
 */
import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { type History, solve } from "../src/internal/adaptive/solve.js"

const options = { jitter: 0.005, coldJitter: 0.005, minFillRate: 0.5, fillRate: 20 }

/** The answers of a server with rate `rate` and burst `burst`, full at 0, to requests at `times`. */
const serverAnswers = (rate: number, burst: number, times: ReadonlyArray<number>): History => {
  let tokens = burst
  let last = 0
  const ok = times.map((t) => {
    tokens = Math.min(burst, tokens + (t - last) * rate)
    last = t
    if (tokens < 1) return 0
    tokens -= 1
    return 1
  })
  return { times, ok, cold: times.map(() => 0), startFull: true, deficit: 0, carried: undefined }
}

describe("solve", () => {
  it("an empty history places nothing", () => {
    assert.strictEqual(
      solve({ times: [], ok: [], cold: [], startFull: true, deficit: 0, carried: undefined }, options),
      undefined
    )
  })

  it("a bucket full at the start cannot throttle the first request; one of unknown level can", () => {
    const history = { times: [0], ok: [0], cold: [0], deficit: 0, carried: undefined }
    assert.strictEqual(solve({ ...history, startFull: true }, options), "infeasible")
    const unknown = solve({ ...history, startFull: false }, options)
    assert(unknown !== undefined && unknown !== "infeasible", String(unknown))
    assert.deepStrictEqual(unknown.bounds, { lo: undefined, hi: Infinity, burst: 1 })
  })

  it("the bounds of a server drained faster than its rate contain it: lo ≤ R < hi, burst ≤ B", () => {
    for (const [rate, burst] of [[10, 3], [40, 1], [7, 12]] as const) {
      const times = Array.from({ length: 40 }, (_, k) => k / (1.5 * rate))
      const found = solve(serverAnswers(rate, burst, times), options)
      assert(found !== undefined && found !== "infeasible", `R ${rate}, B ${burst}: ${String(found)}`)
      const { bounds, carried } = found
      assert(bounds.lo !== undefined && bounds.lo <= rate, `lo ${bounds.lo} ≤ ${rate}`)
      assert(bounds.hi > rate, `hi ${bounds.hi} > ${rate}`)
      assert(bounds.burst <= burst, `burst ${bounds.burst} ≤ ${burst}`)
      assert(carried.lo <= burst && burst < carried.hi, `B ${burst} in [${carried.lo}, ${carried.hi})`)
    }
  }, 30_000)

  it("a server that never throttled places no upper bound", () => {
    const found = solve(serverAnswers(100, 100, Array.from({ length: 20 }, (_, k) => k * 0.1)), options)
    assert(found === undefined || (found !== "infeasible" && found.bounds.hi === Infinity), String(found))
  })

  it("bursts that no constraint tells apart are solved once (a history of 20 callers on one limiter)", () => {
    // Recorded from 20 streams sharing one limiter against 50/s, burst 5: runs of throttles that
    // follow throttles bound no B from above, and every B up to 10,000 used to be bisected on its
    // own (2.7 s for this history, which stalled every stream). The answer is the same.
    const recorded = JSON.parse(
      readFileSync(new URL("fixtures/solve-concurrent-history.json", import.meta.url), "utf8")
    ) as History & { readonly fillRate: number }
    const found = solve({ ...recorded, carried: undefined }, { ...options, fillRate: recorded.fillRate })
    assert(found !== undefined && found !== "infeasible", String(found))
    assert.deepStrictEqual(found, {
      bounds: { lo: 49.351087956803255, hi: 50.19401693959403, burst: 5 },
      carried: { lo: 5, hi: 10_001 }
    })
  })

  it("successes read as served far faster than anything seen, right after a throttle: no token bucket explains it", () => {
    // Four answers within 0.4 ms of a throttle (an event-loop stall let them pile up): at the rates
    // searched no B explains them, as for a history that no B explains at all, and the model cuts
    // the history back the same way (it read this as "nothing placed" and halved its rate).
    const times = [0, 1, 2, 3, 3.0001, 3.0002, 3.0003, 3.0004]
    const history = {
      times,
      ok: [0, 1, 1, 0, 1, 1, 1, 1],
      cold: times.map(() => 0),
      startFull: false,
      deficit: 0,
      carried: undefined
    }
    assert.strictEqual(solve(history, options), "infeasible")
  })
})
