/**
 * The loop guard: bounded memory over any number of pages, and every cycle of tokens caught.
 */
import { ChimeRateLimiter, ChimeRoomsStream, Resilience } from "@chime-rooms/stream"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Layer, Stream } from "effect"
import { LoopGuard, WINDOW } from "../src/internal/loopGuard.js"
import { makeFake, tokenAt } from "./fake.js"

/** Follows `tokens` through a guard; the index of the first token it calls a repeat, or -1. */
const firstRepeat = (tokens: Iterable<string>): number => {
  const guard = new LoopGuard()
  let i = 0
  for (const token of tokens) {
    if (guard.has(token)) return i
    guard.add(token)
    i++
  }
  return -1
}

/** `prefix` distinct tokens, then a cycle of `length` tokens, repeated `times` times. */
function* cycle(prefix: number, length: number, times: number): Generator<string> {
  for (let i = 0; i < prefix; i++) yield `p${i}`
  for (let t = 0; t < times; t++) for (let i = 0; i < length; i++) yield `c${i}`
}

describe("LoopGuard", () => {
  it("holds at most WINDOW + 1 tokens over two million distinct ones, and calls none of them a repeat", () => {
    const guard = new LoopGuard()
    let repeats = 0
    for (let i = 0; i < 2_000_000; i++) {
      const token = `t${i}`
      if (guard.has(token)) repeats++
      guard.add(token)
    }
    assert.strictEqual(repeats, 0)
    assert.isAtMost(guard.remembered, WINDOW + 1)
  })

  const cases: ReadonlyArray<readonly [number, number]> = [[0, 1], [0, 2], [5, 3], [0, WINDOW], [3, WINDOW + 1], [
    100,
    5000
  ], [70_000, 40_000]]
  for (const [prefix, length] of cases) {
    it(`catches a cycle of ${length} after ${prefix} tokens: at its first repeat when it fits the window, soon after otherwise`, () => {
      const at = firstRepeat(cycle(prefix, length, 4))
      assert.notStrictEqual(at, -1, "the cycle is caught")
      if (length <= WINDOW) assert.strictEqual(at, prefix + length, "at the first repeated token")
      else assert.isAtMost(at, prefix + 3 * length + (prefix > length ? prefix : 0))
    })
  }
})

describe("the stream's loop guard", () => {
  it.effect("a service whose tokens cycle with a period longer than the window: PaginationLoopError, not an endless listing", () =>
    Effect.gen(function*() {
      const period = WINDOW * 2
      // Pages of one room; the token after offset o leads to (o + 1) mod period: the listing never ends by itself.
      const fake = makeFake({ rooms: period, pageSize: 1, nextToken: (offset) => tokenAt((offset + 1) % period) })
      const result = yield* ChimeRoomsStream.pages({ AccountId: "acc-1", MaxResults: 1 }).pipe(
        Stream.runCount,
        Effect.either,
        Effect.provide(Layer.mergeAll(fake.layer, Resilience.layer({ rateLimiter: ChimeRateLimiter.layerUnlimited })))
      )
      assert.isTrue(Either.isLeft(result) && result.left._tag === "PaginationLoopError", "the loop is reported")
      assert.isAtMost(fake.calls.length, 3 * period)
    }))
})
