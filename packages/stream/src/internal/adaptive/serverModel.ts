/**
 * The server-model limiter: the adaptive limiter's default mode, free of Effect so it can be read
 * (and checked) on its own. All times are in seconds; every method is synchronous so a caller can
 * read the clock, then update the state, with nothing in between.
 */
import { PacingBucket } from "../pacingBucket.js"
import { type Bounds, type BurstRange, type History, solve } from "./solve.js"

/** Tuning knobs of the server-model limiter ({@link ModelState}). */
export interface ModelParameters {
  /** The rate held is `margin ×` the proven lower bound of the server's rate. */
  readonly margin: number
  /** After the first throttle the rate climbs as `e^(rampGrowth·t)` until the next one. */
  readonly rampGrowth: number
  /** Where that climb starts, in requests per second per request of the learned burst. */
  readonly rampStartPerBurst: number
  /** The longest hold (seconds) below the estimate before probing above it. */
  readonly holdSeconds: number
  /** The probe grows as `· (1 + (t / probeSeconds)³)` from where it starts: doubled after `probeSeconds`. */
  readonly probeSeconds: number
  /**
   * The hold ends (and a probe starts) once holding below the upper estimate may have cost this
   * many throttles' worth of requests; a throttle's worth is what the caller was seen to wait after
   * one. Half as many when throttles are cheap (see `cheapWait`).
   */
  readonly probeAfterCosts: number
  /**
   * A wait after a throttle shorter than this (seconds) makes throttles cheap (a jittered backoff,
   * not a whole-second Retry-After): the ramp then grows twice as fast and the hold before a probe
   * is half as long, since a loose estimate costs only a cheap probe to narrow.
   */
  readonly cheapWait: number
  /** The cut when a throttle proves no lower bound of the server's rate. */
  readonly beta: number
  /**
   * Seconds by which a response's time may stray from when the server counted the request (event
   * loop, GC): each window is read this much longer or shorter, whichever keeps the true server inside.
   */
  readonly jitter: number
  /** The same allowance for responses before the first throttle, whose times a cold start blurs. */
  readonly coldJitter: number
  /** Before the first throttle, a gap this long (seconds) ends the run counted as the burst. */
  readonly burstGap: number
  readonly minFillRate: number
  readonly initialRate: number | undefined
  /**
   * Most requests the pacing lets through at once. `undefined` (the default): 1 while ramping or
   * probing; while holding, one less than the least burst the server is proven to allow, so a caller
   * that fell behind (a slow response, a pause) catches up without draining the server's bucket.
   */
  readonly maxBurst: number | undefined
}

/** The defaults of the server-model limiter. */
export const modelParameters: ModelParameters = {
  margin: 1,
  rampGrowth: 1.5,
  rampStartPerBurst: 4,
  holdSeconds: 20,
  probeSeconds: 4,
  probeAfterCosts: 2,
  cheapWait: 0.5,
  beta: 0.5,
  burstGap: 0.1,
  jitter: 0.005,
  coldJitter: 0.005,
  minFillRate: 0.5,
  initialRate: undefined,
  maxBurst: undefined
}

/** How many recent responses the estimator looks back over. */
const HISTORY = 512
/** Waits after a throttle remembered for its cost. */
const WAITS = 8

