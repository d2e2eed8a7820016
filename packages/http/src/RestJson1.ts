/**
 * The restJson1 error rules and the response decoding of `ListRooms`: from a status, headers and
 * a body to a `ListRoomsOutput` or one of core's tagged errors.
 *
 * @since 0.1.0
 */
import { ChimeError, type ListRoomsResponse } from "@chime-rooms/core"
import * as Duration from "effect/Duration"
import { isRecord } from "effect/Predicate"
import { decodeParsed, parseSuccess } from "./internal/successBody.js"

/**
 * Response headers as the platform gives them (lower-case names).
 *
 * @category models
 * @since 0.1.0
 */
export type ResponseHeaders = Readonly<Record<string, string | undefined>>

/**
 * An error name as the AWS SDK cleans it (`sanitizeErrorCode` in `@smithy/core`): what comes
 * before the first `,` (Node joins a repeated header with `", "`), then before the first `:` (a
 * Coral URI such as `:http://internal.amazon.com/coral/com.amazon.coral.service/`), then, when a
 * `#` remains, what lies between the first `#` and the next (`aws.namespace#Name`). Nothing is
 * trimmed: a blank inside is part of the name.
 */
const sanitize = (raw: string): string => {
  const comma = raw.indexOf(",")
  const first = comma === -1 ? raw : raw.slice(0, comma)
  const colon = first.indexOf(":")
  const cut = colon === -1 ? first : first.slice(0, colon)
  const hash = cut.indexOf("#")
  if (hash === -1) return cut
  const next = cut.indexOf("#", hash + 1)
  return next === -1 ? cut.slice(hash + 1) : cut.slice(hash + 1, next)
}

/**
 * A header value without the blanks (space, tab) around it, which are not part of it (RFC 9110):
 * node's parser drops them, undici hands the trailing ones over.
 */
const withoutOuterBlanks = (value: string): string => {
  let start = 0
  let end = value.length
  while (start < end && (value[start] === " " || value[start] === "\t")) start++
  while (end > start && (value[end - 1] === " " || value[end - 1] === "\t")) end--
  return start === 0 && end === value.length ? value : value.slice(start, end)
}

/** A name source's value as the SDK takes it: a string, or a number as JavaScript prints it. */
const nameValue = (value: unknown): string | undefined =>
  typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined

/** The first body member, in the body's order, whose name is `code` in any case and whose value is a name. */
const codeMember = (body: Record<string, unknown>): string | undefined => {
  for (const key in body) {
    if (key.toLowerCase() !== "code") continue
    const value = nameValue(body[key])
    if (value !== undefined) return value
  }
  return undefined
}

/**
 * The error name by the AWS SDK's restJson1 rules (`loadRestJsonErrorCode`): the
 * `x-amzn-errortype` header whenever it is present, empty or not; else the body's first `code`
 * member in any case; else its `__type`; cleaned as the SDK cleans it (see the README's error
 * section). A `code` or `__type` that is neither a string nor a number counts as absent (the SDK
 * fails with a `TypeError` on one). `undefined` when nothing names the error (the SDK then says
 * `Unknown`); `""` when what names it is empty.
 *
 * @example
 * ```ts
 * import { RestJson1 } from "@chime-rooms/http"
 *
 * RestJson1.resolveErrorName({ "x-amzn-errortype": "aws.protocoltests.restjson#FooError:http://internal" }, undefined)
 * // "FooError"
 * RestJson1.resolveErrorName({}, { Code: "Throttled" }) // "Throttled"
 * ```
 *
 * @category decoding
 * @since 0.1.0
 */
export const resolveErrorName = (headers: ResponseHeaders, body: unknown): string | undefined => {
  const header = headers["x-amzn-errortype"]
  if (header !== undefined) return sanitize(withoutOuterBlanks(header))
  if (!isRecord(body)) return undefined
  const code = codeMember(body)
  if (code !== undefined) return sanitize(code)
  const type = nameValue(body["__type"])
  return type === undefined ? undefined : sanitize(type)
}

