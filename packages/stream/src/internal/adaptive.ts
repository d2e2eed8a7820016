/**
 * The adaptive rate limiter's arithmetic, free of Effect so it can be read (and checked) on its
 * own. It follows the AWS SDKs' adaptive retry mode (`DefaultRateLimiter` in smithy-js,
 * `ClientRateLimiter` in the Rust and Kotlin runtimes): a token bucket whose fill rate is cut by
 * `beta` on a throttle and grows back along a CUBIC curve, never above twice the measured send rate.
 *
 * All times are in seconds. One instance belongs to one limiter; every method is synchronous so a
 * caller can read the clock, then update the state, with nothing in between.
 */

/** Tuning knobs, with the AWS SDK values as defaults. */
export interface AdaptiveParameters {
  readonly beta: number
  readonly scaleConstant: number
  readonly smooth: number
  readonly minFillRate: number
  readonly minCapacity: number
  /** Requests per second to start at; `undefined` starts unlimited until the first throttle. */
  readonly initialRate: number | undefined
  /** Most tokens the bucket holds, as seconds of the current rate (the SDKs: 1 s) — see `maxBurst`. */
  readonly maxBurst: number | undefined
}

/** The AWS SDK values. */
export const awsParameters: AdaptiveParameters = {
  beta: 0.7,
  scaleConstant: 0.4,
  smooth: 0.8,
  minFillRate: 0.5,
  minCapacity: 1,
  initialRate: undefined,
  maxBurst: undefined
}

/** Requests counted before the first measurement window closes are measured over at least this long. */
const MIN_MEASURE_WINDOW = 0.05

/**
 * The token bucket both adaptive limiters pace requests with; they differ only in how they set
 * its rate. The bucket may go negative: each waiting caller has reserved its own slot, so
 * concurrent callers are spaced `1 / fillRate` apart instead of all waking together.
 */
abstract class PacingBucket {
  enabled = false
  fillRate = 0
  maxCapacity = 1
  currentCapacity = 0
  lastTimestamp: number | undefined = undefined

  /** The rate in force, `undefined` while unlimited. */
  get rate(): number | undefined {
    return this.enabled ? this.fillRate : undefined
  }

  /** Takes one token and returns how long (seconds) the caller must wait before sending. */
  reserve(now: number): number {
    if (!this.enabled) return 0
    this.refill(now)
    const delay = this.currentCapacity >= 1 ? 0 : (1 - this.currentCapacity) / this.fillRate
    this.currentCapacity -= 1
    return delay
  }

  /** Gives back a reservation whose caller stopped waiting. */
  refund(): void {
    this.currentCapacity = Math.min(this.maxCapacity, this.currentCapacity + 1)
  }

  protected refill(now: number): void {
    if (this.lastTimestamp !== undefined) {
      this.currentCapacity = Math.min(this.maxCapacity, this.currentCapacity + (now - this.lastTimestamp) * this.fillRate)
    }
    this.lastTimestamp = now
  }
}

/** The state of one adaptive limiter (the SDKs' `DefaultRateLimiter` fields, in seconds). */
export class AdaptiveState extends PacingBucket {
  lastMaxRate = 0
  lastThrottleTime: number
  timeWindow = 0
  measuredTxRate = 0
  requestCount = 0
  lastTxRateBucket: number
  /** When the current measurement window opened (for the estimate before any window closed). */
  firstRequestTime: number | undefined = undefined

  constructor(readonly params: AdaptiveParameters, now: number) {
    super()
    this.fillRate = params.minFillRate
    this.maxCapacity = params.minCapacity
    this.lastThrottleTime = now
    this.lastTxRateBucket = Math.floor(now)
    if (params.initialRate !== undefined) {
      const rate = Math.max(params.initialRate, params.minFillRate)
      this.enabled = true
      this.lastMaxRate = rate
      this.timeWindow = this.window(rate)
      // Start on the plateau of the curve, at the configured rate, not on its way up to it.
      this.lastThrottleTime = now - this.timeWindow
      this.setRate(rate, now)
      this.currentCapacity = this.maxCapacity
    }
  }


  /** Feeds back one response: throttled or not. */
  update(now: number, throttled: boolean): void {
    this.measure(now)
    let calculated: number
    if (throttled) {
      const measured = this.measuredOrEstimate(now)
      const rateToUse = this.enabled ? Math.min(measured, this.fillRate) : measured
      this.lastMaxRate = rateToUse
      this.timeWindow = this.window(rateToUse)
      this.lastThrottleTime = now
      calculated = rateToUse * this.params.beta
      this.enabled = true
    } else {
      if (!this.enabled) return
      this.timeWindow = this.window(this.lastMaxRate)
      calculated = this.params.scaleConstant * Math.pow(now - this.lastThrottleTime - this.timeWindow, 3) +
        this.lastMaxRate
    }
    const bound = 2 * this.measuredOrEstimate(now)
    this.setRate(Math.min(calculated, bound), now)
  }

