/**
 * What a history of responses proves about the server's token bucket (rate R, a whole burst B):
 * a pure function of the history, so it is read and tested on its own. The model and its
 * constraints are described on {@link ModelState} (`serverModel.ts`).
 */

/** Throttles (and the successes just before them) whose constraints the estimate uses. */
const THROTTLES_USED = 8
/** Feasible rates less than this factor apart are read as one interval (see `solve`). */
const BRIDGE = 1.1
/** The largest burst the estimator considers. */
const MAX_BURST = 10_000

/** What the history shows of the server's bucket: `R ≥ lo` and `B ≥ burst` (proven), `R < hi` (likely). */
export interface Bounds {
  /** A lower bound of R; `undefined` when nothing above the least rate is proven. */
  readonly lo: number | undefined
  /** Where R most likely ends (see `solve`); `Infinity` when nothing places it. */
  readonly hi: number
  /** The least burst B consistent with the history. */
  readonly burst: number
}

/** Bursts B proven to lie in `[lo, hi)`. */
export interface BurstRange {
  readonly lo: number
  readonly hi: number
}

/** The responses to explain, oldest first, and what is known of the server's bucket before them. */
export interface History {
  /** When each response came (seconds). */
  readonly times: ArrayLike<number>
  /** 1 where the response succeeded, 0 where it was throttled. */
  readonly ok: ArrayLike<number>
  /** 1 where the response came before the first throttle: a cold start blurs its time. */
  readonly cold: ArrayLike<number>
  /** Whether the server's bucket is taken to be full at the history's start… */
  readonly startFull: boolean
  /** …but for this many successes before it that the full bucket may have paid for. */
  readonly deficit: number
  /** The burst range proven before older responses fell out of the history, if they did. */
  readonly carried: BurstRange | undefined
}

/** The allowances and the range of rates `solve` searches. */
export interface SolveOptions {
  /** Seconds by which a response's time may stray from when the server counted the request. */
  readonly jitter: number
  /** The same allowance for windows that touch the cold start. */
  readonly coldJitter: number
  /** The least rate considered. */
  readonly minFillRate: number
  /** The rate in force: the search looks at least four times above it. */
  readonly fillRate: number
}

/**
 * The rates R (and least burst) for which some whole B explains the history, with the burst range
 * the history proves (to carry over once older responses fall out). `undefined` when the history
 * places nothing; `"infeasible"` when no token bucket explains it.
 */
export const solve = (
  history: History,
  options: SolveOptions
): { readonly bounds: Bounds; readonly carried: BurstRange } | undefined | "infeasible" => {
  const n = history.times.length
  if (n === 0) return undefined
  const constraints = new Constraints(history, options)
  const { prefix, t } = constraints
  // B is a whole number of requests, as every token bucket we know counts it. For each B the
  // rates it explains are `[the least R whose successes need no more than B, the least R whose
  // throttles B no longer explains)`: both constraints only loosen as R grows, so each end is
  // found by bisection (a scan over R would step over the narrow interval of the true B).
  const min = options.minFillRate
  const span = Math.max(t[n - 1]! - t[0]!, 1e-3)
  const top = Math.max(min * 4, (4 * prefix[n]!) / span, 4 * options.fillRate)
  const intervals = intervalsByBurst(constraints, min, top)
  // No rate up to four times anything seen explains it: successes read as served faster than that
  // after a throttle, which only a response time far off its server time explains (an event-loop
  // stall, answers reordered among many callers). The history is as inconsistent as one that no B
  // explains, and is cut back the same way (reading it as "places nothing" cut the rate in half
  // on every throttle until the stray answer left the history, a 512-answer cycle).
  if (intervals.length === 0) return "infeasible"
  intervals.sort((x, y) => x.from - y.from)
  // The least rate any B explains is a lower bound of R. For the upper end, the intervals that
  // follow it less than BRIDGE apart are read as one: rates far above are explained mostly by
  // reading every throttle as two requests squeezed together by jitter (B = 1, R huge). So `hi`
  // is where the probe starts looking, not a proof: the probe's growth is not bounded by it.
  const first = intervals[0]!
  let hi = first.to
  let burst = first.burst
  for (const next of intervals) {
    if (next.from > hi * BRIDGE) break
    if (next.to > hi) hi = next.to
    if (next.burst < burst) burst = next.burst
  }
  const lo = first.from <= min ? undefined : first.from
  // The burst range over every interval (B is proven to lie in it, unlike R in [lo, hi)).
  let widest = 0
  for (const x of intervals) {
    if (x.burst > widest) widest = x.burst
    if (x.burst < burst) burst = x.burst
  }
  return { bounds: { lo, hi, burst: hi === Infinity ? 1 : burst }, carried: { lo: burst, hi: widest + 1 } }
}