const DELTA = /^\s*\d+(?:\.\d+)?\s*$/
/** The three forms of an HTTP date (RFC 9110): IMF-fixdate, RFC 850, asctime. */
const HTTP_DATE =
  /^\s*(?:[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT|[A-Za-z]{6,9}, \d{2}-[A-Za-z]{3}-\d{2} \d{2}:\d{2}:\d{2} GMT|[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4})\s*$/

/** Where AWS services put the request id, in the order the AWS SDK reads them. */
const REQUEST_ID_HEADERS = ["x-amzn-requestid", "x-amzn-request-id", "x-amz-request-id"] as const

/**
 * The request id of a response, as the AWS SDK reads it: `x-amzn-RequestId`, else
 * `x-amzn-Request-Id`, else `x-amz-request-id`.
 *
 * @category decoding
 * @since 0.1.0
 */
export const requestIdFrom = (header: (name: string) => string | undefined): string | undefined => {
  for (const name of REQUEST_ID_HEADERS) {
    const value = header(name)
    if (value !== undefined) return value
  }
  return undefined
}

/**
 * The delay the server asked for: `x-amz-retry-after` (whole milliseconds) first, else
 * `Retry-After`: delta seconds (a fraction too, as the AWS SDK reads it) or an HTTP date, measured
 * from `now` (a date already past asks for no delay). Anything else (negative, `NaN`, a date in no
 * HTTP form, which `Date.parse` would still read as some year) is ignored. A huge delay is kept as
 * sent: the retry policy caps what it honours (`retryAfterCap`).
 *
 * @category decoding
 * @since 0.1.0
 */
export const retryAfterFrom = (headers: ResponseHeaders, now: number): Duration.Duration | undefined => {
  const amz = headers["x-amz-retry-after"]
  if (amz !== undefined && /^\s*\d+\s*$/.test(amz)) return Duration.millis(Number(amz))
  const retryAfter = headers["retry-after"]
  if (retryAfter === undefined) return undefined
  if (DELTA.test(retryAfter)) return Duration.millis(Number(retryAfter) * 1000)
  if (!HTTP_DATE.test(retryAfter)) return undefined
  const at = Date.parse(retryAfter)
  if (Number.isNaN(at)) return undefined
  return Duration.millis(Math.max(0, at - now))
}

const statusNames: ReadonlyMap<number, ChimeError.ServiceErrorName> = new Map(
  (Object.keys(ChimeError.serviceErrors) as Array<ChimeError.ServiceErrorName>).map((
    name
  ) => [ChimeError.serviceErrors[name].status, name])
)

/** The message as the SDK picks it: `message`, else `Message`, whichever first is a non-empty string. */
const messageMember = (body: unknown): string | undefined => {
  if (!isRecord(body)) return undefined
  const lower = body["message"]
  if (typeof lower === "string" && lower !== "") return lower
  const upper = body["Message"]
  return typeof upper === "string" && upper !== "" ? upper : undefined
}

const parseJsonOrUndefined = (text: string): unknown => {
  if (text === "") return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/**
 * The typed error of a non-2xx response, named as the AWS SDK names it ({@link resolveErrorName}):
 * one of the seven modelled names is that error; any other name takes the modelled error of its
 * HTTP status, with the name in `code`, or on any other status becomes `UnknownServiceError` with
 * the name in `errorName`; without a name (none, or an empty one) the status's modelled error has
 * no `code`, and any other status is a `ResponseDecodeError` (`UnexpectedStatus`) with a scrubbed
 * excerpt of the body. A body that is not JSON counts as none. Names, codes and messages go
 * through `safeExcerpt`: services may echo canonical requests that hold tokens.
 *
 * @category decoding
 * @since 0.1.0
 */
export const decodeError = (
  status: number,
  headers: ResponseHeaders,
  text: string,
  now: number
): ChimeError.ChimeError => {
  const body = parseJsonOrUndefined(text)
  const name = resolveErrorName(headers, body)
  const requestId = requestIdFrom((name) => headers[name])
  const retryAfter = retryAfterFrom(headers, now)
  const rawMessage = messageMember(body)
  const rawCode = isRecord(body) ? codeMember(body) : undefined
  const common = {
    status,
    ...(requestId !== undefined ? { requestId } : {}),
    ...(retryAfter !== undefined ? { retryAfter } : {})
  }
  const message = (fallback: string) => ChimeError.safeExcerpt(rawMessage ?? fallback, 512)
  // The body's own code, kept beside a name it does not repeat (Chime's `Throttled` beside `ThrottledClientException`).
  const codeBeside = (name: string) =>
    rawCode !== undefined && rawCode !== name ? { code: ChimeError.safeExcerpt(rawCode, 128) } : {}
  if (name !== undefined && ChimeError.isServiceErrorName(name)) {
    return ChimeError.makeServiceError(name, { ...common, message: message(name), ...codeBeside(name) })
  }
  const named = name !== undefined && name !== ""
  const byStatus = statusNames.get(status)
  if (byStatus !== undefined) {
    return ChimeError.makeServiceError(byStatus, {
      ...common,
      message: message(named ? name : `HTTP ${status}`),
      ...(named ? { code: ChimeError.safeExcerpt(name, 128) } : {})
    })
  }
  if (named) {
    return new ChimeError.UnknownServiceError({
      ...common,
      errorName: ChimeError.safeExcerpt(name, 128),
      message: message(name),
      ...codeBeside(name)
    })
  }
  return new ChimeError.ResponseDecodeError({
    reason: "UnexpectedStatus",
    message: `ListRooms got HTTP ${status} without an error the protocol explains`,
    status,
    ...(requestId !== undefined ? { requestId } : {}),
    excerpt: ChimeError.safeExcerpt(text)
  })
}

/**
 * Decodes a 200 body: `JSON.parse`, then core's one-pass decoder.
 *
 * @category decoding
 * @since 0.1.0
 */
export const decodeSuccess = (
  status: number,
  requestId: string | undefined,
  text: string
): ListRoomsResponse.ListRoomsOutput | ChimeError.ResponseDecodeError => {
  const parsed = parseSuccess(status, requestId, text)
  return parsed instanceof ChimeError.ResponseDecodeError ? parsed : decodeParsed(status, requestId, parsed.json)
}
