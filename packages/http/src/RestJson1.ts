/**
 * The restJson1 error rules and the response decoding of `ListRooms`: from a status, headers and
 * a body to a `ListRoomsOutput` or one of core's tagged errors.
 *
 * @since 0.1.0
 */
import { ChimeError, ListRoomsResponse } from "@chime-rooms/core"
import * as Duration from "effect/Duration"

/**
 * Response headers as the platform gives them (lower-case names).
 *
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

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

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
  (Object.keys(ChimeError.serviceErrors) as Array<ChimeError.ServiceErrorName>).map((name) => [ChimeError.serviceErrors[name].status, name])
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

/** V8 words an early end as "Unexpected end…", "Unterminated string…" or an error at the last position. */
const TRUNCATED = /unexpected end|end of (json )?input|unterminated/i
const POSITION = /at position (\d+)/

const endsEarly = (text: string, cause: unknown): boolean => {
  if (!(cause instanceof SyntaxError)) return false
  if (TRUNCATED.test(cause.message)) return true
  const position = POSITION.exec(cause.message)
  return position !== null && Number(position[1]) >= text.trimEnd().length
}

/**
 * Decodes a 200 body: `JSON.parse`, then core's one-pass decoder.
 *
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

/**
 * The first half of {@link decodeSuccess}: the body parsed (a 200 without a payload is an empty
 * output, as restJson1 says), not yet validated.
 *
 * @since 0.1.0
 */
export const parseSuccess = (
  status: number,
  requestId: string | undefined,
  text: string
): { readonly json: unknown } | ChimeError.ResponseDecodeError => {
  try {
    return { json: text === "" ? {} : JSON.parse(text) }
  } catch (cause) {
    const truncated = endsEarly(text, cause)
    return new ChimeError.ResponseDecodeError({
      reason: truncated ? "TruncatedJson" : "InvalidJson",
      message: truncated ? "ListRooms response body ended before the JSON did" : "ListRooms response body is not valid JSON",
      status,
      ...(requestId !== undefined ? { requestId } : {}),
      excerpt: ChimeError.safeExcerpt(text)
    })
  }
}

/**
 * The second half of {@link decodeSuccess}: a parsed body validated and decoded.
 *
 * @since 0.1.0
 */
export const decodeParsed = (
  status: number,
  requestId: string | undefined,
  json: unknown
): ListRoomsResponse.ListRoomsOutput | ChimeError.ResponseDecodeError => {
  const decoded = ListRoomsResponse.decode(json)
  if (decoded._tag === "Left") {
    return new ChimeError.ResponseDecodeError({
      reason: "InvalidShape",
      message: `ListRooms response has the wrong shape: ${decoded.left}`,
      status,
      ...(requestId !== undefined ? { requestId } : {})
    })
  }
  const page = decoded.right
  const $metadata = requestId !== undefined ? { requestId, httpStatusCode: status } : { httpStatusCode: status }
  return page.NextToken !== undefined
    ? { NextToken: page.NextToken, Rooms: page.Rooms, $metadata }
    : { Rooms: page.Rooms, $metadata }
}

/**
 * The `NextToken` of a parsed body when it is a non-empty string, before any validation.
 *
 * @since 0.1.0
 */
export const nextTokenOf = (json: unknown): string | undefined => {
  if (!isRecord(json)) return undefined
  const token = json.NextToken
  return typeof token === "string" && token !== "" ? token : undefined
}

const NEXT_TOKEN_KEY = Buffer.from('"NextToken"', "latin1")

const isBlank = (c: number | undefined): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09

/**
 * The `NextToken` a 200 body seems to carry, read from its bytes without parsing them: the first
 * `"NextToken"` that stands as a key (after `{` or `,`, before `:`), when its value is a non-empty
 * string of printable ASCII without escapes. `undefined` when the bytes say anything else (no such
 * key, `null`, an escape), for the parsed body to tell.
 *
 * A guess, not a decoding: the key of a nested object reads the same, and of a key written twice
 * `JSON.parse` keeps the last. Act on it only in ways the parsed page can take back (the stream
 * sends the next request with it, and withdraws that request when the page's `NextToken` turns out
 * different). Services write the key once, at the top level; the emulator writes it first.
 *
 * @example
 * ```ts
 * import { RestJson1 } from "@chime-rooms/http"
 *
 * RestJson1.peekNextToken(Buffer.from('{"NextToken":"abc","Rooms":[]}')) // "abc"
 * ```
 *
 * @since 0.1.0
 */
export const peekNextToken = (body: Buffer): string | undefined => {
  let at = body.indexOf(NEXT_TOKEN_KEY)
  let value = at === -1 ? -1 : valueOfKey(body, at)
  while (at !== -1 && value === -1) {
    at = body.indexOf(NEXT_TOKEN_KEY, at + 1)
    if (at !== -1) value = valueOfKey(body, at)
  }
  if (value === -1 || body[value] !== 0x22 /* " */) return undefined
  const start = value + 1
  let i = start
  for (let c = body[i]; c !== 0x22; c = body[++i]) {
    // The end of the body, a control character, an escape or a non-ASCII byte.
    if (c === undefined || c < 0x20 || c === 0x5c || c > 0x7e) return undefined
  }
  return i === start ? undefined : body.toString("latin1", start, i)
}

/** Where the value starts when the `"NextToken"` at `at` stands as a key; else -1. */
const valueOfKey = (body: Buffer, at: number): number => {
  let i = at - 1
  while (isBlank(body[i])) i--
  if (body[i] !== 0x7b /* { */ && body[i] !== 0x2c /* , */) return -1
  i = at + NEXT_TOKEN_KEY.length
  while (isBlank(body[i])) i++
  if (body[i] !== 0x3a /* : */) return -1
  i++
  while (isBlank(body[i])) i++
  return i
}