  private window(maxRate: number): number {
    return Math.cbrt((maxRate * (1 - this.params.beta)) / this.params.scaleConstant)
  }

  private setRate(rate: number, now: number): void {
    this.refill(now)
    this.fillRate = Math.max(rate, this.params.minFillRate)
    const capacity = this.params.maxBurst === undefined ? rate : Math.min(rate, this.params.maxBurst)
    this.maxCapacity = Math.max(capacity, this.params.minCapacity)
    this.currentCapacity = Math.min(this.currentCapacity, this.maxCapacity)
  }


  /**
   * The send rate, smoothed over half-second buckets (as the SDKs do). The first bucket opens at
   * the first response, not when the limiter was built: the SDKs count from construction, so a
   * limiter built a while before its first request measures a near-zero rate in its first bucket.
   */
  private measure(now: number): void {
    const bucket = Math.floor(now * 2) / 2
    if (this.firstRequestTime === undefined) {
      this.firstRequestTime = now
      this.lastTxRateBucket = bucket
    }
    this.requestCount += 1
    if (bucket > this.lastTxRateBucket) {
      const current = this.requestCount / (bucket - this.lastTxRateBucket)
      this.measuredTxRate = current * this.params.smooth + this.measuredTxRate * (1 - this.params.smooth)
      this.requestCount = 0
      this.lastTxRateBucket = bucket
    }
  }

  /**
   * The measured rate, or — before the first half-second window has closed — the rate seen since
   * the first response. The SDKs use the unmeasured 0 here, which drops a client throttled in its
   * first half second to the 0.5 req/s floor and costs it seconds of slow start; the estimate
   * keeps the multiplicative decrease relative to what was actually sent.
   */
  private measuredOrEstimate(now: number): number {
    if (this.measuredTxRate > 0 || this.firstRequestTime === undefined) return this.measuredTxRate
    return this.requestCount / Math.max(now - this.firstRequestTime, MIN_MEASURE_WINDOW)
  }
}

/** Tuning knobs of the server-model limiter ({@link ModelState}). */
export interface ModelParameters {
  /** The rate held is `margin ×` the estimated server rate. */
  readonly margin: number
  /** After the first throttle the rate climbs as `e^(rampGrowth·t)` until the next one. */
  readonly rampGrowth: number
  /** Where that climb starts, in requests per second per request of the learned burst. */
  readonly rampStartPerBurst: number
  /** Seconds the estimated rate is held before probing above it. */
  readonly holdSeconds: number
  /** After the hold the rate grows as `held · (1 + (t / probeSeconds)³)`: doubled after `probeSeconds`. */
  readonly probeSeconds: number
  /** The cut when a throttle carries no usable estimate (it came too soon after the last refill). */
  readonly beta: number
  /** Windows shorter than this (seconds) are not used for an estimate: their error is up to 1/length. */
  readonly minWindow: number
  /**
   * Seconds by which a response's time may stray from when the server counted the request (event
   * loop, GC): every interval is read this much shorter than measured, which only lowers estimates.
   */
  readonly jitter: number
  /** Before the first throttle, a gap this long (seconds) ends the run counted as the burst. */
  readonly burstGap: number
  readonly minFillRate: number
  readonly initialRate: number | undefined
  readonly maxBurst: number
}

/** The defaults of the server-model limiter. */
export const modelParameters: ModelParameters = {
  margin: 0.98,
  rampGrowth: 1.5,
  rampStartPerBurst: 4,
  holdSeconds: 20,
  probeSeconds: 10,
  beta: 0.5,
  minWindow: 0.25,
  burstGap: 0.1,
  jitter: 0.005,
  minFillRate: 0.5,
  initialRate: undefined,
  maxBurst: 1
}

/** How many recent successes the estimator looks back over. */
const HISTORY = 4096