/**
 * A limiter that models the server as a token bucket (rate R, a whole burst B, full when the
 * limiter starts) and learns both from what it sees, so that it runs at R instead of oscillating
 * around it.
 *
 * The model: the server's level just before the k-th request is at most `Lᵢ + R·(tₖ − tᵢ) − S[i, k)`
 * for every earlier request i (S counts the successes among requests i..k−1, Lᵢ the level then),
 * and equals the least of these with `Lᵢ = B` (the bucket was last full at i). So a success proves
 * `B + R·(tₖ − tᵢ + jitter) − S[i, k) ≥ 1` for every i, and, after a throttle i (`Lᵢ < 1`),
 * `R·(tₖ − tᵢ + jitter) > S[i, k)` whatever B is; a throttle proves `B + R·(tₖ − tᵢ − jitter) −
 * S[i, k) < 1` for some i, or (after a throttle i) `R·(tₖ − tᵢ − jitter) − S[i, k) < 1`. For each
 * whole B the rates that satisfy all of them form an interval (`solve`); the least rate of any is a
 * proven lower bound `lo` of R, and the intervals that follow it closely end at `hi`, where R most
 * likely ends. A long run that drains the server's bucket slowly makes them narrow (about
 * 1 / the run's length). A history that no (R, B) explains (the server's limit changed, or its
 * bucket was not full when we started) is cut back to what followed the previous throttle.
 *
 * - Unlimited until the first throttle. The successes sent back to back just before it are the
 *   burst estimate `B̂`, which sets where the ramp starts.
 * - Then a ramp: from `rampStartPerBurst · B̂` requests/s, growing by `e^(rampGrowth)` per second in
 *   which the limiter set the pace (twice as fast when the caller's retry came within `cheapWait`),
 *   until the next throttle.
 * - On each throttle that proves a lower bound: hold `margin × lo`. Under R the server's bucket
 *   stays full and nothing is throttled; below `hi` the hold may be losing up to `hi − lo`. (With no
 *   `hi` yet, the ramp goes on from `lo`.)
 * - The hold lasts until that possible loss reaches `probeAfterCosts` throttles' worth (half that
 *   when throttles are cheap; a throttle
 *   costs what the caller idles after it, seen on each retry: a 500 ms jittered backoff is cheap, a
 *   whole-second Retry-After is not), at most `holdSeconds`. Then probe from halfway to `hi`,
 *   growing along a slow cubic: if R is above, nothing is lost and the probe crosses it slowly
 *   later; if below, the bucket drains at under half the gap per second, so the throttle that ends
 *   the probe narrows the interval again. A raised limit is found the same way.
 * - A throttle during a hold means the server changed: the history before it is dropped and the
 *   ramp starts again from `beta ×` the rate. A throttle that proves nothing does the same.
 * - Many callers (see the README): a throttle acted on withdraws the reservations of the callers
 *   queued at the old pace (`withdraw`: they book again with `rebook` when their wait ends, if the
 *   `epoch` changed meanwhile); the answers of requests already sent are `stale`: evidence only.
 *   A caller that waits out a reservation itself (not through `ChimeRateLimiter`'s `acquire`)
 *   must do the same re-check.
 */
export class ModelState extends PacingBucket {
  /** The learned burst `B̂`, once a throttle has shown it. */
  burst: number | undefined = undefined
  phase: "unlimited" | "ramp" | "hold" | "probe" = "unlimited"
  /** Ramp: its starting rate, and when it started (the first response after the throttle). */
  rampFrom = 0
  rampStart: number | undefined = undefined
  /** Ramp time that counts (see `planned`), and when it was last counted. */
  rampElapsed = 0
  rampClock = 0
  /** Whether the last reservation had to wait: the limiter, not the caller, set the pace. */
  limited = false
  /** Whether the ramp runs fast (throttles are cheap). */
  fast = false
  /** Hold: the rate held, since when, and when the probe starts. */
  held = 0
  holdStart = 0
  probeAt = 0
  /** The last lower bound of the server's rate (for observation and tests). */
  estimate: number | undefined = undefined
  /** The last upper estimate of the server's rate (`Infinity`: none). */
  upper = Infinity
  /** The least burst the server is proven to allow. */
  burstFloor = 1
  /** Response times, oldest first from `count` back, and whether each succeeded (a ring). */
  private readonly times = new Float64Array(HISTORY)
  private readonly ok = new Uint8Array(HISTORY)
  /** Responses before the first throttle: a cold start (connections, cold code) blurs their times. */
  private readonly cold = new Uint8Array(HISTORY)
  private count = 0
  private head = 0
  /**
   * Whether the history starts near the first request, when the server's bucket is taken to be full;
   * `deficit` is how many successes before the history's start that full bucket may have paid for.
   * The first response is left out: its time strays most (connection set-up, cold code on both sides).
   */
  private startFull = true
  /**
   * Whether old responses fell out of the history (which then starts at an unknown level), and the
   * burst range the history proved before that; B is the server's constant, so it still binds.
   */
  private overflowed = false
  private carried: BurstRange | undefined = undefined
  private deficit = 0
  private seen = false
  /** The time of a throttle whose retry has not been sent yet, and the waits seen after throttles. */
  private throttledAt: number | undefined = undefined
  private readonly waits: Array<number> = []
  /** Permits booked and not yet answered (fed back) nor given back. */
  private inflight = 0
  /**
   * How many of the next answers were sent before the last throttle the model acted on (those
   * queued then were re-timed), and until when they may come: their throttles are that same
   * overshoot seen again, not news of the server.
   */
  private stale = 0
  private staleUntil = 0
  /**
   * Whether the answers still due from the run that the first throttle ended count into the burst
   * estimate: requests sent back to back before it, answered after it (many callers at once).
   */
  private countingBurst = false

