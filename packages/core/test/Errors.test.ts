import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Option } from "effect"
import {
  type ChimeError,
  CredentialsError,
  InvalidRequestError,
  isChimeError,
  isRetryableError,
  isServiceErrorName,
  isThrottlingError,
  isTransientError,
  makeServiceError,
  PaginationLoopError,
  ResponseDecodeError,
  retryAfterOf,
  safeExcerpt,
  serviceErrors,
  type ServiceErrorName,
  TransportError,
  UnknownServiceError,
  withResumeToken
} from "@chime-rooms/core"

const service = (name: ServiceErrorName, extra: { code?: string } = {}) =>
  makeServiceError(name, { message: "m", status: serviceErrors[name].status, requestId: "req-1", ...extra })

const unknown = (errorName: string, status: number) =>
  new UnknownServiceError({ errorName, message: "m", status, requestId: "req-2" })

const classify = (error: ChimeError) => ({
  throttling: isThrottlingError(error),
  transient: isTransientError(error),
  retryable: isRetryableError(error)
})

describe("service errors", () => {
  it("each carries its tag, status, code, message, request id and retry-after", () => {
    const expected: Record<ServiceErrorName, number> = {
      BadRequestException: 400,
      UnauthorizedClientException: 401,
      ForbiddenException: 403,
      NotFoundException: 404,
      ThrottledClientException: 429,
      ServiceFailureException: 500,
      ServiceUnavailableException: 503
    }
    for (const [name, status] of Object.entries(expected) as Array<[ServiceErrorName, number]>) {
      expect(isServiceErrorName(name)).toBe(true)
      const error = makeServiceError(name, {
        code: "C",
        message: "msg",
        status,
        requestId: "rid",
        retryAfter: Duration.seconds(2)
      })
      expect(error._tag).toBe(name)
      expect(error).toBeInstanceOf(serviceErrors[name].make)
      expect(error.status).toBe(serviceErrors[name].status)
      expect(error.code).toBe("C")
      expect(error.message).toBe("msg")
      expect(error.requestId).toBe("rid")
      expect(retryAfterOf(error)).toEqual(Option.some(Duration.seconds(2)))
      expect(isChimeError(error)).toBe(true)
    }
    expect(isServiceErrorName("toString")).toBe(false)
    expect(isServiceErrorName("ThrottlingException")).toBe(false)
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
    expect(classify(service("UnauthorizedClientException"))).toEqual({ throttling: false, transient: false, retryable: false })
    expect(classify(service("ForbiddenException"))).toEqual({ throttling: false, transient: false, retryable: false })
    expect(classify(service("NotFoundException"))).toEqual({ throttling: false, transient: false, retryable: false })
    expect(classify(service("ThrottledClientException"))).toEqual({ throttling: true, transient: false, retryable: true })
    expect(classify(service("ServiceFailureException"))).toEqual({ throttling: false, transient: true, retryable: true })
    expect(classify(service("ServiceUnavailableException"))).toEqual({ throttling: false, transient: true, retryable: true })
  })

  it("recognise the AWS throttling codes, by name or by body code", () => {
    for (const name of ["Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded", "SlowDown"]) {
      expect(classify(unknown(name, 400))).toEqual({ throttling: true, transient: false, retryable: true })
    }
    expect(isThrottlingError(service("BadRequestException", { code: "Throttled" }))).toBe(true)
    expect(isThrottlingError(unknown("", 429))).toBe(true)
    expect(isThrottlingError(unknown("SomethingElse", 400))).toBe(false)
  })

  it("treat 500, 502, 503, 504 and transport failures as transient", () => {
    for (const status of [500, 502, 503, 504]) {
      expect(classify(unknown("", status))).toEqual({ throttling: false, transient: true, retryable: true })
      const decode = new ResponseDecodeError({ reason: "UnexpectedStatus", message: "m", status })
      expect(isRetryableError(decode)).toBe(true)
    }
    for (const status of [400, 404, 418, 501]) expect(isRetryableError(unknown("", status))).toBe(false)
    for (const reason of ["ConnectionRefused", "ConnectionReset", "Timeout", "BodyCutShort", "Other"] as const) {
      expect(classify(new TransportError({ reason, message: "m" }))).toEqual({
        throttling: false,
        transient: true,
        retryable: true
      })
    }
    expect(isTransientError(unknown("RequestTimeoutException", 400))).toBe(true)
  })

  it("never retry client-side mistakes", () => {
    const errors: Array<ChimeError> = [
      new InvalidRequestError({ field: "MaxResults", rule: "must be an integer from 1 to 99" }),
      new CredentialsError({ message: "none", sources: ["environment"] }),
      new PaginationLoopError({ pages: 3 }),
      new ResponseDecodeError({ reason: "InvalidJson", message: "m", status: 200 }),
      new ResponseDecodeError({ reason: "InvalidShape", message: "m", status: 200 })
    ]
    for (const error of errors) expect(classify(error)).toEqual({ throttling: false, transient: false, retryable: false })
    expect(isRetryableError(new ResponseDecodeError({ reason: "TruncatedJson", message: "m", status: 200 }))).toBe(true)
  })

  it("retryAfterOf is none when the server sent no delay", () => {
    expect(retryAfterOf(service("ThrottledClientException"))).toEqual(Option.none())
    expect(retryAfterOf(new TransportError({ reason: "Timeout", message: "m" }))).toEqual(Option.none())
  })
})

describe("withResumeToken", () => {
  it("copies the error with the token, keeping class, fields and the original intact", () => {
    const error = service("ServiceUnavailableException")
    const resumable = withResumeToken(error, "tok-7")
    expect(resumable).toBeInstanceOf(serviceErrors.ServiceUnavailableException.make)
    expect(resumable.resumeToken).toBe("tok-7")
    expect(resumable.requestId).toBe("req-1")
    expect(resumable.message).toBe("m")
    expect(error.resumeToken).toBeUndefined()
    expect(withResumeToken(resumable, undefined).resumeToken).toBeUndefined()
    const loop = withResumeToken(new PaginationLoopError({ pages: 2 }), "t")
    expect(loop.message).toContain("after 2 pages")
  })
})

describe("safeExcerpt", () => {
  it("shortens and scrubs room names, tokens and signatures", () => {
    const body = `{"Rooms":[{"Name":"Secret plans","RoomId":"r1"}],"SessionToken":"FQoGZXIvYXdzE","x":"${"y".repeat(500)}"}`
    const excerpt = safeExcerpt(body)
    expect(excerpt.length).toBeLessThanOrEqual(121)
    expect(excerpt).not.toContain("Secret plans")
    expect(excerpt).not.toContain("FQoGZXIvYXdzE")
    expect(excerpt).toContain('"Name":"<redacted>"')
    expect(safeExcerpt('{"Rooms":[{"Name":"cut sho')).not.toContain("cut sho")
    const html = safeExcerpt("<html>\r\n<body>502 Bad Gateway Authorization: AWS4-HMAC-SHA256 Credential=AKID/x</body>")
    expect(html).toContain("502 Bad Gateway")
    expect(html).not.toContain("AWS4-HMAC-SHA256")
    expect(html).not.toContain("\n")
  })

  it("shows C0, DEL and C1 control characters (a one-character CSI is U+009B) as spaces", () => {
    const excerpt = safeExcerpt("a\u001b[31mb\u007fc\u009b2Jd\u0085e")
    expect(excerpt).toBe("a [31mb c 2Jd e")
  })
})
