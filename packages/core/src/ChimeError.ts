/**
 * Every failure a `ListRooms` call can produce, as `Schema.TaggedError`s, their union `ChimeError`
 * and the classifiers that retry policies are built on.
 *
 * No error here ever holds a secret key, a session token, an `Authorization` header or a room
 * `Name`: messages are written by the library from safe parts, and body excerpts are scrubbed.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

/**
 * Fields shared by every error: where to resume a listing after it.
 *
 * `resumeToken` is filled in by the stream when a page fails for good: the `NextToken` of the page
 * that failed, absent when it was the first page. Passing it back as `NextToken` resumes the
 * listing with nothing lost or repeated.
 */
const resumable = {
  resumeToken: Schema.optional(Schema.String)
}

const serviceFields = {
  /**
   * When the error is the one its name says: the body's own `Code` (Chime writes values such as
   * `"Throttled"`), unless it repeats the name. When the HTTP status picked the error: the name the
   * response gave (for example `InvalidSignatureException` on a 403), absent when it gave none.
   */
  code: Schema.optional(Schema.String),
  /** The service's `message` (else `Message`); without one, the error's name or `HTTP <status>`. */
  message: Schema.String,
  /** The HTTP status of the response. */
  status: Schema.Number,
  /** `x-amzn-RequestId`. */
  requestId: Schema.optional(Schema.String),
  /** The delay the server asked for (`Retry-After` / `x-amz-retry-after`), when it sent one. */
  retryAfter: Schema.optional(Schema.DurationFromSelf),
  ...resumable
}

/**
 * The input was rejected by the service (HTTP 400).
 *
 * @category errors
 * @since 0.1.0
 */
export class BadRequestException extends Schema.TaggedError<BadRequestException>()(
  "BadRequestException",
  serviceFields
) {}

/**
 * The client is not authorized to call the service (HTTP 401). Signature refusals come from the AWS front end as 403
 * `InvalidSignatureException` and kin: a `ForbiddenException` with that name in `code`.
 *
 * @category errors
 * @since 0.1.0
 */
export class UnauthorizedClientException extends Schema.TaggedError<UnauthorizedClientException>()(
  "UnauthorizedClientException",
  serviceFields
) {}

/**
 * The caller may not list this account's rooms (HTTP 403).
 *
 * @category errors
 * @since 0.1.0
 */
export class ForbiddenException extends Schema.TaggedError<ForbiddenException>()(
  "ForbiddenException",
  serviceFields
) {}

/**
 * The account (or member) does not exist (HTTP 404).
 *
 * @category errors
 * @since 0.1.0
 */
export class NotFoundException extends Schema.TaggedError<NotFoundException>()(
  "NotFoundException",
  serviceFields
) {}

/**
 * The caller is sending too many requests (HTTP 429).
 *
 * @category errors
 * @since 0.1.0
 */
export class ThrottledClientException extends Schema.TaggedError<ThrottledClientException>()(
  "ThrottledClientException",
  serviceFields
) {}

/**
 * The service failed (HTTP 500).
 *
 * @category errors
 * @since 0.1.0
 */
export class ServiceFailureException extends Schema.TaggedError<ServiceFailureException>()(
  "ServiceFailureException",
  serviceFields
) {}

/**
 * The service is temporarily unavailable (HTTP 503).
 *
 * @category errors
 * @since 0.1.0
 */
export class ServiceUnavailableException extends Schema.TaggedError<ServiceUnavailableException>()(
  "ServiceUnavailableException",
  serviceFields
) {}

/**
 * The seven errors of the `ListRooms` model, keyed by name, with their HTTP status.
 *
 * @category constants
 * @since 0.1.0
 */
export const serviceErrors = {
  BadRequestException: { status: 400, make: BadRequestException },
  UnauthorizedClientException: { status: 401, make: UnauthorizedClientException },
  ForbiddenException: { status: 403, make: ForbiddenException },
  NotFoundException: { status: 404, make: NotFoundException },
  ThrottledClientException: { status: 429, make: ThrottledClientException },
  ServiceFailureException: { status: 500, make: ServiceFailureException },
  ServiceUnavailableException: { status: 503, make: ServiceUnavailableException }
} as const

/**
 * The name of one of the seven modelled errors.
 *
 * @category models
 * @since 0.1.0
 */
