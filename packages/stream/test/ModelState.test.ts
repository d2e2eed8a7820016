/**
 * The server-model limiter's arithmetic on its own: whatever the caller does, the bounds it
 * derives from a token-bucket server's answers contain that server (rate R, whole burst B).
 */
import { assert, describe, it } from "@effect/vitest"
import { modelParameters, ModelState } from "../src/internal/adaptive/serverModel.js"

const lcg = (seed: number) => {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 4294967296
  }
}

describe("ModelState", () => {
  it("the bounds it proves hold for the server (lo ≤ R, learnt burst ≤ B); its upper estimate mostly does", () => {
    let checked = 0
    let above = 0
    for (let seed = 1; seed <= 60; seed++) {
      const random = lcg(seed)
      const rate = 2 + random() * 400
      const burst = 1 + Math.floor(random() * 40)
      // Response times stray from arrival by less than the limiter's allowance (5 ms).
      const latency = random() * 0.02
      const state = new ModelState(modelParameters, 0)
      let now = 0
      let tokens = burst
      let last = 0
      for (let n = 0; n < 3000 && now < 40; n++) {
        if (state.enabled) now += state.reserve(now)
        // Some callers pause now and then (their own work): the bucket refills meanwhile.
        if (random() < 0.01) now += random() * 0.5
        const arrival = now + latency
        tokens = Math.min(burst, tokens + (arrival - last) * rate)
        last = arrival
        const granted = tokens >= 1
        if (granted) tokens -= 1
        now = arrival + latency + random() * 0.004
        state.update(now, !granted)
        if (!granted) {
          const label = `seed ${seed}: R ${rate.toFixed(2)}, B ${burst}, at ${now.toFixed(3)}`
          if (state.estimate !== undefined) assert.isAtMost(state.estimate, rate * (1 + 1e-9), label)
          if (state.phase === "hold") {
            assert.isAtMost(state.burstFloor, burst, label)
            if (state.upper > rate) above++
            checked++
          }
          now += random() * 0.5
        }
      }
    }
    assert.isAbove(checked, 30)
    // `hi` is where the probe starts looking, not a proof (see `solve`): the probe grows past it.
    assert.isAbove(above / checked, 0.8, `${above} of ${checked}`)
  }, 30_000)

  it("a caller that falls behind and catches up in bursts: few throttles, all while learning or probing", () => {
    for (const [rate, burst] of [[50, 5], [20, 1], [300, 30]] as const) {
      const state = new ModelState(modelParameters, 0)
      let now = 0
      let tokens: number = burst
      let last = 0
      const throttles: Array<number> = []
      let requests = 0
      for (let n = 0; n < 20_000 && now < 60; n++) {
        requests++
        if (state.enabled) now += state.reserve(now)
        // A caller that falls behind every 50th request (a slow response), then catches up.
        if (n % 50 === 0) now += 0.2
        tokens = Math.min(burst, tokens + (now - last) * rate)
        last = now
        const granted = tokens >= 1
        if (granted) tokens -= 1
        now += 0.001
        state.update(now, !granted)
        if (!granted) {
          throttles.push(now)
          now += 0.25
        }
      }
      // Throttles while learning and at the end of probes only; the probes come sooner when a
      // throttle is cheap (here 250 ms of idling) and the bounds loose (a burst of 1: 3.4% here).
      assert.isBelow(
        throttles.length / requests,
        burst === 1 ? 0.04 : 0.02,
        `${rate}/${burst}: ${throttles.map((t) => t.toFixed(2)).join(", ")}`
      )
    }
  }, 30_000)
})
