/**
 * The AWS SDKs' adaptive retry mode (`DefaultRateLimiter` in smithy-js, `ClientRateLimiter` in the
 * Rust and Kotlin runtimes), free of Effect so it can be read (and checked) on its own: a token
 * bucket whose fill rate is cut by `beta` on a throttle and grows back along a CUBIC curve, never
 * above twice the measured send rate.
 *
 * All times are in seconds. One instance belongs to one limiter; every method is synchronous so a
 * caller can read the clock, then update the state, with nothing in between.
 */
import { PacingBucket } from "../pacingBucket.js"

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
