import { ChimeError } from "@chime-rooms/core"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Option } from "effect"

const service = (name: ChimeError.ServiceErrorName, extra: { code?: string } = {}) =>
  ChimeError.makeServiceError(name, {
    message: "m",
    status: ChimeError.serviceErrors[name].status,
    requestId: "req-1",
    ...extra
  })

const unknown = (errorName: string, status: number) =>
  new ChimeError.UnknownServiceError({ errorName, message: "m", status, requestId: "req-2" })

const classify = (error: ChimeError.ChimeError) => ({
  throttling: ChimeError.isThrottlingError(error),
  transient: ChimeError.isTransientError(error),
  retryable: ChimeError.isRetryableError(error)
})

describe("service errors", () => {
  it("each carries its tag, status, code, message, request id and retry-after", () => {
    const expected: Record<ChimeError.ServiceErrorName, number> = {
      BadRequestException: 400,
      UnauthorizedClientException: 401,
      ForbiddenException: 403,
      NotFoundException: 404,
      ThrottledClientException: 429,
      ServiceFailureException: 500,
      ServiceUnavailableException: 503
    }
    for (const [name, status] of Object.entries(expected) as Array<[ChimeError.ServiceErrorName, number]>) {
      expect(ChimeError.isServiceErrorName(name)).toBe(true)
      const error = ChimeError.makeServiceError(name, {
        code: "C",
        message: "msg",
        status,
        requestId: "rid",
        retryAfter: Duration.seconds(2)
      })
      expect(error._tag).toBe(name)
      expect(error).toBeInstanceOf(ChimeError.serviceErrors[name].make)
      expect(error.status).toBe(ChimeError.serviceErrors[name].status)
      expect(error.code).toBe("C")
      expect(error.message).toBe("msg")
      expect(error.requestId).toBe("rid")
      expect(ChimeError.retryAfterOf(error)).toEqual(Option.some(Duration.seconds(2)))
      expect(ChimeError.isChimeError(error)).toBe(true)
    }
    expect(ChimeError.isServiceErrorName("toString")).toBe(false)
    expect(ChimeError.isServiceErrorName("ThrottlingException")).toBe(false)
  })

  it("are yieldable, typed failures", () =>
    Effect.runPromise(
      Effect.gen(function*() {
        const error = yield* Effect.flip(Effect.fail(service("NotFoundException")))
        expect(error._tag).toBe("NotFoundException")
      })
    ))
})

