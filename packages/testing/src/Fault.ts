/**
 * One injected fault: its type and constructors. A `FaultScript` decides which call gets which.
 *
 * @since 0.1.0
 */
import { ChimeError } from "@chime-rooms/core"
import { Duration } from "effect"

/**
 * One injected fault.
 *
 * - `ServiceError`: one of the seven modelled errors (`retryAfter` becomes `Retry-After` on the wire).
 * - `Delay`: wait before answering (on Effect's `Clock` in memory, so `TestClock` drives it).
 * - `Transport`: the connection fails before any response.
 * - `RepeatToken`: the page comes back with a `NextToken` leading to itself (a pagination loop).
 * - Wire faults, which the emulator performs and the in-memory layer maps to the typed error a
 *   client would report: `Reset` (connection reset mid-body), `TruncatedJson`, `InvalidJson`,
 *   `Html502` (a proxy's HTML error page), `Slow` (the body trickles out over `duration`).
 *
 * @category models
 * @since 0.1.0
 */
export type Fault =
  | {
    readonly _tag: "ServiceError"
    readonly name: ChimeError.ServiceErrorName
    readonly retryAfter?: Duration.Duration
    readonly message?: string
  }
  | { readonly _tag: "Delay"; readonly duration: Duration.Duration }
  | { readonly _tag: "Transport" }
  | { readonly _tag: "RepeatToken" }
  | { readonly _tag: "Reset" }
  | { readonly _tag: "TruncatedJson" }
  | { readonly _tag: "InvalidJson" }
  | { readonly _tag: "Html502" }
  | { readonly _tag: "Slow"; readonly duration: Duration.Duration }

/**
 * The faults that end a call (as opposed to `Delay`, `Slow` and `RepeatToken`, which shape it).
 *
 * @category models
 * @since 0.1.0
 */
export type FailingFault = Extract<
  Fault,
  { readonly _tag: "ServiceError" | "Transport" | "Reset" | "TruncatedJson" | "InvalidJson" | "Html502" }
>

const formatDuration = (d: Duration.Duration): string => {
  const ms = Duration.toMillis(d)
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`
}

/**
 * One of the seven modelled errors.
 *
 * @example
 * ```ts
 * import { Fault } from "@chime-rooms/testing"
 *
 * Fault.serviceError("ThrottledClientException", { retryAfter: "2 seconds" })
 * Fault.delay("500 millis")
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const serviceError = (
  name: ChimeError.ServiceErrorName,
  options: { readonly retryAfter?: Duration.DurationInput; readonly message?: string } = {}
): Fault => ({
  _tag: "ServiceError",
  name,
  ...(options.retryAfter === undefined ? {} : { retryAfter: Duration.decode(options.retryAfter) }),
  ...(options.message === undefined ? {} : { message: options.message })
})

/**
 * 429 `ThrottledClientException`, optionally with a retry-after.
 *
 * @category constructors
 * @since 0.1.0
 */
export const throttled = (retryAfter?: Duration.DurationInput): Fault =>
  serviceError("ThrottledClientException", retryAfter === undefined ? {} : { retryAfter })

/**
 * 503 `ServiceUnavailableException`, optionally with a retry-after.
 *
 * @category constructors
 * @since 0.1.0
 */
export const unavailable = (retryAfter?: Duration.DurationInput): Fault =>
  serviceError("ServiceUnavailableException", retryAfter === undefined ? {} : { retryAfter })

/**
 * Wait `duration` before answering.
 *
 * @category constructors
 * @since 0.1.0
 */
export const delay = (duration: Duration.DurationInput): Fault => ({
  _tag: "Delay",
  duration: Duration.decode(duration)
})

/**
 * The connection fails before a response.
 *
 * @category constructors
 * @since 0.1.0
 */
export const transport = { _tag: "Transport" } as Fault

/**
 * The page's `NextToken` leads back to the same page.
 *
 * @category constructors
 * @since 0.1.0
 */
export const repeatToken = { _tag: "RepeatToken" } as Fault

/**
 * The connection is reset after the head, mid-body.
 *
 * @category constructors
 * @since 0.1.0
 */
export const reset = { _tag: "Reset" } as Fault

/**
 * A 200 whose JSON body stops short.
 *
 * @category constructors
 * @since 0.1.0
 */
export const truncatedJson = { _tag: "TruncatedJson" } as Fault

/**
 * A 200 whose body is not JSON.
 *
 * @category constructors
 * @since 0.1.0
 */
export const invalidJson = { _tag: "InvalidJson" } as Fault

/**
 * A 502 with an HTML body, as a proxy sends.
 *
 * @category constructors
 * @since 0.1.0
 */
export const html502 = { _tag: "Html502" } as Fault

/**
 * The response body trickles out over `duration`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const slow = (duration: Duration.DurationInput): Fault => ({ _tag: "Slow", duration: Duration.decode(duration) })

/**
 * Does this fault end the call?
 *
 * @category refinements
 * @since 0.1.0
 */
export const isFailing = (fault: Fault): fault is FailingFault =>
  fault._tag !== "Delay" && fault._tag !== "Slow" && fault._tag !== "RepeatToken"

/**
 * The HTTP status of a scripted service error.
 *
 * @category getters
 * @since 0.1.0
 */
export const statusOf = (name: ChimeError.ServiceErrorName): number => ChimeError.serviceErrors[name].status

/**
 * A short description (the spec syntax), safe for logs.
 *
 * @category formatting
 * @since 0.1.0
 */
export const describe = (fault: Fault): string => {
  switch (fault._tag) {
    case "ServiceError":
      return `${ChimeError.serviceErrors[fault.name].status}${
        fault.retryAfter === undefined ? "" : `:retry-after=${formatDuration(fault.retryAfter)}`
      }`
    case "Delay":
      return `delay=${formatDuration(fault.duration)}`
    case "Slow":
      return `slow=${formatDuration(fault.duration)}`
    case "Transport":
      return "transport"
    case "RepeatToken":
      return "loop"
    case "Reset":
      return "reset"
    case "TruncatedJson":
      return "truncated"
    case "InvalidJson":
      return "invalid-json"
    case "Html502":
      return "html502"
  }
}
