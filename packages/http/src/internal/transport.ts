/**
 * From a platform `HttpClientError` (whatever client produced it) to core's `TransportError`,
 * with a message built from error codes only: never a URL, header or body.
 */
import { ChimeError } from "@chime-rooms/core"
import type * as HttpClientError from "@effect/platform/HttpClientError"

/**
 * The cause of a request that was still incomplete (head or body) when its time ran out; see
 * `internal/undici/send.ts`'s `send`.
 */
export class AttemptTimeoutError extends Error {
  readonly code = "ETIMEDOUT"
  constructor(readonly millis: number) {
    super(`no complete response within ${millis} ms`)
    this.name = "TimeoutError"
  }
}

const REFUSED = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"])
const RESET = new Set(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CLOSED", "ECONNABORTED"])
const TIMEOUT = new Set(["ETIMEDOUT", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"])
const CUT_SHORT = new Set(["UND_ERR_RES_CONTENT_LENGTH_MISMATCH", "ERR_STREAM_PREMATURE_CLOSE"])

/** The `code`s along a cause chain (fetch wraps undici's error in a `TypeError("fetch failed")`). */
const codesOf = (cause: unknown): Array<string> => {
  const codes: Array<string> = []
  let current: unknown = cause
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === "string") codes.push(code)
    const name = (current as { name?: unknown }).name
    if (name === "AbortError" || name === "TimeoutError") codes.push(name)
    const message = (current as { message?: unknown }).message
    if (message === "terminated") codes.push("terminated")
    current = (current as { cause?: unknown }).cause
  }
  return codes
}

const classify = (codes: ReadonlyArray<string>, afterHead: boolean): ChimeError.TransportFailure => {
  if (codes.some((c) => CUT_SHORT.has(c))) return "BodyCutShort"
  if (codes.some((c) => TIMEOUT.has(c) || c === "TimeoutError")) return "Timeout"
  if (codes.some((c) => REFUSED.has(c))) return "ConnectionRefused"
  if (afterHead) return "BodyCutShort"
  if (codes.some((c) => RESET.has(c) || c === "terminated")) return "ConnectionReset"
  return "Other"
}

const describe: Record<ChimeError.TransportFailure, string> = {
  ConnectionRefused: "the connection was refused",
  ConnectionReset: "the connection was reset before a response arrived",
  Timeout: "the request timed out",
  BodyCutShort: "the response body was cut short",
  Other: "the request failed"
}

/**
 * The transport error for a failure of `execute` (before the head) or of reading the body (after).
 */
export const toTransportError = (
  error: HttpClientError.HttpClientError,
  requestId: string | undefined
): ChimeError.TransportError => {
  const afterHead = error._tag === "ResponseError"
  const codes = codesOf(error.cause)
  const reason = classify(codes, afterHead)
  const code = codes.find((c) => c !== "terminated")
  return new ChimeError.TransportError({
    reason,
    message: `ListRooms: ${describe[reason]}${code !== undefined ? ` (${code})` : ""}`,
    ...(requestId !== undefined ? { requestId } : {})
  })
}

/** The error of a per-attempt timeout. */
export const timeoutError = (millis: number): ChimeError.TransportError =>
  new ChimeError.TransportError({ reason: "Timeout", message: `ListRooms: no complete response within ${millis} ms` })