  constructor(readonly params: ModelParameters, now: number) {
    super()
    this.fillRate = params.minFillRate
    this.maxCapacity = 1
    if (params.initialRate !== undefined) {
      this.enabled = true
      this.hold(Math.max(params.initialRate, params.minFillRate), now, Infinity)
      this.currentCapacity = this.maxCapacity
    }
  }

  /**
   * Takes one token; remembers whether the limiter, not the caller, set the pace. Call it for every
   * request, unlimited or not, so the model knows how many are in flight.
   */
  override reserve(now: number): number {
    this.inflight++
    if (this.throttledAt !== undefined) {
      // The caller's first send after a throttle: how long a throttle keeps it idle.
      const wait = Math.max(0, now - this.throttledAt)
      this.waits.push(wait)
      if (this.waits.length > WAITS) this.waits.shift()
      this.throttledAt = undefined
      if (this.phase === "ramp" && this.rampStart === undefined && wait < this.params.cheapWait) {
        this.fast = true
      }
    }
    const delay = super.reserve(now)
    this.limited = delay > 0
    return delay
  }

  override refund(): void {
    this.inflight = Math.max(0, this.inflight - 1)
    super.refund()
  }

  override rebook(now: number): number {
    const delay = super.rebook(now)
    this.limited = delay > 0
    return delay
  }

  override forget(): void {
    this.inflight = Math.max(0, this.inflight - 1)
  }

