/**
 * The client-side rate limiter every request passes through: one per layer, shared by every
 * stream and every resilient single call built on that layer. Fixed (token bucket) or adaptive
 * (by default a model of the server's token bucket, learnt from throttles; or AWS adaptive retry
 * mode: multiplicative decrease on throttling, CUBIC recovery). Named
 * `ChimeRateLimiter` so it does not clash with effect's own `RateLimiter` module.
 *
 * @since 0.1.0
 */
import type { ChimeError } from "@chime-rooms/core"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import { AdaptiveState, awsParameters } from "./internal/adaptive/awsAdaptive.js"
import { modelParameters, ModelState } from "./internal/adaptive/serverModel.js"
import { monotonicMillis } from "./internal/clock.js"
import { rateLimitGauge } from "./internal/metrics.js"
import { PacingBucket } from "./internal/pacingBucket.js"

/**
 * The shape of a rate limiter.
 *
 * The `unsafe*` members are optional, all three or none: the same limiter without effects, for a
 * caller outside any fiber that reads the time itself (the streams use them to send the next
 * request from the callback that delivered the page before). A limiter without them is only used
 * through the effects. Their times are milliseconds on a timeline that only moves forward
 * (`performance.now()` under the live clock, the clock's own time under `TestClock`), so that the
 * wall clock being set neither stalls nor bursts the requests.
 *
 * @category models
 * @since 0.1.0
 */
export interface ChimeRateLimiterService {
  /**
   * Waits for a permit; call once before every request (every attempt). Fails only for a limiter
   * whose state lives elsewhere (such as `@chime-rooms/redis`) when it cannot reach that state.
   */
  readonly acquire: Effect.Effect<void, ChimeError.RateLimiterError>
  /** Feedback: the last response was a throttling error. */
  readonly onThrottle: Effect.Effect<void>
  /** Feedback: the last response was not throttled (success or any other error). */
  readonly onSuccess: Effect.Effect<void>
  /** Permits per second now in force; `undefined` while unlimited. */
  readonly currentRate: Effect.Effect<number | undefined>
  /** `acquire` without an effect: books a permit at `now`; returns how long to wait before using it (0: at once). */
  readonly unsafeReserve?: (now: number) => number
  /** Gives back a permit booked by `unsafeReserve` that will not be used. */
  readonly unsafeRefund?: () => void
  /**
   * `onThrottle` / `onSuccess` without an effect, at `now`; returns the new rate when it changed
   * (`0` for unlimited), else `undefined`.
   */
  readonly unsafeFeedback?: (now: number, throttled: boolean) => number | undefined
}

/**
 * The rate limiter service tag.
 *
 * @example
 * ```ts
 * import { ChimeRateLimiter } from "@chime-rooms/stream"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const rate = yield* Effect.flatMap(ChimeRateLimiter.ChimeRateLimiter, (limiter) => limiter.currentRate)
 *   return rate
 * })
 * ```
 *
 * @category tags
 * @since 0.1.0
 */
export class ChimeRateLimiter extends Context.Tag("@chime-rooms/stream/ChimeRateLimiter")<
  ChimeRateLimiter,
  ChimeRateLimiterService
>() {}

/**
 * Options of the fixed limiter.
 *
 * @category models
 * @since 0.1.0
 */
export interface FixedOptions {
  /** Permits per second (> 0). */
  readonly rate: number
  /** Permits available at once after a quiet period (>= 1). Default 1. */
  readonly burst?: number
}

/**
 * Options of the adaptive limiter. `mode: "model"` (the default) learns the server's token bucket
 * (see {@link makeAdaptive}); `mode: "aws"` is the AWS SDKs' `DefaultRateLimiter`, whose numbers
 * (`beta`, `scaleConstant`, `smooth`) are the SDK's defaults.
 *
 * @category models
 * @since 0.1.0
 */
