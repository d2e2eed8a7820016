/**
 * A token bucket that hands out reservations: `reserve` always takes a token and says how long to
 * wait for it. The level may go negative — that is the queue of callers already waiting — so N
 * callers at rate R with burst B are spaced exactly 1/R apart after the first B, with no drift
 * from rounding sleeps. Times in milliseconds.
 */
export class TokenBucket {
  private tokens: number
  private last: number | undefined = undefined

  constructor(readonly rate: number, readonly burst: number) {
    this.tokens = burst
  }

  reserve(now: number): number {
    if (this.last !== undefined) this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000)
    this.last = now
    this.tokens -= 1
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.rate
  }

  /** Gives back a reservation whose caller stopped waiting, so later callers do not wait for it. */
  refund(): void {
    this.tokens = Math.min(this.burst, this.tokens + 1)
  }
}
