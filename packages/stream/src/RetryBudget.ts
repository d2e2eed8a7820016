/**
 * A retry budget shared by everything on one layer, as in AWS SDK standard mode: a bucket of
 * tokens; each retry takes some, each success gives some back, and when the bucket is empty no
 * retry is made — the failure surfaces at once. One outage then costs a bounded number of extra
 * requests however many streams are running.
 *
 * Defaults (smithy-js `INITIAL_RETRY_TOKENS`, `RETRY_COST`, `TIMEOUT_RETRY_COST`,
 * `NO_RETRY_INCREMENT`; botocore's standard mode uses the same numbers): capacity 500, a retry
 * costs 5, a retry after a transport failure (timeout, connection reset or refused, body cut
 * short) costs 10, a success after retries refunds what its last retry cost, and a success at
 * the first try refunds 1.
 *
 * @since 0.1.0
 */
import type { ChimeError } from "@chime-rooms/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * The shape of a retry budget.
 *
 * @category models
 * @since 0.1.0
 */
export interface RetryBudgetService {
  /** Takes the cost of retrying after `error`; `undefined` when the bucket cannot pay (do not retry). */
  readonly acquire: (error: ChimeError.ChimeError) => Effect.Effect<number | undefined>
  /** A call succeeded: refund `lastRetryCost` (what its last retry took), or the no-retry increment. */
  readonly release: (lastRetryCost: number | undefined) => Effect.Effect<void>
  /**
   * Optional: `release` without an effect, for a caller outside any fiber (the streams, when a
   * page arrives in a transport callback). A budget without it is only used through the effects.
   */
  readonly unsafeRelease?: (lastRetryCost: number | undefined) => void
  /** Tokens in the bucket now. */
  readonly available: Effect.Effect<number>
}

/**
 * Options of {@link make}.
 *
 * @category models
 * @since 0.1.0
 */
export interface RetryBudgetOptions {
  /** Tokens when full (and at start). Default 500. */
  readonly capacity?: number
  /** Cost of a retry. Default 5. */
  readonly retryCost?: number
  /** Cost of a retry after a transport failure. Default 10. */
  readonly timeoutRetryCost?: number
  /** Refund of a success that needed no retry. Default 1. */
  readonly noRetryIncrement?: number
}

/**
 * The AWS standard-mode numbers.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaults = { capacity: 500, retryCost: 5, timeoutRetryCost: 10, noRetryIncrement: 1 } as const

/**
 * The retry budget service tag.
 *
 * @category tags
 * @since 0.1.0
 */
export class RetryBudget extends Context.Tag("@chime-rooms/stream/RetryBudget")<RetryBudget, RetryBudgetService>() {}

/**
 * Builds a token-bucket budget; each run of the effect makes a fresh bucket.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options?: RetryBudgetOptions): Effect.Effect<RetryBudgetService> =>
  Effect.sync(() => unsafeMake(options))

const unsafeMake = (options?: RetryBudgetOptions): RetryBudgetService => {
  const capacity = options?.capacity ?? defaults.capacity
  const retryCost = options?.retryCost ?? defaults.retryCost
  const timeoutRetryCost = options?.timeoutRetryCost ?? defaults.timeoutRetryCost
  const noRetryIncrement = options?.noRetryIncrement ?? defaults.noRetryIncrement
  // Synchronous updates on a plain number: each runs to completion, so no lock is needed.
  let tokens = capacity
  const release = (lastRetryCost: number | undefined): void => {
    tokens = Math.min(capacity, tokens + (lastRetryCost ?? noRetryIncrement))
  }
  return {
    acquire: (error) =>
      Effect.sync(() => {
        const cost = error._tag === "TransportError" ? timeoutRetryCost : retryCost
        if (cost > tokens) return undefined
        tokens -= cost
        return cost
      }),
    release: (lastRetryCost) => Effect.sync(() => release(lastRetryCost)),
    unsafeRelease: release,
    available: Effect.sync(() => tokens)
  }
}

/**
 * A budget that never runs out.
 *
 * @category constructors
 * @since 0.1.0
 */
export const unlimited: RetryBudgetService = {
  acquire: () => Effect.succeed(0),
  release: () => Effect.void,
  unsafeRelease: () => {},
  available: Effect.succeed(Number.POSITIVE_INFINITY)
}

/**
 * A layer with a fresh token bucket (see {@link make}).
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options?: RetryBudgetOptions): Layer.Layer<RetryBudget> =>
  Layer.effect(RetryBudget, make(options))

/**
 * A budget layer that always pays (retries are then limited by the policy alone).
 *
 * @category layers
 * @since 0.1.0
 */
export const layerUnlimited: Layer.Layer<RetryBudget> = Layer.succeed(RetryBudget, unlimited)

/**
 * Tokens left in the provided budget.
 *
 * @category accessors
 * @since 0.1.0
 */
export const available: Effect.Effect<number, never, RetryBudget> = Effect.flatMap(RetryBudget, (b) => b.available)
