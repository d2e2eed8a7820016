/**
 * The per-attempt deadlines of the exchanges in flight, on one Node timer.
 *
 * Invariant: an exchange is armed from `startTimer` until it settles or expires, and the timer,
 * while set, fires at or before the earliest deadline armed (`at`).
 */

/** What {@link deadlines} times: a deadline in `performance.now()` time, and what to do when it passes. */
export interface Timed {
  readonly deadline: number
  expire(): void
}

/**
 * The deadlines of every exchange in flight, on one Node timer set for the earliest of them. A
 * timer per exchange cost ~7 µs to set and more to clear, measured in a listing (a 10-second
 * `setTimeout` creates and schedules its timer list each time the previous one emptied); arming
 * and disarming here is a `Set` operation. When the timer fires it fails what is due and is set for
 * the next deadline; a deadline that left early only makes it fire once for nothing. Unreferenced:
 * an exchange in flight keeps the process alive through its socket, not through its deadline.
 */
class Deadlines {
  private readonly armed = new Set<Timed>()
  private timer: ReturnType<typeof setTimeout> | undefined = undefined
  private at = Infinity

  add(exchange: Timed): void {
    this.armed.add(exchange)
    if (exchange.deadline < this.at) this.arm(exchange.deadline)
  }

  delete(exchange: Timed): void {
    this.armed.delete(exchange)
  }

  private arm(at: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.at = at
    this.timer = setTimeout(() => this.fire(), Math.max(1, Math.ceil(at - performance.now())))
    this.timer.unref?.()
  }

  private fire(): void {
    this.timer = undefined
    this.at = Infinity
    const now = performance.now()
    let next = Infinity
    for (const exchange of this.armed) {
      if (exchange.deadline <= now) {
        this.armed.delete(exchange)
        exchange.expire()
      } else if (exchange.deadline < next) next = exchange.deadline
    }
    if (next !== Infinity) this.arm(next)
  }
}

/** The one set of deadlines of the process. */
export const deadlines = new Deadlines()