/** The rates `[from, to)` that burst `burst` explains. */
interface Interval {
  readonly from: number
  readonly to: number
  readonly burst: number
}

/**
 * Every whole B's interval of rates. Walks R up in 1% steps: between two steps r₁ < r₂ a burst B
 * can be explained only if need(r₂) ≤ B < cap(r₁); each such B's interval is then placed exactly
 * by bisection.
 */
const intervalsByBurst = (constraints: Constraints, min: number, top: number): Array<Interval> => {
  const byBurst = new Map<number, Interval>()
  // Every B from `alike` on explains the same rates: no constraint tells them apart (see
  // `Constraints.alike`). The first of them stands for the rest, so a history whose throttles all
  // follow throttles (no B bounds them) costs one interval, not `MAX_BURST` bisections.
  const alike = constraints.alike
  const step = 1.01
  // Only the B that become enough for the successes within the step are new there (a larger B
  // was already enough below, and its interval ends lower than the least such B's).
  let prevRate = min
  let prevCap = constraints.cap(min)
  let prevNeed = Math.max(1, Math.ceil(constraints.need(min) - 1e-9))
  for (let rate = min * step; prevRate < top && prevCap > 1; rate *= step) {
    const needHere = Math.max(1, Math.ceil(constraints.need(rate) - 1e-9))
    const upTo = Math.min(prevNeed, MAX_BURST)
    for (let burst = needHere; burst <= upTo && burst < prevCap; burst++) {
      if (byBurst.has(burst)) continue
      const from = constraints.need(prevRate) <= burst
        ? prevRate
        : firstAbove((r) => r >= rate || constraints.need(r) <= burst, prevRate, rate, top)
      const to = firstAbove((r) => constraints.cap(r) <= burst, from, top, top)
      if (burst === alike) {
        // The widest B the search would have reached: as wide as the constraints leave it.
        const widest = Math.min(upTo, Math.ceil(prevCap) - 1)
        if (from < to) {
          byBurst.set(burst, { from, to, burst })
          if (widest > burst) byBurst.set(widest, { from, to, burst: widest })
        }
        break
      }
      if (from < to) byBurst.set(burst, { from, to, burst })
    }
    prevRate = rate
    prevCap = constraints.cap(rate)
    prevNeed = needHere
  }
  return [...byBurst.values()]
}

/**
 * The least rate in [from, to] for which `pass` holds (it holds for every rate above); `Infinity`
 * when it fails even at `to` and `to` is the top of the search.
 */
const firstAbove = (pass: (rate: number) => boolean, from: number, to: number, top: number): number => {
  if (pass(from)) return from
  if (!pass(to)) return to >= top ? Infinity : to
  let bad = from
  let good = to
  for (let i = 0; i < 40 && good / bad > 1 + 1e-7; i++) {
    const mid = Math.sqrt(bad * good)
    if (pass(mid)) good = mid
    else bad = mid
  }
  return good
}

/** The history's constraints on (R, B), read as functions of R. */
class Constraints {
  /** Response times, oldest first. */
  readonly t: Float64Array
  readonly cold: Uint8Array
  /** Successes among the first m responses. */
  readonly prefix: Int32Array
  /** The throttles whose constraints are used. */
  readonly throttles: Array<number>
  /** The successes whose constraints can bind: the last before each throttle, and the last of all. */
  readonly ends: Array<number>
  readonly jitter: number
  readonly coldJitter: number
  readonly startFull: boolean
  readonly deficit: number
  readonly carried: BurstRange | undefined
  /** The least B from which on every B explains the same rates. */
  readonly alike: number