export type ServiceErrorName = keyof typeof serviceErrors

/**
 * One of the seven errors of the service model.
 *
 * @category errors
 * @since 0.1.0
 */
export type ServiceError =
  | BadRequestException
  | UnauthorizedClientException
  | ForbiddenException
  | NotFoundException
  | ThrottledClientException
  | ServiceFailureException
  | ServiceUnavailableException

/**
 * The fields every service error carries.
 *
 * @category models
 * @since 0.1.0
 */
export interface ServiceErrorProps {
  readonly code?: string | undefined
  readonly message: string
  readonly status: number
  readonly requestId?: string | undefined
  readonly retryAfter?: Duration.Duration | undefined
  readonly resumeToken?: string | undefined
}

/**
 * Is `name` one of the seven modelled error names?
 *
 * @category refinements
 * @since 0.1.0
 */
export const isServiceErrorName = (name: string): name is ServiceErrorName => Object.hasOwn(serviceErrors, name)

/**
 * Builds the modelled error called `name`.
 *
 * @example
 * ```ts
 * import { ChimeError } from "@chime-rooms/core"
 *
 * ChimeError.makeServiceError("NotFoundException", { message: "no such account", status: 404, requestId: "r-1" })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeServiceError = (name: ServiceErrorName, props: ServiceErrorProps): ServiceError =>
  new serviceErrors[name].make(props)

/**
 * The service answered with an error whose name the model does not know, on an HTTP status that
 * no modelled error has (an unknown name on a modelled status is that status's error, the name in
 * `code`); kept by name.
 *
 * @category errors
 * @since 0.1.0
 */
export class UnknownServiceError extends Schema.TaggedError<UnknownServiceError>()("UnknownServiceError", {
  /** The error name as the AWS SDK resolves it (for example `ConflictException` on a 409); never empty. */
  errorName: Schema.String,
  ...serviceFields
}) {}

/**
 * The request failed client-side validation before anything was sent.
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidRequestError extends Schema.TaggedError<InvalidRequestError>()("InvalidRequestError", {
  /** The request member at fault, for example `MaxResults`. */
  field: Schema.String,
  /** The rule it broke, for example `must be an integer from 1 to 99`. */
  rule: Schema.String,
  ...resumable
}) {
  override get message(): string {
    return `Invalid ListRooms request: ${this.field} ${this.rule}`
  }
}

/**
 * What went wrong on the network.
 *
 * @category schemas
 * @since 0.1.0
 */
export const TransportFailure = Schema.Literal(
  "ConnectionRefused",
  "ConnectionReset",
  "Timeout",
  "BodyCutShort",
  "Other"
)

/**
 * @since 0.1.0
 */
export type TransportFailure = typeof TransportFailure.Type

/**
 * The request never got a complete response: refused, reset, timed out, or cut short.
 *
 * @category errors
 * @since 0.1.0
 */
export class TransportError extends Schema.TaggedError<TransportError>()("TransportError", {
  reason: TransportFailure,
  message: Schema.String,
  /** Present when the failure came after the response head (a body cut short). */
  requestId: Schema.optional(Schema.String),
  ...resumable
}) {}

/**
 * Why a response could not be decoded. `TooLarge`: its body grew past the client's cap and was
 * refused while it streamed in (the connection is dropped).
 *
 * @category schemas
 * @since 0.1.0
 */
export const DecodeFailure = Schema.Literal(
  "InvalidJson",
  "TruncatedJson",
  "InvalidShape",
  "UnexpectedStatus",
  "TooLarge"
)

/**
 * @since 0.1.0
 */
export type DecodeFailure = typeof DecodeFailure.Type

/**
 * A response arrived but could not be understood: bad JSON, the wrong shape, a status the
 * protocol does not explain (an error response that names no error, on a status no modelled error
 * has: a proxy's 502 page), or a body too large to read. `excerpt` is a short, scrubbed start of
 * the body (see {@link safeExcerpt}).
 *
 * @category errors
 * @since 0.1.0
 */
export class ResponseDecodeError extends Schema.TaggedError<ResponseDecodeError>()("ResponseDecodeError", {
  reason: DecodeFailure,
  message: Schema.String,
  status: Schema.Number,
  requestId: Schema.optional(Schema.String),
  excerpt: Schema.optional(Schema.String),
  ...resumable
}) {}

