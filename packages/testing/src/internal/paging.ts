/**
 * The single source of paging truth for the in-memory layer and the emulator: which rooms a
 * request gets, and the `NextToken` that follows them, or the service error it earns.
 *
 * Cheap for large accounts: an unfiltered page is an index range into the dataset (nothing is
 * built but the page's own index list, at most `MaxResults` long); a member-filtered page slices
 * the member's sorted room list.
 */
import type { ChimeError, ListRoomsRequest } from "@chime-rooms/core"
import type * as Dataset from "../Dataset.js"
import { decodeToken, encodeToken, makeTokenSecret, MAX_POSITION, type TokenScope } from "./pageToken.js"

/**
 * The page size when a request has no `MaxResults`. AWS does not document Chime's default; 10 is
 * small enough that paging shows up on small fixtures, and `MaxResults` (1..99) always wins.
 */
export const DEFAULT_PAGE_SIZE = 10

/** The service's lower bound for `MaxResults`. */
export const MAX_RESULTS_MIN = 1
/** The service's upper bound for `MaxResults`. */
export const MAX_RESULTS_MAX = 99

/** Everything a page depends on besides the request. */
export interface PagingState {
  readonly dataset: Dataset.Dataset
  /** The page size when `MaxResults` is absent (a positive integer; may exceed 99). */
  readonly pageSize: number
  /** The token secret: tokens are only honoured by a state holding the same secret. */
  readonly secret: Uint8Array
}

/** Is `n` usable as a default page size? */
export const isValidPageSize = (n: number): boolean => Number.isSafeInteger(n) && n >= 1

/** A paging state with a fresh per-instance secret unless one is given. */
export const makePagingState = (options: {
  readonly dataset: Dataset.Dataset
  readonly pageSize?: number | undefined
  readonly secret?: Uint8Array | undefined
}): PagingState => ({
  dataset: options.dataset,
  pageSize: options.pageSize ?? DEFAULT_PAGE_SIZE,
  secret: options.secret ?? makeTokenSecret()
})

/** A page: the dataset indices of its rooms, in order, and the token of the next page. */
export interface Page {
  readonly _tag: "Page"
  readonly accountId: string
  /** The room indices (into `dataset.room(accountId, i)`) of this page, in listing order. */
  readonly indices: ReadonlyArray<number>
  /** Offsets of this page within the listed sequence (all rooms, or the member's rooms): `[start, end)`. */
  readonly start: number
  readonly end: number
  /** How many rooms the whole listing holds. */
  readonly total: number
  /** Absent on the last page. */
  readonly nextToken?: string
}

/** The service error a request earns. */
export interface PageError {
  readonly _tag: "Error"
  readonly name: ChimeError.ServiceErrorName
  readonly message: string
}

/** Knobs for fault injection that change the page rather than fail it. */
export interface PageOptions {
  /**
   * Answer with a `NextToken` that leads back to this very page (the `RepeatToken` fault): a page
   * reached with token T carries T again, a loop a careful client must notice.
   */
  readonly repeatToken?: boolean
}

const badRequest = (message: string): PageError => ({ _tag: "Error", name: "BadRequestException", message })

/**
 * Answers one `ListRooms` request. Checks run in the service's order: input validation (400),
 * then the account (404), then the token (400).
 */
export const pageOf = (
  state: PagingState,
  request: ListRoomsRequest.ListRoomsRequest,
  options?: PageOptions
): Page | PageError => {
  const max = request.MaxResults
  if (max !== undefined && !(Number.isInteger(max) && max >= MAX_RESULTS_MIN && max <= MAX_RESULTS_MAX)) {
    return badRequest(
      `1 validation error detected: Value at 'maxResults' failed to satisfy constraint: ` +
        `Member must have value between ${MAX_RESULTS_MIN} and ${MAX_RESULTS_MAX}`
    )
  }
  const accountId = request.AccountId
  const count = state.dataset.roomCount(accountId)
  if (count === undefined) return { _tag: "Error", name: "NotFoundException", message: "The account was not found" }

  const memberId = request.MemberId === "" ? undefined : request.MemberId
  const memberRooms = memberId === undefined ? undefined : (state.dataset.memberRooms(accountId, memberId) ?? [])
  const total = memberRooms === undefined ? count : memberRooms.length
  const scope: TokenScope = { generation: state.dataset.generation, accountId, memberId }

  let start = 0
  if (request.NextToken !== undefined && request.NextToken !== "") {
    const decoded = decodeToken(state.secret, scope, request.NextToken)
    if (decoded._tag === "Rejected" || decoded.position > total) return badRequest("Invalid NextToken")
    start = decoded.position
  }

  const size = max ?? state.pageSize
  const end = Math.min(total, start + size)
  const indices: Array<number> = new Array(end - start)
  if (memberRooms === undefined) { for (let i = start; i < end; i++) indices[i - start] = i }
  else for (let i = start; i < end; i++) indices[i - start] = memberRooms[i]!

  const nextPosition = options?.repeatToken === true ? start : end < total ? end : undefined
  return nextPosition === undefined || nextPosition > MAX_POSITION
    ? { _tag: "Page", accountId, indices, start, end, total }
    : { _tag: "Page", accountId, indices, start, end, total, nextToken: encodeToken(state.secret, scope, nextPosition) }
}
