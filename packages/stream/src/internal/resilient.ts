/**
 * One page through the rate limiter, the retry policy and the budget. Shared by the streams and
 * by `ResilientChimeRooms`; the environment is resolved once per stream (or layer), so the per-page
 * path is a few closures and no lookups.
 */
import { ChimeError, ChimeRooms, type ListRoomsRequest, type ListRoomsResponse } from "@chime-rooms/core"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleIntervals from "effect/ScheduleIntervals"
import type * as Tracer from "effect/Tracer"
import type { ChimeMetricsService } from "../ChimeMetrics.js"
import { ChimeMetrics } from "../ChimeMetrics.js"
import { ChimeRateLimiter, type ChimeRateLimiterService } from "../ChimeRateLimiter.js"
import { RetryBudget, type RetryBudgetService } from "../RetryBudget.js"
import type { RetryPolicy } from "../RetryPolicy.js"
import { defaultPolicy, defaults } from "../RetryPolicy.js"
import { monotonicMillis } from "./clock.js"
import { requestsTotal, retriesTotal, throttlesTotal } from "./metrics.js"

/** Marks a `ChimeRooms` that already retries and limits, and holds the one it decorates. */
export const UnderlyingTypeId: unique symbol = Symbol.for("@chime-rooms/stream/ResilientChimeRooms/underlying")

interface Decorated extends ChimeRooms.ChimeRoomsService {
  readonly [UnderlyingTypeId]: ChimeRooms.ChimeRoomsService
}

/** The undecorated service, so a stream over a resilient layer does not retry twice. */
export const undecorated = (service: ChimeRooms.ChimeRoomsService): ChimeRooms.ChimeRoomsService =>
  UnderlyingTypeId in service ? (service as Decorated)[UnderlyingTypeId] : service

/** A `ChimeRooms` whose calls are `listRooms`, remembering the service it decorates. */
export const decorate = (
  underlying: ChimeRooms.ChimeRoomsService,
  listRooms: ChimeRooms.ChimeRoomsService["listRooms"]
): ChimeRooms.ChimeRoomsService => {
  const decorated: Decorated = { listRooms, [UnderlyingTypeId]: underlying }
  return decorated
}

/** Everything a resilient call needs, resolved once. */
export interface Env {
  /** Whether to open spans: only when a tracer other than Effect's default is installed. */
  readonly spans: boolean
  readonly service: ChimeRooms.ChimeRoomsService
  readonly limiter: ChimeRateLimiterService
  readonly budget: RetryBudgetService
  readonly metrics: ChimeMetricsService | undefined
  readonly policy: RetryPolicy
  readonly retryAfterCapMillis: number
}

/** Reads the services a resilient call needs. */
export const env = (
  policy: RetryPolicy | undefined
): Effect.Effect<Env, never, ChimeRooms.ChimeRooms | ChimeRateLimiter | RetryBudget> =>
  Effect.all([ChimeRooms.ChimeRooms, ChimeRateLimiter, RetryBudget, Effect.serviceOption(ChimeMetrics), Effect.tracer])
    .pipe(
      Effect.map(([service, limiter, budget, metrics, tracer]) =>
        makeEnv(
          undecorated(service),
          limiter,
          budget,
          Option.getOrUndefined(metrics),
          policy,
          tracer !== defaultTracer()
        )
      )
    )

let nativeTracer: Tracer.Tracer | undefined

/**
 * Effect's default tracer, which records spans nowhere. A span costs tens of microseconds (more
 * than the rest of a page's path), so spans are only opened when a real tracer is installed.
 */
export const defaultTracer = (): Tracer.Tracer => (nativeTracer ??= Effect.runSync(Effect.tracer))