describe("classifiers", () => {
  it("classify each modelled error", () => {
    expect(classify(service("BadRequestException"))).toEqual({ throttling: false, transient: false, retryable: false })
    expect(classify(service("UnauthorizedClientException"))).toEqual({
      throttling: false,
      transient: false,
      retryable: false
    })
    expect(classify(service("ForbiddenException"))).toEqual({ throttling: false, transient: false, retryable: false })
    expect(classify(service("NotFoundException"))).toEqual({ throttling: false, transient: false, retryable: false })
    expect(classify(service("ThrottledClientException"))).toEqual({
      throttling: true,
      transient: false,
      retryable: true
    })
    expect(classify(service("ServiceFailureException"))).toEqual({
      throttling: false,
      transient: true,
      retryable: true
    })
    expect(classify(service("ServiceUnavailableException"))).toEqual({
      throttling: false,
      transient: true,
      retryable: true
    })
  })

  it("recognise the AWS throttling codes, by name or by body code", () => {
    for (
      const name of [
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown"
      ]
    ) {
      expect(classify(unknown(name, 400))).toEqual({ throttling: true, transient: false, retryable: true })
    }
    expect(ChimeError.isThrottlingError(service("BadRequestException", { code: "Throttled" }))).toBe(true)
    expect(ChimeError.isThrottlingError(unknown("", 429))).toBe(true)
    expect(ChimeError.isThrottlingError(unknown("SomethingElse", 400))).toBe(false)
  })

  it("treat 500, 502, 503, 504 and transport failures as transient", () => {
    for (const status of [500, 502, 503, 504]) {
      expect(classify(unknown("", status))).toEqual({ throttling: false, transient: true, retryable: true })
      const decode = new ChimeError.ResponseDecodeError({ reason: "UnexpectedStatus", message: "m", status })
      expect(ChimeError.isRetryableError(decode)).toBe(true)
    }
    for (const status of [400, 404, 418, 501]) expect(ChimeError.isRetryableError(unknown("", status))).toBe(false)
    for (const reason of ["ConnectionRefused", "ConnectionReset", "Timeout", "BodyCutShort", "Other"] as const) {
      expect(classify(new ChimeError.TransportError({ reason, message: "m" }))).toEqual({
        throttling: false,
        transient: true,
        retryable: true
      })
    }
    expect(ChimeError.isTransientError(unknown("RequestTimeoutException", 400))).toBe(true)
  })

  it("never retry client-side mistakes", () => {
    const errors: Array<ChimeError.ChimeError> = [
      new ChimeError.InvalidRequestError({ field: "MaxResults", rule: "must be an integer from 1 to 99" }),
      new ChimeError.CredentialsError({ message: "none", sources: ["environment"] }),
      new ChimeError.PaginationLoopError({ pages: 3 }),
      new ChimeError.RateLimiterError({
        reason: "Timeout",
        message: "Redis at 127.0.0.1:6379 did not answer within 1000 ms"
      }),
      new ChimeError.ResponseDecodeError({ reason: "InvalidJson", message: "m", status: 200 }),
      new ChimeError.ResponseDecodeError({ reason: "InvalidShape", message: "m", status: 200 })
    ]
    for (const error of errors) {
      expect(classify(error)).toEqual({ throttling: false, transient: false, retryable: false })
    }
    expect(
      ChimeError.isRetryableError(
        new ChimeError.ResponseDecodeError({ reason: "TruncatedJson", message: "m", status: 200 })
      )
    ).toBe(true)
  })

  it("retryAfterOf is none when the server sent no delay", () => {
    expect(ChimeError.retryAfterOf(service("ThrottledClientException"))).toEqual(Option.none())
    expect(ChimeError.retryAfterOf(new ChimeError.TransportError({ reason: "Timeout", message: "m" }))).toEqual(
      Option.none()
    )
  })
})

describe("withResumeToken", () => {
  it("copies the error with the token, keeping class, fields and the original intact", () => {
    const error = service("ServiceUnavailableException")
    const resumable = ChimeError.withResumeToken(error, "tok-7")
    expect(resumable).toBeInstanceOf(ChimeError.serviceErrors.ServiceUnavailableException.make)
    expect(resumable.resumeToken).toBe("tok-7")
    expect(resumable.requestId).toBe("req-1")
    expect(resumable.message).toBe("m")
    expect(error.resumeToken).toBeUndefined()
    expect(ChimeError.withResumeToken(resumable, undefined).resumeToken).toBeUndefined()
    const loop = ChimeError.withResumeToken(new ChimeError.PaginationLoopError({ pages: 2 }), "t")
    expect(loop.message).toContain("after 2 pages")
  })
})

describe("safeExcerpt", () => {
  it("shortens and scrubs room names, tokens and signatures", () => {
    const body = `{"Rooms":[{"Name":"Secret plans","RoomId":"r1"}],"SessionToken":"FQoGZXIvYXdzE","x":"${
      "y".repeat(500)
    }"}`
    const excerpt = ChimeError.safeExcerpt(body)
    expect(excerpt.length).toBeLessThanOrEqual(121)
    expect(excerpt).not.toContain("Secret plans")
    expect(excerpt).not.toContain("FQoGZXIvYXdzE")
    expect(excerpt).toContain("\"Name\":\"<redacted>\"")
    expect(ChimeError.safeExcerpt("{\"Rooms\":[{\"Name\":\"cut sho")).not.toContain("cut sho")
    const html = ChimeError.safeExcerpt(
      "<html>\r\n<body>502 Bad Gateway Authorization: AWS4-HMAC-SHA256 Credential=AKID/x</body>"
    )
    expect(html).toContain("502 Bad Gateway")
    expect(html).not.toContain("AWS4-HMAC-SHA256")
    expect(html).not.toContain("\n")
  })

  it("shows C0, DEL and C1 control characters (a one-character CSI is U+009B) as spaces", () => {
    const excerpt = ChimeError.safeExcerpt("a\u001b[31mb\u007fc\u009b2Jd\u0085e")
    expect(excerpt).toBe("a [31mb c 2Jd e")
  })
})