export interface AdaptiveOptions {
  /** `"model"` (default): estimate the server's rate and burst and hold below it. `"aws"`: AWS adaptive mode. */
  readonly mode?: "model" | "aws"
  /** Start at this rate (requests/s) instead of unlimited. */
  readonly initialRate?: number
  /** Model mode: hold this fraction of the proven lower bound of the server's rate. Default 1. */
  readonly margin?: number
  /**
   * Model mode: the longest hold (seconds) before probing above it. The hold ends sooner once holding
   * below the proven upper bound may have cost `probeAfterCosts` throttles' worth. Default 20.
   */
  readonly holdSeconds?: number
  /** Model mode: how many throttles' worth the hold may cost before a probe (see `holdSeconds`); half as many when the caller retries within 0.5 s. Default 2. */
  readonly probeAfterCosts?: number
  /** Model mode: the probe's cubic growth doubles its starting rate after this many seconds. Default 4. */
  readonly probeSeconds?: number
  /**
   * Model mode: growth of the ramp after the first throttle, per second of pacing (`e^rampGrowth`).
   * Default 1.5; twice that when the caller retried within 0.5 s of the
   * throttle, so that throttles are cheap and a loose estimate is soon narrowed by a probe.
   */
  readonly rampGrowth?: number
  /** AWS mode: multiplicative decrease on a throttle (default 0.7). Model mode: the cut when a throttle gives no estimate (default 0.5). */
  readonly beta?: number
  /** AWS mode: CUBIC scale constant, how fast the rate grows back. Default 0.4. */
  readonly scaleConstant?: number
  /** AWS mode: weight of the newest half-second in the measured send rate. Default 0.8. */
  readonly smooth?: number
  /** The rate never falls below this (requests/s). Default 0.5. */
  readonly minFillRate?: number
  /**
   * Most requests let through at once after a pause. AWS mode default 1: smooth pacing. The SDKs
   * let a whole second's worth through (`rate` requests at once), which a server with a small burst
   * allowance answers with a run of throttles: simulated against 50 req/s with burst 5, the SDK
   * capacity saw 31 throttles in 1,500 pages at ~26 pages/s, a burst of 1 saw 9 at ~44 pages/s.
   * Model mode default: 1 while ramping or probing; while holding below the server's rate, one less
   * than the burst the server is proven to allow, so a caller that fell behind catches up.
   */
  readonly maxBurst?: number
}

const nowSeconds = Effect.clockWith((clock) => Effect.succeed(monotonicMillis(clock) / 1000))

/**
 * `f` of the fiber's monotonic time, read in the step that needs it: `acquire` and the feedback run
 * on every request, and the time mapped and flat-mapped would be three effects more.
 */
const atNow = <A>(f: (millis: number) => Effect.Effect<A>): Effect.Effect<A> =>
  Effect.clockWith((clock) => f(monotonicMillis(clock)))

/** Waits out a reservation; an interrupted wait gives its token back. */
const waitFor = (millis: number, refund: () => void): Effect.Effect<void> =>
  millis > 0 ? Effect.onInterrupt(Effect.sleep(Duration.millis(millis)), () => Effect.sync(refund)) : Effect.void

/** A limiter's synchronous form: its `unsafe*` members, all three. */
type Unsafe = Required<Pick<ChimeRateLimiterService, "unsafeReserve" | "unsafeRefund" | "unsafeFeedback">>

/**
 * How a bucket re-times the callers already waiting (see `PacingBucket.withdraw` and `overdue`):
 * its epoch, whether a wait ended too late, and booking again (`rebook`, milliseconds) or letting
 * go (`forget`) under a withdrawn reservation.
 */
interface Rebooking {
  readonly epoch: () => number
  readonly overdue: (due: number, now: number) => boolean
  readonly rebook: (now: number) => number
  readonly forget: () => void
}