  /** Feeds back one response: throttled or not. */
  update(now: number, throttled: boolean): void {
    this.inflight = Math.max(0, this.inflight - 1)
    if (this.stale > 0) {
      if (now > this.staleUntil) this.stale = 0
      else {
        this.stale--
        if (!throttled && this.countingBurst && this.burst !== undefined) {
          // Sent in the run the first throttle ended, answered after it: part of the burst the
          // server let through, so the ramp starts from it (see `trailingRun`).
          this.burst++
          this.rampFrom = Math.max(this.rampFrom, this.params.rampStartPerBurst * this.burst)
        }
        if (throttled) {
          // Booked before the model reacted to a throttle (many callers share the limiter): the
          // server answers it from the bucket that throttle already showed empty. It is evidence for
          // the bounds, but no reason to cut again, nor a sign that the server changed during a hold.
          this.record(now, false)
          return
        }
      }
    }
    this.record(now, !throttled)
    if (!throttled) {
      if (this.phase === "ramp" && this.rampStart === undefined) {
        this.rampStart = now
        this.rampClock = now
        this.rampElapsed = 0
      }
      if (this.enabled) this.setRate(this.planned(now), now)
      return
    }
    this.throttledAt = now
    this.countingBurst = this.phase === "unlimited"
    if (this.phase === "unlimited") this.burst = this.trailingRun()
    if (this.phase === "hold") {
      // Throttled below a rate the history proved safe: the server's limit has changed (or was
      // shared). What came before no longer describes it; start again from this throttle.
      this.count = 1
      this.startFull = false
      this.overflowed = false
      this.carried = undefined
      this.burstFloor = 1
    }
    const bounds = this.bounds()
    // The callers queued in the pacing bucket were booked at the old pace, and would go out at it
    // into the server's bucket this throttle just showed empty: a run of throttles with many
    // callers. Their bookings are withdrawn; each books again when its wait ends, at the rate set
    // below. The requests already sent cannot be: their answers, within a second of latency, are
    // this same overshoot seen again.
    const queued = this.withdraw(now)
    this.stale = Math.max(0, this.inflight - queued)
    this.staleUntil = now + 1
    // The server's bucket is (nearly) empty: the pacing must not let a saved-up burst follow.
    this.currentCapacity = Math.min(this.currentCapacity, 0)
    if (bounds?.lo !== undefined) {
      this.estimate = bounds.lo
      this.upper = bounds.hi
      this.burstFloor = bounds.burst
      this.enabled = true
      // Without an upper bound the throttle is not yet placed: climb on from the lower one.
      if (bounds.hi === Infinity) this.ramp(this.params.margin * bounds.lo, now)
      else this.hold(this.params.margin * bounds.lo, now, bounds.hi)
      return
    }
    this.upper = bounds?.hi ?? Infinity
    const from = this.phase === "unlimited"
      ? this.params.rampStartPerBurst * (this.burst ?? 1)
      : this.params.beta * this.fillRate // started at `initialRate`, or a throttle that proved nothing
    this.enabled = true
    this.ramp(from, now)
  }

  private record(now: number, success: boolean): void {
    if (!this.seen) {
      this.seen = true
      if (success) {
        this.deficit = 1
        return
      }
    }
    this.times[this.head] = now
    this.ok[this.head] = success ? 1 : 0
    this.cold[this.head] = this.phase === "unlimited" ? 1 : 0
    this.head = (this.head + 1) % HISTORY
    if (this.count < HISTORY) this.count++
    else {
      // The oldest response fell out: the history no longer starts full, nor at a throttle.
      this.startFull = false
      this.overflowed = true
    }
  }

  /**
   * The successes sent back to back just before the first throttle: the run back from the newest
   * success up to a gap of `burstGap`. A pause that long before it (a slow first request, a quiet
   * period) let the server's bucket fill, so the run spent the whole burst and little refill.
   */
  private trailingRun(): number {
    let run = 0
    let next: number | undefined = undefined
    for (let d = 1; d <= this.count; d++) {
      const i = (this.head - d + HISTORY) % HISTORY
      if (this.ok[i] === 0) continue
      const t = this.times[i]!
      if (next !== undefined && next - t > this.params.burstGap) break
      run++
      next = t
    }
    return Math.max(1, run)
  }

  /**
   * The rates R (and least burst) for which some B explains the history; when none does, the
   * history is cut back to what followed the previous throttle, then to nothing (`undefined`).
   */
  bounds(): Bounds | undefined {
    for (;;) {
      const found = solve(this.history(), {
        jitter: this.params.jitter,
        coldJitter: this.params.coldJitter,
        minFillRate: this.params.minFillRate,
        fillRate: this.fillRate
      })
      if (found === undefined) return undefined
      if (found !== "infeasible") {
        this.carried = found.carried
        return found.bounds
      }
      // No token bucket explains it all (the server's limit changed?): keep only what followed
      // the previous throttle, which left the bucket empty; then only the newest throttle.
      let keep = 1
      for (let d = 2; d < this.count; d++) {
        if (this.ok[(this.head - d + HISTORY) % HISTORY] === 0) {
          keep = d
          break
        }
      }
      if (keep === this.count) return undefined
      this.count = keep
      this.startFull = false
      this.overflowed = false
      this.carried = undefined
    }
  }

