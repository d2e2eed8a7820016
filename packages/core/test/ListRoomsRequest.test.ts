import { ChimeError, ListRoomsRequest } from "@chime-rooms/core"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Exit, Schema } from "effect"

const rejected = (input: unknown): ChimeError.InvalidRequestError => {
  const result = ListRoomsRequest.validate(input)
  if (Either.isRight(result)) throw new Error(`expected ${JSON.stringify(input)} to be rejected`)
  return result.left
}

describe("ListRoomsRequest", () => {
  it("accepts a minimal request and every optional member", () => {
    expect(ListRoomsRequest.validate({ AccountId: "acc" })).toEqual(Either.right({ AccountId: "acc" }))
    const full = { AccountId: "acc", MaxResults: 50, MemberId: "m-1", NextToken: "tok" }
    expect(ListRoomsRequest.validate(full)).toEqual(Either.right(full))
  })

  it("AccountId must contain a non-space character", () => {
    for (const AccountId of ["", "   ", "\t\n"]) {
      const error = rejected({ AccountId })
      expect(error).toBeInstanceOf(ChimeError.InvalidRequestError)
      expect(error.field).toBe("AccountId")
      expect(error.message).toContain("AccountId")
      expect(error.message).toContain("non-space character")
    }
    expect(Either.isRight(ListRoomsRequest.validate({ AccountId: " a " }))).toBe(true)
    expect(Either.isRight(ListRoomsRequest.validate({ AccountId: "x" }))).toBe(true)
  })

  it("AccountId is required and must be a string", () => {
    const missing = rejected({})
    expect(missing.field).toBe("AccountId")
    expect(missing.rule).toBe("is required")
    expect(rejected({ AccountId: 42 }).field).toBe("AccountId")
  })

  it("MaxResults is an integer from 1 to 99", () => {
    for (const MaxResults of [1, 2, 98, 99]) {
      expect(Either.isRight(ListRoomsRequest.validate({ AccountId: "a", MaxResults }))).toBe(true)
    }
    for (const MaxResults of [0, 100, -1, 1.5, 98.9, Number.NaN, Number.POSITIVE_INFINITY, "5", null]) {
      const error = rejected({ AccountId: "a", MaxResults })
      expect(error.field).toBe("MaxResults")
      expect(error.rule).toBe("must be an integer from 1 to 99")
      expect(error.message).toBe("Invalid ListRooms request: MaxResults must be an integer from 1 to 99")
    }
  })

  it("MemberId and NextToken are optional strings", () => {
    expect(rejected({ AccountId: "a", MemberId: 7 }).field).toBe("MemberId")
    expect(rejected({ AccountId: "a", NextToken: {} }).field).toBe("NextToken")
    expect(Either.isRight(ListRoomsRequest.validate({ AccountId: "a", MemberId: "", NextToken: "" }))).toBe(true)
  })

  it("never throws, whatever the input", () => {
    for (const input of [null, undefined, 5, "acc", [], () => 1]) {
      const error = rejected(input)
      expect(error._tag).toBe("InvalidRequestError")
    }
  })

  it.effect("fails as a typed error in Effect", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(ListRoomsRequest.validateEffect({ AccountId: "  " }))
      expect(Exit.isFailure(exit)).toBe(true)
      const error = yield* Effect.flip(ListRoomsRequest.validateEffect({ AccountId: "a", MaxResults: 100 }))
      expect(error._tag).toBe("InvalidRequestError")
    }))
})

describe("ListRoomsRequest.validate fast path", () => {
  const decodeSlow = Schema.decodeUnknownEither(ListRoomsRequest.ListRoomsRequest, {
    errors: "first",
    onExcessProperty: "ignore"
  })
  it("accepts and returns exactly what the Schema does", () => {
    const inputs: ReadonlyArray<unknown> = [
      { AccountId: "a" },
      { AccountId: " a " },
      { AccountId: "   " },
      { AccountId: "" },
      { AccountId: 1 },
      {},
      { AccountId: "a", MaxResults: 1 },
      { AccountId: "a", MaxResults: 99 },
      { AccountId: "a", MaxResults: 0 },
      { AccountId: "a", MaxResults: 100 },
      { AccountId: "a", MaxResults: 1.5 },
      { AccountId: "a", MaxResults: NaN },
      { AccountId: "a", MaxResults: "5" },
      { AccountId: "a", MaxResults: undefined },
      { AccountId: "a", MemberId: "" },
      { AccountId: "a", MemberId: 5 },
      { AccountId: "a", NextToken: "t", extra: 1 },
      { AccountId: "a", NextToken: null },
      { AccountId: "a", NextToken: undefined },
      null,
      "a",
      [],
      { AccountId: "\u00a0x\t" },
      { AccountId: "\t\n" }
    ]
    for (const input of inputs) {
      const fast = ListRoomsRequest.validate(input)
      const slow = decodeSlow(input)
      expect(Either.isRight(fast)).toBe(Either.isRight(slow))
      if (Either.isRight(fast) && Either.isRight(slow)) expect(fast.right).toEqual(slow.right)
    }
  })
})