/**
 * Waits out a reservation booked in `epoch` at `now`. When the wait ends under another epoch, the
 * reservation was withdrawn (the limiter cut its rate while this caller waited): it books again at
 * the new pace rather than go out at the old one. When it ends far past its time (the event loop
 * was busy), it books again too, rather than go out in the burst of every caller woken late. An
 * interrupted wait gives back what it holds.
 */
const waitBooked = (
  rebooking: Rebooking,
  refund: () => void,
  epoch: number,
  now: number,
  millis: number
): Effect.Effect<void> =>
  millis > 0
    ? Effect.zipRight(
      Effect.onInterrupt(
        Effect.sleep(Duration.millis(millis)),
        () => Effect.sync(() => rebooking.epoch() === epoch ? refund() : rebooking.forget())
      ),
      atNow((woken) =>
        rebooking.epoch() === epoch && !rebooking.overdue(now + millis, woken)
          ? Effect.void
          : waitBooked(rebooking, refund, rebooking.epoch(), woken, rebooking.rebook(woken))
      )
    )
    : Effect.void

/**
 * The effects of a limiter from its synchronous form. `unsafeReserve` hands out no reservation
 * that `rebooking` withdraws while it is used: a caller outside a fiber (the pump) sends only on a
 * permit granted at once, and gives back any other at once.
 */
const fromUnsafe = (
  unsafe: Unsafe,
  currentRate: Effect.Effect<number | undefined>,
  rebooking?: Rebooking
): ChimeRateLimiterService => {
  const { unsafeFeedback, unsafeRefund, unsafeReserve } = unsafe
  const feedback = (throttled: boolean) =>
    atNow((now) => {
      const changed = unsafeFeedback(now, throttled)
      return changed === undefined ? Effect.void : Metric.set(rateLimitGauge, changed)
    })
  return {
    acquire: rebooking === undefined
      ? atNow((now) => waitFor(unsafeReserve(now), unsafeRefund))
      : atNow((now) => {
        const millis = unsafeReserve(now)
        return waitBooked(rebooking, unsafeRefund, rebooking.epoch(), now, millis)
      }),
    onThrottle: feedback(true),
    onSuccess: feedback(false),
    currentRate,
    unsafeReserve,
    unsafeRefund,
    unsafeFeedback
  }
}

/**
 * A limiter that never waits and ignores feedback.
 *
 * @category constructors
 * @since 0.1.0
 */
export const unlimited: ChimeRateLimiterService = {
  acquire: Effect.void,
  onThrottle: Effect.void,
  onSuccess: Effect.void,
  currentRate: Effect.succeed(undefined),
  unsafeReserve: () => 0,
  unsafeRefund: () => {},
  unsafeFeedback: () => undefined
}