/**
 * No credentials could be found, or the provider failed. `sources` says where the library looked.
 *
 * @category errors
 * @since 0.1.0
 */
export class CredentialsError extends Schema.TaggedError<CredentialsError>()("CredentialsError", {
  message: Schema.String,
  sources: Schema.Array(Schema.String),
  ...resumable
}) {}

/**
 * The service handed back a `NextToken` it had already given: following it would loop forever.
 *
 * @category errors
 * @since 0.1.0
 */
export class PaginationLoopError extends Schema.TaggedError<PaginationLoopError>()("PaginationLoopError", {
  /** How many pages had been received when the repeat was seen. */
  pages: Schema.Number,
  requestId: Schema.optional(Schema.String),
  ...resumable
}) {
  override get message(): string {
    return `ListRooms returned a NextToken it had already returned (after ${this.pages} pages): the listing would loop`
  }
}

/**
 * Why the rate limiter could not grant a permit:
 *
 * - `Unavailable`: its shared store (Redis) refused the connection, closed it, or is not connected;
 * - `Timeout`: the store did not answer in time;
 * - `Unauthorized`: the store refused the password or user;
 * - `Contention`: too many callers updated the shared state at once for this one to get a turn;
 * - `Configuration`: the limiter's settings are unusable (a malformed URL, a missing key).
 *
 * @category schemas
 * @since 0.2.0
 */
export const RateLimiterFailure = Schema.Literal(
  "Unavailable",
  "Timeout",
  "Unauthorized",
  "Contention",
  "Configuration"
)

/**
 * @since 0.2.0
 */
export type RateLimiterFailure = typeof RateLimiterFailure.Type

/**
 * The rate limiter could not grant a permit: a limiter whose state lives in a shared store (such as
 * `@chime-rooms/redis`) could not reach it in time. Not retryable by the classifiers: the limiter
 * has already waited its timeout. The message names the store's host, never a password.
 *
 * @category errors
 * @since 0.2.0
 */
export class RateLimiterError extends Schema.TaggedError<RateLimiterError>()("RateLimiterError", {
  reason: RateLimiterFailure,
  message: Schema.String,
  ...resumable
}) {}

/**
 * Every failure of a `ListRooms` call.
 *
 * @category errors
 * @since 0.1.0
 */
export type ChimeError =
  | ServiceError
  | UnknownServiceError
  | InvalidRequestError
  | TransportError
  | ResponseDecodeError
  | CredentialsError
  | PaginationLoopError
  | RateLimiterError

/**
 * The schema of every `ChimeError` (for serialising errors across a boundary).
 *
 * @since 0.1.0
 */
export const ChimeError = Schema.Union(
  BadRequestException,
  UnauthorizedClientException,
  ForbiddenException,
  NotFoundException,
  ThrottledClientException,
  ServiceFailureException,
  ServiceUnavailableException,
  UnknownServiceError,
  InvalidRequestError,
  TransportError,
  ResponseDecodeError,
  CredentialsError,
  PaginationLoopError,
  RateLimiterError
)

const chimeErrorTags: ReadonlySet<string> = new Set(
  [
    ...Object.keys(serviceErrors),
    "UnknownServiceError",
    "InvalidRequestError",
    "TransportError",
    "ResponseDecodeError",
    "CredentialsError",
    "PaginationLoopError",
    "RateLimiterError"
  ]
)

/**
 * Is `u` one of the `ChimeError`s?
 *
 * @category refinements
 * @since 0.1.0
 */
export const isChimeError = (u: unknown): u is ChimeError =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" && chimeErrorTags.has(u._tag)

/**
 * Error names AWS SDKs treat as throttling (the standard retry mode's list), plus Chime's own
 * body code `Throttled`.
 *
 * @category constants
 * @since 0.1.0
 */
export const throttlingErrorCodes: ReadonlySet<string> = new Set([
  "Throttled",
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "RequestThrottledException",
  "TooManyRequestsException",
  "ProvisionedThroughputExceededException",
  "TransactionInProgressException",
  "RequestLimitExceeded",
  "BandwidthLimitExceeded",
  "LimitExceededException",
  "RequestThrottled",
  "SlowDown",
  "PriorRequestNotComplete",
  "EC2ThrottledException"
])

/**
 * Error names AWS SDKs treat as transient.
 *
 * @category constants
 * @since 0.1.0
 */