  /** The history in the ring, oldest first, as `solve` reads it. */
  private history(): History {
    const n = this.count
    const times = new Float64Array(n)
    const ok = new Uint8Array(n)
    const cold = new Uint8Array(n)
    for (let m = 0; m < n; m++) {
      const i = (this.head - n + m + HISTORY) % HISTORY
      times[m] = this.times[i]!
      ok[m] = this.ok[i]!
      cold[m] = this.cold[i]!
    }
    return {
      times,
      ok,
      cold,
      startFull: this.startFull,
      deficit: this.deficit,
      carried: this.overflowed ? this.carried : undefined
    }
  }

  private ramp(from: number, now: number): void {
    this.phase = "ramp"
    this.fast = false
    this.rampFrom = Math.max(from, this.params.minFillRate)
    this.rampStart = undefined
    this.setRate(this.rampFrom, now)
  }

  private hold(rate: number, now: number, upper: number): void {
    this.phase = "hold"
    this.held = Math.max(rate, this.params.minFillRate)
    this.holdStart = now
    this.probeAt = now + this.holdFor(upper)
    this.setRate(this.held, now)
  }

  /**
   * How long to hold before probing: until holding below the upper bound may have lost
   * `probeAfterCosts` throttles' worth of requests. A throttle costs the requests the server could
   * have served while the caller idled after it, less the burst that idling saved up.
   */
  private holdFor(upper: number): number {
    const gap = upper - this.held
    if (this.waits.length === 0 || !(gap > 0) || gap === Infinity) return this.params.holdSeconds
    const wait = this.waits.reduce((a, b) => a + b, 0) / this.waits.length
    const cost = 1 + Math.max(0, this.held * wait - this.burstFloor)
    // Cheap throttles (a short backoff) are worth risking at the optimistic gap; an expensive one
    // (a whole-second Retry-After) only at the expected gap, halfway to the upper estimate. A
    // burst of 1 drains in one request, so its probes narrow little: no haste there either.
    const cheap = wait < this.params.cheapWait && this.burstFloor >= 2
    const costs = cheap ? this.params.probeAfterCosts / 2 : this.params.probeAfterCosts
    return Math.min(this.params.holdSeconds, (costs * cost) / gap)
  }

  /** The rate the current phase asks for at `now`. */
  private planned(now: number): number {
    if (this.phase === "ramp") {
      if (this.rampStart === undefined) return this.rampFrom
      // The ramp's clock runs only while the limiter is what holds the callers back. A caller slowed
      // by its own latency would otherwise let the rate run far ahead, then, speeding up, cross the
      // server's rate in a jump and drain its bucket too fast to measure anything.
      if (this.limited) this.rampElapsed += now - this.rampClock
      this.rampClock = now
      const growth = this.fast ? 2 * this.params.rampGrowth : this.params.rampGrowth
      return this.rampFrom * Math.exp(growth * this.rampElapsed)
    }
    if (now < this.probeAt) return this.held
    this.phase = "probe"
    // From halfway to the upper bound: if R is above that, the bucket stays full and the slow
    // growth crosses R later, draining it slowly; if below, it drains at under half the gap.
    const from = this.upper === Infinity ? this.held : Math.max(this.held, (this.held + this.upper) / 2)
    return from * (1 + Math.pow((now - this.probeAt) / this.params.probeSeconds, 3))
  }

  private setRate(rate: number, now: number): void {
    this.refill(now)
    this.fillRate = Math.max(rate, this.params.minFillRate)
    const learned = this.phase === "hold" ? Math.max(1, Math.floor(this.burstFloor) - 1) : 1
    this.maxCapacity = this.params.maxBurst === undefined
      ? learned
      : Math.max(1, Math.min(this.fillRate, this.params.maxBurst))
    this.currentCapacity = Math.min(this.currentCapacity, this.maxCapacity)
  }
}
