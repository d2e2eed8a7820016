/**
 * The input of `ListRooms`, with the service's validation rules.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { InvalidRequestError } from "./ChimeError.js"

const NON_SPACE = /\S/

/** `AccountId`: required, must contain a non-space character (the model's `.*\S.*`). */
const AccountId = Schema.String.pipe(
  Schema.filter((s) => NON_SPACE.test(s), { message: () => "must contain a non-space character" })
)

/** `MaxResults`: an integer from 1 to 99. */
const MaxResults = Schema.Number.annotations({ message: () => "must be an integer from 1 to 99" }).pipe(
  Schema.filter((n) => Number.isInteger(n) && n >= 1 && n <= 99, {
    message: () => "must be an integer from 1 to 99"
  })
)

const OptionalString = Schema.String.annotations({ message: () => "must be a string" })

/**
 * The longest `NextToken` sent (in characters). The model sets no bound; real tokens are a few
 * hundred characters, and a request line much longer than this is refused by HTTP front ends. A
 * longer token, from a caller or from a broken service, is refused before anything is sent.
 *
 * @category constants
 * @since 0.1.0
 */
export const maxNextTokenLength = 8192

const NextToken = OptionalString.pipe(
  Schema.filter((s) => s.length <= maxNextTokenLength, {
    message: () => `must be at most ${maxNextTokenLength} characters`
  })
)

/**
 * The `ListRooms` request.
 *
 * @example
 * ```ts
 * import type { ListRoomsRequest } from "@chime-rooms/core"
 *
 * const request: ListRoomsRequest.ListRoomsRequest = { AccountId: "12a3456b-7c89-012d-3456-78901e23fg45", MaxResults: 50 }
 * ```
 *
 * @category schemas
 * @since 0.1.0
 */
export const ListRoomsRequest = Schema.Struct({
  AccountId: AccountId.annotations({ message: () => "must be a string containing a non-space character" }),
  MaxResults: Schema.optional(MaxResults),
  MemberId: Schema.optional(OptionalString),
  NextToken: Schema.optional(NextToken)
}).annotations({ identifier: "ListRoomsRequest" })

/**
 * @since 0.1.0
 */
export interface ListRoomsRequest extends Schema.Schema.Type<typeof ListRoomsRequest> {}

const decode = Schema.decodeUnknownEither(ListRoomsRequest, { errors: "first", onExcessProperty: "ignore" })

const toInvalidRequest = (error: ParseResult.ParseError): InvalidRequestError => {
  const [issue] = ParseResult.ArrayFormatter.formatErrorSync(error)
  const field = issue?.path.map(String).join(".") ?? ""
  if (issue === undefined || field === "") {
    return new InvalidRequestError({ field: "request", rule: "must be an object" })
  }
  const rule = issue._tag === "Missing" ? "is required" : issue.message
  return new InvalidRequestError({ field, rule })
}

/**
 * Checks a request against the service's rules without throwing.
 *
 * @example
 * ```ts
 * import { ListRoomsRequest } from "@chime-rooms/core"
 *
 * ListRoomsRequest.validate({ AccountId: "   " }) // Left(InvalidRequestError: AccountId must contain a non-space character)
 * ```
 *
 * @category validation
 * @since 0.1.0
 */
export const validate = (input: unknown): Either.Either<ListRoomsRequest, InvalidRequestError> =>
  plainlyValid(input) ? Either.right(pick(input)) : Either.mapLeft(decode(input), toInvalidRequest)

type Candidate = { readonly [K in keyof ListRoomsRequest]?: unknown }

/**
 * The common case checked by hand (every page of a listing goes through here): a request the
 * Schema above would accept with nothing left to normalise. Anything else, valid or not, takes the
 * Schema path, so the rules and the error messages stay the Schema's alone.
 */
const plainlyValid = (input: unknown): input is ListRoomsRequest => {
  if (typeof input !== "object" || input === null) return false
  const r = input as Candidate
  if (typeof r.AccountId !== "string" || !NON_SPACE.test(r.AccountId)) return false
  const max = r.MaxResults
  if (
    max === undefined
      ? "MaxResults" in r
      : !(typeof max === "number" && Number.isInteger(max) && max >= 1 && max <= 99)
  ) {
    return false
  }
  if (r.MemberId === undefined ? "MemberId" in r : typeof r.MemberId !== "string") return false
  const token = r.NextToken
  if (token === undefined ? "NextToken" in r : typeof token !== "string" || token.length > maxNextTokenLength) {
    return false
  }
  return true
}

/** What the Schema returns for a plainly valid input: the known members, excess ones dropped. */
const pick = (r: ListRoomsRequest): ListRoomsRequest => {
  const out: { -readonly [K in keyof ListRoomsRequest]: ListRoomsRequest[K] } = { AccountId: r.AccountId }
  if (r.MaxResults !== undefined) out.MaxResults = r.MaxResults
  if (r.MemberId !== undefined) out.MemberId = r.MemberId
  if (r.NextToken !== undefined) out.NextToken = r.NextToken
  return out
}

/**
 * {@link validate} as an `Effect`.
 *
 * @category validation
 * @since 0.1.0
 */
export const validateEffect = (input: unknown): Effect.Effect<ListRoomsRequest, InvalidRequestError> =>
  Either.match(validate(input), { onLeft: Effect.fail, onRight: Effect.succeed })