export const transientErrorCodes: ReadonlySet<string> = new Set([
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
  "InternalError",
  "ServiceUnavailable"
])

/**
 * HTTP statuses AWS SDKs retry as transient.
 *
 * @category constants
 * @since 0.1.0
 */
export const transientStatuses: ReadonlySet<number> = new Set([500, 502, 503, 504])

const statusOf = (error: ChimeError): number | undefined => ("status" in error ? error.status : undefined)

const namesOf = (error: ChimeError): ReadonlyArray<string> => {
  switch (error._tag) {
    case "UnknownServiceError":
      return error.code === undefined ? [error.errorName] : [error.errorName, error.code]
    case "BadRequestException":
    case "UnauthorizedClientException":
    case "ForbiddenException":
    case "NotFoundException":
    case "ThrottledClientException":
    case "ServiceFailureException":
    case "ServiceUnavailableException":
      return error.code === undefined ? [error._tag] : [error._tag, error.code]
    default:
      return []
  }
}

/**
 * Is this the service asking the caller to slow down? (429, `ThrottledClientException`, or an AWS
 * throttling code.) A rate limiter lowers its rate on these.
 *
 * @category predicates
 * @since 0.1.0
 */
export const isThrottlingError = (error: ChimeError): boolean =>
  error._tag === "ThrottledClientException" ||
  statusOf(error) === 429 ||
  namesOf(error).some((name) => throttlingErrorCodes.has(name))

/**
 * Is this a failure that may pass by itself? (500, 502, 503, 504, a transport failure, a body cut
 * short, or an AWS transient code.)
 *
 * @category predicates
 * @since 0.1.0
 */
export const isTransientError = (error: ChimeError): boolean => {
  if (error._tag === "TransportError") return true
  if (error._tag === "ResponseDecodeError" && error.reason === "TruncatedJson") return true
  const status = statusOf(error)
  if (status !== undefined && transientStatuses.has(status)) return true
  return namesOf(error).some((name) => transientErrorCodes.has(name))
}

/**
 * Should the same request be tried again? Throttling or transient.
 *
 * @category predicates
 * @since 0.1.0
 */
export const isRetryableError = (error: ChimeError): boolean => isThrottlingError(error) || isTransientError(error)

/**
 * The delay the server asked for, if any.
 *
 * @category getters
 * @since 0.1.0
 */
export const retryAfterOf = (error: ChimeError): Option.Option<Duration.Duration> =>
  "retryAfter" in error && error.retryAfter !== undefined ? Option.some(error.retryAfter) : Option.none()

/**
 * A copy of `error` that records where to resume: the `NextToken` of the page that failed
 * (`undefined` for the first page).
 *
 * @category combinators
 * @since 0.1.0
 */
export const withResumeToken = <E extends ChimeError>(error: E, token: string | undefined): E => {
  // Own descriptors, not a spread: `message` and `stack` live on the error non-enumerably.
  const copy: E = Object.create(Object.getPrototypeOf(error), Object.getOwnPropertyDescriptors(error))
  if (token === undefined) delete (copy as { resumeToken?: string }).resumeToken
  else (copy as { resumeToken?: string }).resumeToken = token
  return copy
}

const SENSITIVE_JSON =
  /("(?:Name|SecretAccessKey|secretAccessKey|SessionToken|sessionToken|Token|Authorization)"\s*:\s*)"(?:[^"\\]|\\.)*"?/g
const SENSITIVE_TEXT = /(authorization|x-amz-security-token|x-amz-signature|signature|credential)\s*[=:]\s*\S+/gi

/**
 * A short start of a response body that is safe to put in an error: at most `max` characters,
 * with room names, tokens, keys and signatures replaced by `<redacted>`, and control characters
 * (C0, DEL, C1) shown as spaces.
 *
 * @category utils
 * @since 0.1.0
 */
export const safeExcerpt = (body: string, max = 120): string => {
  const head = body.length > max * 4 ? body.slice(0, max * 4) : body
  const scrubbed = head
    .replace(SENSITIVE_JSON, "$1\"<redacted>\"")
    .replace(SENSITIVE_TEXT, "$1=<redacted>")
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f]+/g, " ")
  return scrubbed.length > max ? `${scrubbed.slice(0, max)}…` : scrubbed
}
