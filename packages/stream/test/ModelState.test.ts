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

  it("many callers at once: the successes answered after the first throttle count into the burst estimate", () => {
    // Twenty callers send at once against a server of burst 5: its answers come in any order, so
    // the first throttle may come after one success only. The four successes still due were sent
    // in the same run: the burst estimate, and the ramp's start (4 per request of it), count them.
    const state = new ModelState(modelParameters, 0)
    for (let k = 0; k < 20; k++) assert.strictEqual(state.reserve(k * 0.001), 0)
    state.update(0.1, false)
    state.update(0.11, true)
    assert.strictEqual(state.burst, 1)
    for (let k = 0; k < 4; k++) state.update(0.12 + k * 0.01, false)
    assert.strictEqual(state.burst, 5)
    assert.isAtLeast(state.fillRate, 20)
    // The other fourteen were throttled; a success of a later run (booked after the throttle) is
    // not part of it.
    for (let k = 0; k < 14; k++) state.update(0.2 + k * 0.001, true)
    const delay = state.reserve(0.3)
    state.update(0.3 + delay + 0.002, false)
    assert.strictEqual(state.burst, 5)
  })

  it("a throttle withdraws the reservations of the callers queued at the old pace", () => {
    const state = new ModelState({ ...modelParameters, initialRate: 50 }, 0)
    // Ten callers queue at 50/s: one at once, then every 20 ms.
    const delays = Array.from({ length: 10 }, () => state.reserve(0))
    assert.deepStrictEqual(delays.map((d) => Math.round(d * 1000)), [0, 20, 40, 60, 80, 100, 120, 140, 160, 180])
    const epoch = state.epoch
    state.update(0.01, true)
    // The rate was cut; the nine still waiting book again when their wait ends, at the new pace.
    assert.isBelow(state.fillRate, 50)
    assert.strictEqual(state.epoch, epoch + 1)
    const sends: Array<number> = []
    for (const d of delays.slice(1)) {
      const delay = state.rebook(d)
      assert(delay >= 0)
      sends.push(d + delay)
    }
    for (let k = 1; k < sends.length; k++) {
      assert.closeTo(sends[k]! - sends[k - 1]!, 1 / state.fillRate, 1e-9)
    }
    assert.isAtLeast(sends[0]!, 0.01 + 1 / state.fillRate - 1e-9)
  })

  it("callers woken late together (a busy event loop) book again: paced from then on, not a burst", () => {
    const state = new ModelState({ ...modelParameters, initialRate: 50 }, 0)
    const due = Array.from({ length: 10 }, () => state.reserve(0))
    // On time, or late by less than one interval: the caller goes.
    assert.isFalse(state.overdue(due[1]!, due[1]! + 0.015))
    // The event loop was busy for 300 ms: the nine that waited are woken at once, at 0.3 s.
    const sends = due.map((d) => (d > 0 && state.overdue(d, 0.3) ? 0.3 + state.rebook(0.3) : d))
    assert.strictEqual(sends[0], 0)
    const late = sends.slice(1)
    for (let k = 1; k < late.length; k++) assert.closeTo(late[k]! - late[k - 1]!, 1 / 50, 1e-9)
  })
})