  constructor(history: History, options: SolveOptions) {
    const n = history.times.length
    this.t = Float64Array.from(history.times)
    this.cold = Uint8Array.from(history.cold)
    const prefix = new Int32Array(n + 1)
    for (let m = 0; m < n; m++) prefix[m + 1] = prefix[m]! + history.ok[m]!
    this.prefix = prefix
    const throttles: Array<number> = []
    const ends: Array<number> = []
    let lastSuccess = -1
    for (let m = 0; m < n; m++) {
      if (prefix[m + 1]! > prefix[m]!) lastSuccess = m
      else {
        throttles.push(m)
        if (lastSuccess >= 0 && ends[ends.length - 1] !== lastSuccess) ends.push(lastSuccess)
      }
    }
    if (lastSuccess >= 0 && ends[ends.length - 1] !== lastSuccess) ends.push(lastSuccess)
    this.throttles = throttles.slice(-THROTTLES_USED)
    this.ends = ends.slice(-(THROTTLES_USED + 1))
    this.jitter = options.jitter
    this.coldJitter = options.coldJitter
    this.startFull = history.startFull
    this.deficit = history.deficit
    this.carried = history.carried
    // `need` is at most the successes in the history (or the carried least burst), or Infinity;
    // `cap`'s finite terms are at most the successes plus the deficit plus one, or the carried
    // bound. So every B at or above both reads `need ≤ B` and `cap ≤ B` alike.
    this.alike = Math.max(1, Math.ceil(prefix[n]! + this.deficit + 1), Math.ceil(history.carried?.lo ?? 1))
  }

  /** The allowance of the window from response i to k: windows touching the cold start may allow more. */
  j(i: number, k: number): number {
    return this.cold[i]! === 1 || this.cold[k]! === 1 ? Math.max(this.jitter, this.coldJitter) : this.jitter
  }

  ok(m: number): boolean {
    return this.prefix[m + 1]! > this.prefix[m]!
  }

  /**
   * The least B the successes need at `rate` (`Infinity`: none will do). Success k: the level just
   * before it, at most `Lᵢ + R·(tₖ − tᵢ) − S[i, k)` for every i < k, is at least 1. With Lᵢ ≤ B:
   * B ≥ S[i, k] − R·(tₖ − tᵢ + j). After a throttle i, Lᵢ < 1, so `R·(tₖ − tᵢ + j) > S[i, k)`
   * whatever B is: what was served since the bucket was empty.
   */
  need(rate: number): number {
    const { prefix, t } = this
    let most = this.carried === undefined ? 1 : Math.max(1, this.carried.lo)
    for (const k of this.ends) {
      for (let i = 0; i < k; i++) {
        const v = prefix[k + 1]! - prefix[i]! - rate * (t[k]! - t[i]! + this.j(i, k))
        if (this.ok(i)) {
          if (v > most) most = v
        } else if (v >= 1) return Infinity
      }
    }
    return most
  }

  /**
   * The B the throttles stay below at `rate` (`Infinity`: any). Throttle k: for some i < k the
   * level is below 1. With Lᵢ = B (full at i): B < S[i, k) + 1 − R·(tₖ − tᵢ − j). With Lᵢ ≥ 0 (i a
   * throttle, or the start of a history that may not have begun full): `R·(tₖ − tᵢ − j) − S[i, k) < 1`
   * explains it whatever B is.
   */
  cap(rate: number): number {
    const { prefix, t } = this
    let least = this.carried === undefined ? Infinity : this.carried.hi
    for (const k of this.throttles) {
      if (!this.startFull && rate * Math.max(0, t[k]! - t[0]! - this.j(0, k)) - (prefix[k]! - prefix[0]!) < 1) continue
      // Full at the history's start, but for the `deficit` successes before it.
      let most = this.startFull
        ? this.deficit + prefix[k]! - prefix[0]! + 1 - rate * Math.max(0, t[k]! - t[0]! - this.j(0, k))
        : -Infinity
      let free = false
      for (let i = 0; i < k; i++) {
        const v = prefix[k]! - prefix[i]! + 1 - rate * Math.max(0, t[k]! - t[i]! - this.j(i, k))
        if (this.ok(i)) {
          if (v > most) most = v
        } else if (v > 0) {
          free = true
          break
        }
      }
      if (!free && most < least) least = most
    }
    return least
  }
}
