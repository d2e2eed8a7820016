/**
 * The one client-side token bucket: the fixed limiter and both adaptive limiters pace requests
 * with it; the adaptive ones differ only in how they set its rate and capacity.
 *
 * It hands out reservations: `reserve` always takes a token and says how long to wait for it. The
 * level may go negative — that is the queue of callers already waiting — so concurrent callers are
 * spaced exactly `1 / fillRate` apart instead of all waking together, with no drift from rounding
 * sleeps.
 *
 * Times are in ticks of `ticksPerSecond` (1: seconds, 1000: milliseconds); `fillRate` is per
 * second. A tick of one second leaves the arithmetic exactly as if there were no unit at all.
 */
export class PacingBucket {
  /** While `false` the bucket is unlimited: `reserve` grants at once and takes nothing. */
  enabled = false
  fillRate = 0
  maxCapacity = 1
  currentCapacity = 0
  lastTimestamp: number | undefined = undefined
  /**
   * Bumped when the reservations handed out so far are withdrawn (see {@link withdraw}): a caller
   * whose wait ends under another epoch than it booked in books again with {@link rebook}.
   */
  epoch = 0

  constructor(readonly ticksPerSecond: number = 1) {}

  /** A bucket with a fixed `rate` per second and `burst` tokens, starting full. */
  static fixed(rate: number, burst: number, ticksPerSecond: number): PacingBucket {
    const bucket = new PacingBucket(ticksPerSecond)
    bucket.enabled = true
    bucket.fillRate = rate
    bucket.maxCapacity = burst
    bucket.currentCapacity = burst
    return bucket
  }

  /** The rate in force, `undefined` while unlimited. */
  get rate(): number | undefined {
    return this.enabled ? this.fillRate : undefined
  }

  /** Takes one token and returns how long (ticks) the caller must wait before sending. */
  reserve(now: number): number {
    if (!this.enabled) return 0
    this.refill(now)
    const delay = this.currentCapacity >= 1 ? 0 : ((1 - this.currentCapacity) * this.ticksPerSecond) / this.fillRate
    this.currentCapacity -= 1
    return delay
  }

  /** Gives back a reservation whose caller stopped waiting, so later callers do not wait for it. */
  refund(): void {
    this.currentCapacity = Math.min(this.maxCapacity, this.currentCapacity + 1)
  }

  /**
   * Withdraws the reservations of the callers still waiting at `now`, so that they go out at the
   * rate set next rather than at the one they were booked under: the queue is emptied (level 0)
   * and the epoch bumped. Returns how many callers were waiting.
   */
  withdraw(now: number): number {
    if (!this.enabled) return 0
    this.refill(now)
    const waiting = Math.ceil(-this.currentCapacity - 1e-9)
    if (waiting <= 0) return 0
    this.currentCapacity = 0
    this.epoch++
    return waiting
  }

  /**
   * Whether a caller woken at `now` for a reservation due at `due` is more than one interval late
   * (the event loop was busy): every caller due meanwhile is woken at once, a burst the pacing never
   * granted. The time lost is lost; such a caller books again ({@link rebook}) from `now`, where the
   * bucket has refilled by what the delay saved up, up to its capacity, and goes at once if that
   * covers it.
   */
  overdue(due: number, now: number): boolean {
    return this.enabled && now - due > this.ticksPerSecond / this.fillRate
  }

  /** Books again for a caller whose reservation was withdrawn, or is overdue: {@link reserve}, for the same request. */
  rebook(now: number): number {
    return PacingBucket.prototype.reserve.call(this, now)
  }

  /** Forgets a withdrawn reservation whose caller stopped waiting (its token was already given back). */
  forget(): void {}

  protected refill(now: number): void {
    if (this.lastTimestamp !== undefined) {
      this.currentCapacity = Math.min(
        this.maxCapacity,
        this.currentCapacity + ((now - this.lastTimestamp) * this.fillRate) / this.ticksPerSecond
      )
    }
    this.lastTimestamp = now
  }
}
