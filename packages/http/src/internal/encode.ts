/**
 * Request encoding for `ListRooms`: one path segment for `AccountId`, query keys only when set.
 *
 * The URL strings built here are already in the form the WHATWG URL parser produces, so a client
 * that re-parses them (fetch, `HttpClient.make`) sends exactly the bytes that were signed.
 */
import { ChimeError, type ListRoomsRequest } from "@chime-rooms/core"
import * as Either from "effect/Either"

const UNRESERVED = /^[A-Za-z0-9\-._~]*$/
const SUB_DELIMS_LEFT_BY_ENCODE_URI_COMPONENT = /[!'()*]/g
const hex = (c: string): string => "%" + c.charCodeAt(0).toString(16).toUpperCase()

/**
 * RFC 3986 strict encoding (everything outside `A-Za-z0-9-._~` percent-encoded, UTF-8, upper-case
 * hex). `undefined` when the string holds a lone surrogate, which has no UTF-8 form.
 */
export const strictEncode = (s: string): string | undefined => {
  if (UNRESERVED.test(s)) return s
  try {
    return encodeURIComponent(s).replace(SUB_DELIMS_LEFT_BY_ENCODE_URI_COMPONENT, hex)
  } catch {
    return undefined
  }
}

const invalid = (field: string, rule: string) => Either.left(new ChimeError.InvalidRequestError({ field, rule }))

/**
 * The path (`/accounts/{segment}/rooms`) and query (without `?`, "" when no key is set) of a
 * validated request. Fails for what cannot be sent as one segment: `.` and `..` are dot segments
 * that every URL parser (and many servers) resolve away, whatever their encoding (`%2E%2E`
 * included).
 *
 * Both are canonical in SigV4's sense: strictly encoded, keys in code-point order.
 */
export const encodeListRoomsParts = (
  request: ListRoomsRequest.ListRoomsRequest
): Either.Either<{ readonly path: string; readonly query: string }, ChimeError.InvalidRequestError> => {
  const account = request.AccountId
  if (account === "." || account === "..") {
    return invalid("AccountId", "must not be '.' or '..' (a dot segment cannot be sent as one path segment)")
  }
  const segment = strictEncode(account)
  if (segment === undefined) return invalid("AccountId", "must be valid Unicode (no lone surrogates)")
  let query = ""
  // Keys in code-point order, the order SigV4 canonicalises them in.
  if (request.MaxResults !== undefined) query = "max-results=" + request.MaxResults
  if (request.MemberId !== undefined) {
    const value = strictEncode(request.MemberId)
    if (value === undefined) return invalid("MemberId", "must be valid Unicode (no lone surrogates)")
    query += (query === "" ? "" : "&") + "member-id=" + value
  }
  if (request.NextToken !== undefined) {
    const value = strictEncode(request.NextToken)
    if (value === undefined) return invalid("NextToken", "must be valid Unicode (no lone surrogates)")
    query += (query === "" ? "" : "&") + "next-token=" + value
  }
  return Either.right({ path: "/accounts/" + segment + "/rooms", query })
}

/** `base` (the endpoint without a trailing slash) followed by the request's path and query. */
export const listRoomsUrl = (base: string, parts: { readonly path: string; readonly query: string }): string =>
  parts.query === "" ? base + parts.path : base + parts.path + "?" + parts.query

/**
 * The path and query of a validated request, appended to `base` (the endpoint without a trailing
 * slash); see {@link encodeListRoomsParts}.
 */
export const encodeListRooms = (
  base: string,
  request: ListRoomsRequest.ListRoomsRequest
): Either.Either<string, ChimeError.InvalidRequestError> =>
  Either.map(encodeListRoomsParts(request), (parts) => listRoomsUrl(base, parts))