/** `effect` inside a span named `name`, when spans are on. */
export const span = <A, E, R>(
  env: Env,
  name: string,
  attributes: Record<string, unknown>,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  env.spans ? Effect.withSpan(effect, name, { attributes, captureStackTrace: false }) : effect

/** Builds an {@link Env} from its parts. */
export const makeEnv = (
  service: ChimeRooms.ChimeRoomsService,
  limiter: ChimeRateLimiterService,
  budget: RetryBudgetService,
  metrics: ChimeMetricsService | undefined,
  policy: RetryPolicy | undefined,
  spans: boolean
): Env => {
  const p = policy ?? defaultPolicy
  return {
    spans,
    service,
    limiter,
    budget,
    metrics,
    policy: p,
    retryAfterCapMillis: Duration.toMillis(p.retryAfterCap ?? defaults.retryAfterCap)
  }
}

/** A page and how many attempts it took. */
export interface Fetched {
  readonly output: ListRoomsResponse.ListRoomsOutput
  readonly attempts: number
}

const requestIdOf = (
  error: ChimeError.ChimeError
): string | undefined => ("requestId" in error ? error.requestId : undefined)

const statusOf = (error: ChimeError.ChimeError): number | undefined => ("status" in error ? error.status : undefined)

/**
 * The names of the spans and their attributes. OpenTelemetry's semantic conventions where one
 * fits (`http.response.status_code`, `error.type`, `aws.request_id`), `chime.*` for the rest.
 */
export const telemetry = {
  pageSpan: "ChimeRoomsStream.page",
  callSpan: "ChimeRooms.listRooms",
  attemptSpan: "ChimeRooms.listRooms.attempt",
  account: "chime.account",
  page: "chime.page",
  attempt: "chime.attempt",
  status: "http.response.status_code",
  requestId: "aws.request_id",
  errorType: "error.type",
  retryDelay: "chime.retry_delay_ms"
} as const

/** `metric` + `by` under the fiber's metric labels, as `Metric.incrementBy` records it, without its effect. */
export const count = (
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  metric: Metric.Metric.Counter<number>,
  by: number
): void => metric.unsafeUpdate(by, fiber.getFiberRef(FiberRef.currentMetricLabels))

const attempt = (
  env: Env,
  request: ListRoomsRequest.ListRoomsRequest
): Effect.Effect<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError> => {
  // Counted and sent in one step: a page's path is a handful of effects, and each costs most while
  // the JIT is still cold, which is most of a short listing.
  const send = Effect.zipRight(
    env.limiter.acquire,
    Effect.withFiberRuntime<ListRoomsResponse.ListRoomsOutput, ChimeError.ChimeError>((fiber) => {
      env.metrics?.recordRequest()
      count(fiber, requestsTotal, 1)
      return env.service.listRooms(request)
    })
  )
  if (!env.spans) return send
  return Effect.tapBoth(send, {
    onSuccess: (output) => {
      const { httpStatusCode, requestId } = output.$metadata
      return Effect.annotateCurrentSpan({
        ...(httpStatusCode === undefined ? {} : { [telemetry.status]: httpStatusCode }),
        ...(requestId === undefined ? {} : { [telemetry.requestId]: requestId })
      })
    },
    onFailure: (error) => {
      const status = statusOf(error)
      const id = requestIdOf(error)
      return Effect.annotateCurrentSpan({
        [telemetry.errorType]: error._tag,
        ...(status === undefined ? {} : { [telemetry.status]: status }),
        ...(id === undefined ? {} : { [telemetry.requestId]: id })
      })
    }
  })
}

/** A retry the policy and the budget granted after attempt `n` failed with `error`: the next attempt, in `delay` ms. */
interface Retry {
  readonly n: number
  readonly error: ChimeError.ChimeError
  readonly state: unknown
  readonly cost: number
  readonly delay: number
}

/**
 * Fetches one page: waits for a permit, sends, and on a failure the policy accepts waits
 * `max(backoff, min(Retry-After, cap))` — if the budget pays — and sends the same request again.
 */
export const fetchPage = (
  env: Env,
  request: ListRoomsRequest.ListRoomsRequest
): Effect.Effect<Fetched, ChimeError.ChimeError> =>
  fetcher(env, request).loop(1, env.policy.schedule.initial, undefined)

/**
 * The rest of {@link fetchPage} after a first attempt that failed with `error` and whose feedback
 * (limiter, stats) was already given: the retries the policy and budget allow, or the failure.
 */
export const retryAfterFirst = (
  env: Env,
  request: ListRoomsRequest.ListRoomsRequest,
  error: ChimeError.ChimeError
): Effect.Effect<Fetched, ChimeError.ChimeError> => {
  const { decide, wait } = fetcher(env, request)
  return decide(1, env.policy.schedule.initial, error, wait)
}

const fetcher = (env: Env, request: ListRoomsRequest.ListRoomsRequest) => {
  /**
   * Attempt `n` and its feedback; on a failure, the decision: the failure, or the retry handed to
   * `retry` (which waits and sends again, or hands the retry out of the attempt's span).
   */
  const settle = <A>(
    n: number,
    state: unknown,
    lastCost: number | undefined,
    retry: (granted: Retry) => Effect.Effect<A, ChimeError.ChimeError>
  ): Effect.Effect<Fetched | A, ChimeError.ChimeError> =>
    Effect.matchEffect(attempt(env, request), {
      onSuccess: (output) =>
        Effect.zipRight(
          env.limiter.onSuccess,
          Effect.map(env.budget.release(lastCost), () => ({ output, attempts: n }))
        ),
      onFailure: (error) => {
        // No permit, so no request: nothing to feed back to the limiter.
        if (error._tag === "RateLimiterError") return decide(n, state, error, retry)
        const throttled = ChimeError.isThrottlingError(error)
        const feedback = throttled
          ? Effect.zipRight(
            env.limiter.onThrottle,
            Effect.suspend(() => {
              env.metrics?.recordThrottle()
              return Metric.increment(throttlesTotal)
            })
          )
          : env.limiter.onSuccess
        return Effect.zipRight(feedback, decide(n, state, error, retry))
      }
    })

  const plain = (
    n: number,
    state: unknown,
    lastCost: number | undefined
  ): Effect.Effect<Fetched, ChimeError.ChimeError> => settle(n, state, lastCost, wait)

  // The attempt's span holds its outcome and, when a retry follows, the delay chosen before it:
  // the span closes with the attempt's failure, and the wait happens outside it.
  const traced = (
    n: number,
    state: unknown,
    lastCost: number | undefined
  ): Effect.Effect<Fetched, ChimeError.ChimeError> =>
    Effect.suspend(() => {
      let granted: Retry | undefined
      return settle(n, state, lastCost, (retry) => {
        granted = retry
        return Effect.zipRight(Effect.annotateCurrentSpan(telemetry.retryDelay, retry.delay), Effect.fail(retry.error))
      }).pipe(
        Effect.withSpan(telemetry.attemptSpan, {
          attributes: { [telemetry.attempt]: n, [telemetry.account]: request.AccountId },
          captureStackTrace: false
        }),
        Effect.catchAll((error) => (granted === undefined ? Effect.fail(error) : wait(granted)))
      )
    })

  const loop = env.spans ? traced : plain

  const wait = (retry: Retry): Effect.Effect<Fetched, ChimeError.ChimeError> => {
    const next = Effect.suspend(() => loop(retry.n + 1, retry.state, retry.cost))
    return retry.delay > 0 ? Effect.zipRight(Effect.sleep(Duration.millis(retry.delay)), next) : next
  }

  const giveUp = (error: ChimeError.ChimeError): Effect.Effect<never, ChimeError.ChimeError> =>
    Effect.suspend(() => {
      env.metrics?.recordFailure()
      return Effect.fail(error)
    })

  const decide = <A>(
    n: number,
    state: unknown,
    error: ChimeError.ChimeError,
    retry: (granted: Retry) => Effect.Effect<A, ChimeError.ChimeError>
  ): Effect.Effect<A, ChimeError.ChimeError> => {
    if (!env.policy.while(error)) return giveUp(error)
    // The schedule's times are monotonic, as the sleep that waits its delay out.
    return Effect.clockWith((clock) => {
      const now = monotonicMillis(clock)
      return Effect.flatMap(env.policy.schedule.step(now, error, state), ([next, _out, decision]) => {
        if (ScheduleDecision.isDone(decision)) return giveUp(error)
        const backoff = Math.max(0, ScheduleIntervals.start(decision.intervals) - now)
        const retryAfter = Option.match(ChimeError.retryAfterOf(error), {
          onNone: () => 0,
          onSome: (d) => Math.min(Duration.toMillis(d), env.retryAfterCapMillis)
        })
        const delay = Math.max(backoff, retryAfter)
        return Effect.flatMap(env.budget.acquire(error), (cost) => {
          if (cost === undefined) return giveUp(error)
          env.metrics?.recordRetry()
          return Effect.zipRight(Metric.increment(retriesTotal), retry({ n, error, state: next, cost, delay }))
        })
      })
    })
  }

  return { loop, decide, wait }
}