/**
 * A token bucket on Effect's `Clock`: `burst` permits at once, then `rate` per second. N requests
 * made together take exactly `(N − burst) / rate` seconds. Feedback is ignored: the rate is fixed.
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeFixed = (options: FixedOptions): Effect.Effect<ChimeRateLimiterService> =>
  Effect.sync(() => {
    const rate = options.rate > 0 ? options.rate : 1
    const bucket = PacingBucket.fixed(rate, Math.max(1, options.burst ?? 1), 1000)
    return fromUnsafe({
      unsafeReserve: (now) => bucket.reserve(now),
      unsafeRefund: () => bucket.refund(),
      unsafeFeedback: () => undefined
    }, Effect.succeed(rate))
  }).pipe(Effect.tap(() => Metric.set(rateLimitGauge, options.rate)))

/**
 * The adaptive limiter on Effect's `Clock`. It starts unlimited (or at `initialRate`), lowers its
 * rate when throttled and raises it again, so it follows a server whose limit changes.
 *
 * `mode: "model"` (the default) learns the server's token bucket (its rate and burst) from
 * successes and throttles and holds just under its rate; `mode: "aws"` is the AWS SDKs' adaptive
 * limiter (multiplicative decrease, CUBIC recovery). How both work, and why the model is the
 * default: `packages/stream/README.md`, [The adaptive limiter](https://github.com/chime-rooms/chime-rooms/tree/main/packages/stream#the-adaptive-limiter).
 *
 * @example
 * ```ts
 * import { ChimeRateLimiter } from "@chime-rooms/stream"
 *
 * ChimeRateLimiter.makeAdaptive() // learns the server's token bucket
 * ChimeRateLimiter.makeAdaptive({ mode: "aws" }) // the AWS SDKs' adaptive mode
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeAdaptive = (options?: AdaptiveOptions): Effect.Effect<ChimeRateLimiterService> =>
  Effect.map(nowSeconds, (now) => {
    const state: AdaptiveState | ModelState = options?.mode === "aws"
      ? new AdaptiveState(
        {
          beta: options?.beta ?? awsParameters.beta,
          scaleConstant: options?.scaleConstant ?? awsParameters.scaleConstant,
          smooth: options?.smooth ?? awsParameters.smooth,
          minFillRate: options?.minFillRate ?? awsParameters.minFillRate,
          minCapacity: awsParameters.minCapacity,
          initialRate: options?.initialRate,
          maxBurst: options?.maxBurst ?? 1
        },
        now
      )
      : new ModelState(
        {
          ...modelParameters,
          margin: options?.margin ?? modelParameters.margin,
          holdSeconds: options?.holdSeconds ?? modelParameters.holdSeconds,
          probeAfterCosts: options?.probeAfterCosts ?? modelParameters.probeAfterCosts,
          probeSeconds: options?.probeSeconds ?? modelParameters.probeSeconds,
          rampGrowth: options?.rampGrowth ?? modelParameters.rampGrowth,
          beta: options?.beta ?? modelParameters.beta,
          minFillRate: options?.minFillRate ?? modelParameters.minFillRate,
          initialRate: options?.initialRate,
          maxBurst: options?.maxBurst ?? modelParameters.maxBurst
        },
        now
      )
    return fromUnsafe(
      {
        // Unlimited, `reserve` grants at once; the model still counts the request in flight.
        unsafeReserve: (now) => state.reserve(now / 1000) * 1000,
        unsafeRefund: () => state.refund(),
        unsafeFeedback: (now, throttled) => {
          const before = state.rate
          state.update(now / 1000, throttled)
          const after = state.rate
          return after === before ? undefined : after ?? 0
        }
      },
      Effect.sync(() => state.rate),
      {
        epoch: () => state.epoch,
        overdue: (due, now) => state.overdue(due / 1000, now / 1000),
        rebook: (now) => state.rebook(now / 1000) * 1000,
        forget: () => state.forget()
      }
    )
  })

/**
 * A fixed-rate limiter layer (see {@link makeFixed}).
 *
 * @example
 * ```ts
 * import { ChimeRateLimiter } from "@chime-rooms/stream"
 *
 * ChimeRateLimiter.layerFixed({ rate: 50, burst: 5 })
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layerFixed = (options: FixedOptions): Layer.Layer<ChimeRateLimiter> =>
  Layer.effect(ChimeRateLimiter, makeFixed(options))

/**
 * An adaptive limiter layer (see {@link makeAdaptive}); the default of `Resilience.layer`.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerAdaptive = (options?: AdaptiveOptions): Layer.Layer<ChimeRateLimiter> =>
  Layer.effect(ChimeRateLimiter, makeAdaptive(options))

/**
 * A limiter layer that never waits.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerUnlimited: Layer.Layer<ChimeRateLimiter> = Layer.succeed(ChimeRateLimiter, unlimited)

/**
 * The current rate of the provided limiter (`undefined` while unlimited).
 *
 * @category accessors
 * @since 0.1.0
 */
export const currentRate: Effect.Effect<number | undefined, never, ChimeRateLimiter> = Effect.flatMap(
  ChimeRateLimiter,
  (limiter) => limiter.currentRate
)