/**
 * A limiter that models the server as a token bucket (rate R, burst B) and learns both from
 * throttles, so that it holds just below R instead of oscillating around it.
 *
 * The one fact it relies on: a token bucket lets at most `B + R·T` requests through in any window
 * of T seconds. So every run of D successes over T seconds proves `R ≥ (D − B)/T`, whatever the
 * bucket held, and the bound is tight (within `1/T`) for a window that starts with the bucket full
 * and ends with it empty — which a throttle marks. The estimate is the best such bound over the
 * successes since the last throttle (the wait a throttle imposes lets the server refill, so
 * windows never straddle one), with B itself bounded by the first throttled run: that run went from
 * a full bucket to an empty one, so `B < D(s) + 1 − R·(t₄₂₉ − s)` for some start s of it. The
 * least R for which some B satisfies every such constraint is the estimate (`jointLowerBound`).
 *
 * Why: each 429 costs the caller a Retry-After wait, a whole second from many servers, which a
 * sequential listing spends idle; AWS adaptive mode (`AdaptiveState`) climbs back into the limit
 * every few seconds and pays that second each time. Holding just under a measured R pays it twice
 * (the throttle that ends the unlimited start, the one that ends the ramp) and then not again
 * until the server's limit changes or a probe looks for more.
 *
 * - Unlimited until the first throttle. The successes sent back to back just before it are the
 *   burst estimate `B̂` (at least B when the bucket was full as the run began: a full bucket of an
 *   integer B always lets B through; too high only makes the estimates lower). It sets where the
 *   ramp starts, and stands in for B when there is no first run to bound it (`initialRate`).
 * - Then a ramp: from `rampStartPerBurst · B̂` requests/s, growing by `e^(rampGrowth)` per second
 *   in which the limiter set the pace, until the next throttle. Crossing R slowly makes the bucket
 *   drain over a few tenths of a second, a window long enough for a good estimate.
 * - On each later throttle: hold `margin ×` the estimate (a lower bound of R, so the hold does not
 *   drain the server's bucket). A throttle too soon after the last one to measure anything cuts
 *   the rate by `beta` and ramps again.
 * - After `holdSeconds` without a throttle, probe upward along a cubic, slowly at first, so a raised
 *   server limit is found; the throttle that ends the probe re-estimates. A lowered limit throttles
 *   the hold; the wait refills the bucket and the next throttle measures the new rate.
 */
export class ModelState extends PacingBucket {
  /** The learned burst `B̂`, once a throttle has shown it. */
  burst: number | undefined = undefined
  phase: "unlimited" | "ramp" | "hold" = "unlimited"
  /** Ramp: its starting rate, and when it started (the first response after the throttle). */
  rampFrom = 0
  rampStart: number | undefined = undefined
  /** Ramp time that counts (see `planned`), and when it was last counted. */
  rampElapsed = 0
  rampClock = 0
  /** Whether the last reservation had to wait: the limiter, not the caller, set the pace. */
  limited = false
  /** Hold: the rate held and since when. */
  held = 0
  holdStart = 0
  /** The last estimate of the server's rate (for observation and tests). */
  estimate: number | undefined = undefined
  /**
   * The first throttled run (from a full bucket to an empty one): its success times and the time
   * of its 429. It caps the burst: the server's bucket cannot have held more than this run used.
   */
  first: { readonly times: ReadonlyArray<number>; readonly throttle: number } | undefined = undefined
  /** Response times of the successes since the last throttle (a ring). */
  private readonly times = new Float64Array(HISTORY)
  private count = 0
  private head = 0

  constructor(readonly params: ModelParameters, now: number) {
    super()
    this.fillRate = params.minFillRate
    this.maxCapacity = 1
    if (params.initialRate !== undefined) {
      this.enabled = true
      this.hold(Math.max(params.initialRate, params.minFillRate), now)
      this.currentCapacity = this.maxCapacity
    }
  }

  /** Takes one token; remembers whether the limiter, not the caller, set the pace. */
  override reserve(now: number): number {
    const delay = super.reserve(now)
    this.limited = delay > 0
    return delay
  }

