/**
 * A 200 body of `ListRooms` in the steps the fast path takes one at a time: parsed, its token read
 * (from the bytes, or from the parsed body), then validated. `RestJson1.decodeSuccess` is the first
 * and last step together.
 */
import { ChimeError, ListRoomsResponse } from "@chime-rooms/core"
import { isRecord } from "effect/Predicate"

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
 * The first half of `RestJson1.decodeSuccess`: the body parsed (a 200 without a payload is an empty
 * output, as restJson1 says), not yet validated.
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
      message: truncated
        ? "ListRooms response body ended before the JSON did"
        : "ListRooms response body is not valid JSON",
      status,
      ...(requestId !== undefined ? { requestId } : {}),
      excerpt: ChimeError.safeExcerpt(text)
    })
  }
}

/**
 * The second half of `RestJson1.decodeSuccess`: a parsed body validated and decoded.
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
 */
export const nextTokenOf = (json: unknown): string | undefined => {
  if (!isRecord(json)) return undefined
  const token = json.NextToken
  return typeof token === "string" && token !== "" ? token : undefined
}

const NEXT_TOKEN_KEY = Buffer.from("\"NextToken\"", "latin1")

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
 * For example, `{"NextToken":"abc","Rooms":[]}` gives `"abc"`.
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
