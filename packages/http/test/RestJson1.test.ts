import { RestJson1 } from "@chime-rooms/http"
import { describe, expect, it } from "@effect/vitest"
import { Duration, FastCheck } from "effect"
import * as SuccessBody from "../src/internal/successBody.js"

describe("RestJson1", () => {
  it("prefers the header, then body code (any case), then __type", () => {
    expect(RestJson1.resolveErrorName({ "x-amzn-errortype": "NotFoundException:http://x" }, { Code: "NotFound" })).toBe(
      "NotFoundException"
    )
    expect(RestJson1.resolveErrorName({}, { Code: "ns#Throttled" })).toBe("Throttled")
    expect(RestJson1.resolveErrorName({}, { __type: "a.b#ForbiddenException" })).toBe("ForbiddenException")
    expect(RestJson1.resolveErrorName({}, undefined)).toBeUndefined()
  })

  // The cases below are the AWS SDK's own answers (`loadRestJsonErrorCode` in @smithy/core, run
  // through @aws-sdk/client-chime); test/ErrorsDifferential.test.ts checks generated ones against it.
  it("cleans a name as the AWS SDK does: first value of a repeated header, before ':', between the first two '#'", () => {
    const header = (value: string) => RestJson1.resolveErrorName({ "x-amzn-errortype": value }, { code: "Other" })
    expect(header("ThrottledClientException, ThrottledClientException")).toBe("ThrottledClientException")
    expect(header("A,B:c")).toBe("A")
    expect(header("ns#Foo:http://internal.amazon.com/coral/com.amazon.coral.service/")).toBe("Foo")
    expect(header("a#b#c")).toBe("b")
    expect(header("a#b:c#d")).toBe("b")
    expect(header("ns#")).toBe("")
    expect(header("A ,B")).toBe("A ")
  })

  it("takes an empty header as an empty name, without reading the body", () => {
    expect(RestJson1.resolveErrorName({ "x-amzn-errortype": "" }, { Code: "Throttled" })).toBe("")
    const error = RestJson1.decodeError(429, { "x-amzn-errortype": "" }, "{\"Code\":\"Throttled\"}", 0)
    expect(error._tag).toBe("ThrottledClientException")
    expect((error as { code?: string }).code).toBeUndefined()
    const other = RestJson1.decodeError(409, { "x-amzn-errortype": "" }, "{\"Code\":\"Conflict\"}", 0)
    expect(other).toMatchObject({ _tag: "ResponseDecodeError", reason: "UnexpectedStatus", status: 409 })
  })

  it("reads the body's first code member in any case, numbers too; passes over one that is not a name", () => {
    expect(RestJson1.resolveErrorName({}, { Code: "A", code: "B" })).toBe("A")
    expect(RestJson1.resolveErrorName({}, { CODE: 42 })).toBe("42")
    expect(RestJson1.resolveErrorName({}, { code: "", __type: "T" })).toBe("")
    expect(RestJson1.resolveErrorName({}, { Code: null, code: "B" })).toBe("B")
    expect(RestJson1.resolveErrorName({}, { code: true, __type: 7.5 })).toBe("7.5")
    expect(RestJson1.resolveErrorName({}, { code: ["x"], __type: { a: 1 } })).toBeUndefined()
    expect(RestJson1.resolveErrorName({}, ["code"])).toBeUndefined()
  })

  it("takes the message from message, else Message, and keeps the name it came with on a modelled status", () => {
    const body = "{\"message\":\"\",\"Message\":\"M\",\"MESSAGE\":\"no\"}"
    const error = RestJson1.decodeError(403, { "x-amzn-errortype": "InvalidSignatureException" }, body, 0)
    expect(error).toMatchObject({
      _tag: "ForbiddenException",
      code: "InvalidSignatureException",
      message: "M",
      status: 403
    })
    const upper = RestJson1.decodeError(404, {}, "{\"Code\":\"NotFound\",\"MESSAGE\":\"not read\"}", 0)
    expect(upper).toMatchObject({ _tag: "NotFoundException", code: "NotFound", message: "NotFound" })
  })

  it("maps Chime's body codes by status when the header is absent", () => {
    const error = RestJson1.decodeError(
      429,
      { "x-amzn-requestid": "r-1" },
      "{\"Code\":\"Throttled\",\"Message\":\"slow down\"}",
      0
    )
    expect(error).toMatchObject({
      _tag: "ThrottledClientException",
      code: "Throttled",
      message: "slow down",
      status: 429,
      requestId: "r-1"
    })
  })

  it("keeps an unknown name on an unmapped status as UnknownServiceError", () => {
    const error = RestJson1.decodeError(409, { "x-amzn-errortype": "ConflictException" }, "{\"message\":\"busy\"}", 0)
    expect(error).toMatchObject({
      _tag: "UnknownServiceError",
      errorName: "ConflictException",
      status: 409,
      message: "busy"
    })
  })

  it("falls back to UnexpectedStatus with a scrubbed excerpt when nothing names the error", () => {
    const error = RestJson1.decodeError(
      504,
      {},
      "<html>{\"Name\":\"secret room\"} Authorization: AWS4-HMAC-SHA256 abc</html>",
      0
    )
    expect(error).toMatchObject({ _tag: "ResponseDecodeError", reason: "UnexpectedStatus", status: 504 })
    expect(JSON.stringify(error)).not.toContain("secret room")
    expect(JSON.stringify(error)).not.toContain("AWS4-HMAC-SHA256")
  })

  it("scrubs tokens a service echoes in its message", () => {
    const error = RestJson1.decodeError(
      403,
      { "x-amzn-errortype": "InvalidSignatureException" },
      JSON.stringify({ message: "The canonical request was\nx-amz-security-token:TOKEN123\nsigned" }),
      0
    )
    expect(error._tag).toBe("ForbiddenException")
    expect(JSON.stringify(error)).not.toContain("TOKEN123")
  })

  it("reads retry-after as seconds, as an HTTP date, and x-amz-retry-after as milliseconds", () => {
    const now = Date.parse("2026-01-01T00:00:00Z")
    expect(Duration.toMillis(RestJson1.retryAfterFrom({ "retry-after": "7" }, now)!)).toBe(7000)
    expect(Duration.toMillis(RestJson1.retryAfterFrom({ "retry-after": "Thu, 01 Jan 2026 00:00:30 GMT" }, now)!)).toBe(
      30_000
    )
    expect(Duration.toMillis(RestJson1.retryAfterFrom({ "retry-after": "Wed, 31 Dec 2025 00:00:30 GMT" }, now)!)).toBe(
      0
    )
    expect(Duration.toMillis(RestJson1.retryAfterFrom({ "x-amz-retry-after": "1500", "retry-after": "9" }, now)!)).toBe(
      1500
    )
    expect(RestJson1.retryAfterFrom({ "retry-after": "soon" }, now)).toBeUndefined()
  })

  it("reads the request id as the AWS SDK does: x-amzn-RequestId, else x-amzn-Request-Id, else x-amz-request-id", () => {
    const error = (headers: Record<string, string>) => RestJson1.decodeError(404, headers, "", 0)
    expect(error({ "x-amzn-requestid": "a", "x-amzn-request-id": "b", "x-amz-request-id": "c" })).toMatchObject({
      requestId: "a"
    })
    expect(error({ "x-amzn-request-id": "b", "x-amz-request-id": "c" })).toMatchObject({ requestId: "b" })
    expect(error({ "x-amz-request-id": "c" })).toMatchObject({ requestId: "c" })
    expect(error({})).not.toHaveProperty("requestId")
  })

  it("reads hostile retry-after values safely: negative, NaN, fractions, huge, past and future dates, dates in no HTTP form", () => {
    const now = Date.parse("2026-01-01T00:00:00Z")
    const millis = (headers: Record<string, string>) => {
      const d = RestJson1.retryAfterFrom(headers, now)
      return d === undefined ? undefined : Duration.toMillis(d)
    }
    // Negative and NaN ask for nothing (`Date.parse` would read "-1" as the year 2001 and "2" as February 2001).
    expect(millis({ "retry-after": "-1" })).toBeUndefined()
    expect(millis({ "retry-after": "-30" })).toBeUndefined()
    expect(millis({ "retry-after": "NaN" })).toBeUndefined()
    expect(millis({ "retry-after": "Infinity" })).toBeUndefined()
    expect(millis({ "x-amz-retry-after": "-5" })).toBeUndefined()
    expect(millis({ "x-amz-retry-after": "NaN", "retry-after": "2" })).toBe(2000)
    // Fractions of a second, as the AWS SDK reads them.
    expect(millis({ "retry-after": "1.5" })).toBe(1500)
    // Huge values are kept as sent (finite); the retry policy caps what it honours.
    expect(millis({ "retry-after": "99999999999999999999" })).toBe(1e23)
    expect(millis({ "x-amz-retry-after": "99999999999999999999" })).toBe(1e20)
    // Past and future HTTP dates in all three forms; the far future stays finite.
    expect(millis({ "retry-after": "Thu, 01 Jan 1970 00:00:00 GMT" })).toBe(0)
    expect(millis({ "retry-after": "Thursday, 01-Jan-26 00:00:10 GMT" })).toBe(10_000)
    expect(millis({ "retry-after": "Thu Jan  1 00:00:20 2026" })).toBe(20_000)
    expect(millis({ "retry-after": "Fri, 31 Dec 9999 23:59:59 GMT" })).toBe(Date.parse("9999-12-31T23:59:59Z") - now)
    // Dates in no HTTP form (a year of six digits, a date beyond what a Date holds, ISO, US) are ignored.
    expect(millis({ "retry-after": "Sat, 13 Sep 275760 00:00:00 GMT" })).toBeUndefined()
    expect(millis({ "retry-after": "Sun, 14 Sep 275760 00:00:00 GMT" })).toBeUndefined()
    expect(millis({ "retry-after": "12/31/2099" })).toBeUndefined()
    expect(millis({ "retry-after": "2026-01-01T00:00:30Z" })).toBeUndefined()
  })

  it("decodes a 200 page with metadata; tells invalid, truncated and misshapen bodies apart", () => {
    const ok = RestJson1.decodeSuccess(
      200,
      "r-9",
      "{\"NextToken\":\"t\",\"Rooms\":[{\"RoomId\":\"a\",\"CreatedTimestamp\":\"2019-12-02T22:29:31.549Z\"}]}"
    )
    expect(ok).toMatchObject({ NextToken: "t", $metadata: { requestId: "r-9", httpStatusCode: 200 } })
    expect(RestJson1.decodeSuccess(200, undefined, "{\"NextToken\":null}")).toEqual({
      Rooms: [],
      $metadata: { httpStatusCode: 200 }
    })
    expect(RestJson1.decodeSuccess(200, "r", "{\"Rooms\":[{\"RoomId\":\"a\"")).toMatchObject({
      reason: "TruncatedJson",
      requestId: "r"
    })
    expect(RestJson1.decodeSuccess(200, "r", "<html>")).toMatchObject({ reason: "InvalidJson" })
    const shape = RestJson1.decodeSuccess(
      200,
      "r",
      "{\"Rooms\":[{\"Name\":\"very secret\",\"CreatedTimestamp\":\"yesterday\"}]}"
    )
    expect(shape).toMatchObject({ _tag: "ResponseDecodeError", reason: "InvalidShape" })
    expect(JSON.stringify(shape)).not.toContain("very secret")
    expect(JSON.stringify(shape)).not.toContain("yesterday")
  })

  it("reads the NextToken of a parsed body before validation: a non-empty string only", () => {
    const parsed = SuccessBody.parseSuccess(
      200,
      "r",
      "{\"NextToken\":\"t-2\",\"Rooms\":[{\"CreatedTimestamp\":\"yesterday\"}]}"
    )
    expect("json" in parsed && SuccessBody.nextTokenOf(parsed.json)).toBe("t-2")
    // The token is heard, yet the page itself is still refused.
    expect("json" in parsed && SuccessBody.decodeParsed(200, "r", parsed.json)).toMatchObject({
      reason: "InvalidShape"
    })
    for (const body of [null, [], { NextToken: "" }, { NextToken: null }, { NextToken: 7 }, {}]) {
      expect(SuccessBody.nextTokenOf(body)).toBeUndefined()
    }
  })

  describe("peekNextToken: the token read from the bytes, before parsing", () => {
    const peek = (text: string) => SuccessBody.peekNextToken(Buffer.from(text, "utf8"))

    it("reads a plain token wherever the key stands, blanks allowed", () => {
      expect(peek("{\"NextToken\":\"abc/+=\",\"Rooms\":[]}")).toBe("abc/+=")
      expect(peek("{\"Rooms\":[{\"RoomId\":\"r-1\"}],\"NextToken\":\"t-2\"}")).toBe("t-2")
      expect(peek("{ \"Rooms\" : [] ,\n\t\"NextToken\" :  \"t-3\" }")).toBe("t-3")
      expect(peek("\ufeff{\"NextToken\":\"t-4\"}")).toBe("t-4")
    })

    it("leaves to the parser whatever the bytes do not say plainly", () => {
      for (
        const body of [
          "{\"Rooms\":[]}", // no token: the last page
          "{\"NextToken\":null,\"Rooms\":[]}",
          "{\"NextToken\":\"\",\"Rooms\":[]}",
          "{\"NextToken\":\"a\\/b\",\"Rooms\":[]}", // an escape
          "{\"NextToken\":\"caf\u00e9\",\"Rooms\":[]}", // not ASCII
          "{\"NextToken\":7,\"Rooms\":[]}",
          "{\"Rooms\":[{\"Name\":\"NextToken\"}]}", // a value, not a key
          "{\"Rooms\":[{\"Name\":\"x\\\"NextToken\":\"t-9\"}]}", // a key that ends in an escaped quote
          "{\"NextToken\":\"t-1", // cut short
          "{\"NextToken\":"
        ]
      ) expect(peek(body), body).toBeUndefined()
    })

    it("is a guess: a key written twice reads as the first, which JSON.parse does not keep", () => {
      const text = "{\"NextToken\":\"t-1\",\"NextToken\":\"t-2\"}"
      expect(peek(text)).toBe("t-1")
      expect(SuccessBody.nextTokenOf(JSON.parse(text))).toBe("t-2")
    })

    const plainToken = FastCheck.stringMatching(/^[!#-[\]-~]{1,40}$/)
    /** Names that mimic the key in every way a string value can. */
    const name = FastCheck.oneof(
      FastCheck.string({ unit: "binary" }),
      FastCheck.constantFrom(
        "\"NextToken\":\"evil\"",
        "NextToken",
        "\\\"NextToken\\\":\\\"x",
        ",\"NextToken\":\"y\"",
        "}"
      )
    )
    const body = FastCheck.record({
      token: FastCheck.option(FastCheck.oneof(plainToken, FastCheck.string({ unit: "binary" })), { nil: undefined }),
      names: FastCheck.array(name, { maxLength: 5 }),
      tokenLast: FastCheck.boolean(),
      spaced: FastCheck.boolean()
    }).map(({ names, spaced, token, tokenLast }) => {
      const rooms = names.map((n, i) => ({ RoomId: `r-${i}`, Name: n }))
      const value = token === undefined
        ? { Rooms: rooms }
        : tokenLast
        ? { Rooms: rooms, NextToken: token }
        : { NextToken: token, Rooms: rooms }
      return { token, text: JSON.stringify(value, null, spaced ? 1 : undefined) }
    })

    it("on bodies that write the key once, at the top, reads the token they parse to or none, and every plain one", () => {
      FastCheck.assert(
        FastCheck.property(body, ({ text, token }) => {
          const peeked = peek(text)
          const parsed = SuccessBody.nextTokenOf(JSON.parse(text))
          if (peeked !== undefined) expect(peeked).toBe(parsed)
          if (token !== undefined && /^[!#-[\]-~]+$/.test(token)) expect(peeked).toBe(token)
        }),
        { numRuns: 2000 }
      )
    })
  })
})