  /** Feeds back one response: throttled or not. */
  update(now: number, throttled: boolean): void {
    if (!throttled) {
      this.times[this.head] = now
      this.head = (this.head + 1) % HISTORY
      if (this.count < HISTORY) this.count++
      if (this.phase === "ramp" && this.rampStart === undefined) {
        this.rampStart = now
        this.rampClock = now
        this.rampElapsed = 0
      }
      if (this.enabled) this.setRate(this.planned(now), now)
      return
    }
    if (this.first === undefined) {
      // The first throttled run, from the bucket full when the limiter started to empty.
      this.burst = this.trailingRun()
      this.first = { times: this.recent(), throttle: now }
      const from = this.phase === "unlimited"
        ? this.params.rampStartPerBurst * this.burst
        : this.params.beta * this.fillRate // started at `initialRate`, which proved too fast
      this.enabled = true
      this.ramp(from, now)
    } else {
      const bound = this.jointLowerBound(now)
      if (bound !== undefined) {
        this.estimate = bound
        this.hold(Math.min(this.params.margin * bound, this.params.margin * this.fillRate), now)
      } else {
        this.ramp(this.params.beta * this.fillRate, now)
      }
    }
    this.count = 0
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
      const t = this.times[(this.head - d + HISTORY) % HISTORY]!
      if (next !== undefined && next - t > this.params.burstGap) break
      run++
      next = t
    }
    return Math.max(1, run)
  }

  /**
   * The best lower bound of the server's rate that the successes since the last throttle prove:
   * `max (D − B)/T` over windows from each success to the last one, B bounded by the first run. `undefined` when no window of
   * at least `minWindow` proves a positive rate.
   */
  lowerBound(): number | undefined {
    // Every success of the first run is a safe upper bound of B (a full bucket of B lets B through);
    // the trailing run, which may be lower, only places the ramp.
    const burst = Math.max(1, this.first?.times.length ?? this.burst ?? 1)
    if (this.count === 0) return undefined
    const last = this.times[(this.head - 1 + HISTORY) % HISTORY]!
    let best: number | undefined = undefined
    // Walk back from the newest success: D grows by one per step, T to the window's first success.
    for (let d = 1; d <= this.count; d++) {
      const start = this.times[(this.head - d + HISTORY) % HISTORY]!
      const span = last - start
      if (span < this.params.minWindow) continue
      const bound = (d - burst) / span
      if (bound > 0 && (best === undefined || bound > best)) best = bound
    }
    return best
  }

  /** The successes since the last throttle, oldest first. */
  private recent(): Array<number> {
    const out: Array<number> = []
    for (let d = this.count; d >= 1; d--) out.push(this.times[(this.head - d + HISTORY) % HISTORY]!)
    return out
  }

  /**
   * The least server rate R for which some burst B explains both the first throttled run and the
   * successes since the last throttle — a lower bound of R that needs no burst estimate:
   * - every run of D successes over T seconds needs `B ≥ D − R·T` (here: every run ending at the
   *   newest success of either episode);
   * - the first run began with the bucket full and its 429 found it empty, so for some start `s`
   *   of that run `B < D(s) + 1 − R·(t₄₂₉ − s)`.
   * Raising R loosens the first (long runs weigh `R·T` most) faster than the second (the first run
   * was short), so the feasible rates are those above one threshold, found by bisection.
   * `undefined` when nothing above zero is proven (runs too short to tell).
   */
  jointLowerBound(now: number): number | undefined {
    const first = this.first!
    const current = this.recent().slice(-1024)
    if (current.length === 0) return undefined
    const need = (times: ReadonlyArray<number>, rate: number): number => {
      let most = -Infinity
      const last = times[times.length - 1]!
      for (let i = 0; i < times.length; i++) {
        most = Math.max(most, times.length - i - rate * Math.max(0, last - times[i]! - this.params.jitter))
      }
      return most
    }
    const cap = (rate: number): number => {
      let most = -Infinity
      const ts = first.times
      for (let i = 0; i < ts.length; i++) {
        most = Math.max(most, ts.length - i + 1 - rate * Math.max(0, first.throttle - ts[i]! - this.params.jitter))
      }
      return most
    }
    const feasible = (rate: number) => Math.max(1, need(first.times, rate), need(current, rate)) < cap(rate)
    // The feasible rates run from a least one up to where the first run's last gap could not have
    // refilled even one token; scan up geometrically for the least, then bisect.
    const top = Math.max(this.params.minFillRate, current.length / Math.max(now - current[0]!, 1e-3)) * 4
    let lo = 0
    let found: number | undefined = undefined
    for (let rate = this.params.minFillRate; rate <= top; rate *= 1.02) {
      if (feasible(rate)) {
        found = rate
        break
      }
      lo = rate
    }
    if (found === undefined) return this.lowerBound()
    if (lo === 0) return undefined
    let hi = found
    for (let i = 0; i < 20; i++) {
      const mid = (lo + hi) / 2
      if (feasible(mid)) hi = mid
      else lo = mid
    }
    const windowed = this.lowerBound()
    return windowed === undefined ? hi : Math.max(hi, windowed)
  }

  private ramp(from: number, now: number): void {
    this.phase = "ramp"
    this.rampFrom = Math.max(from, this.params.minFillRate)
    this.rampStart = undefined
    this.setRate(this.rampFrom, now)
  }

  private hold(rate: number, now: number): void {
    this.phase = "hold"
    this.held = Math.max(rate, this.params.minFillRate)
    this.holdStart = now
    this.setRate(this.held, now)
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
      return this.rampFrom * Math.exp(this.params.rampGrowth * this.rampElapsed)
    }
    const probing = now - this.holdStart - this.params.holdSeconds
    return probing <= 0 ? this.held : this.held * (1 + Math.pow(probing / this.params.probeSeconds, 3))
  }

  private setRate(rate: number, now: number): void {
    this.refill(now)
    this.fillRate = Math.max(rate, this.params.minFillRate)
    this.maxCapacity = Math.max(1, Math.min(this.fillRate, this.params.maxBurst))
    this.currentCapacity = Math.min(this.currentCapacity, this.maxCapacity)
  }

}
