/**
 * The model written out and read back: a model re-read from its text after every step answers
 * exactly as one that never left memory.
 */
import { ServerModel } from "@chime-rooms/stream"
import { assert, describe, it } from "@effect/vitest"
import { FastCheck, Option } from "effect"

type Op = { readonly dt: number; readonly kind: "reserve" | "refund" | "ok" | "throttle" }

const op: FastCheck.Arbitrary<Op> = FastCheck.record({
  dt: FastCheck.oneof(FastCheck.constant(0), FastCheck.double({ min: 0, max: 0.5, noNaN: true })),
  kind: FastCheck.constantFrom("reserve", "reserve", "ok", "ok", "throttle", "refund")
})

const roundTrip = (model: ServerModel.ServerModel, options: Parameters<typeof ServerModel.decode>[1]) =>
  Option.getOrThrow(ServerModel.decode(ServerModel.encode(model), options))

describe("ServerModel", () => {
  it("encode then decode after every step changes nothing (any sequence of reservations and answers)", () => {
    FastCheck.assert(
      FastCheck.property(
        FastCheck.array(op, { minLength: 1, maxLength: 300 }),
        FastCheck.option(FastCheck.double({ min: 0.5, max: 100, noNaN: true }), { nil: undefined }),
        (ops, initialRate) => {
          const options = initialRate === undefined ? {} : { initialRate }
          const kept = ServerModel.make(options, 0)
          let carried = ServerModel.make(options, 0)
          let now = 0
          for (const { dt, kind } of ops) {
            now += dt
            carried = roundTrip(carried, options)
            switch (kind) {
              case "reserve":
                assert.strictEqual(carried.reserve(now), kept.reserve(now))
                break
              case "refund":
                carried.refund()
                kept.refund()
                break
              default:
                carried.update(now, kind === "throttle")
                kept.update(now, kind === "throttle")
            }
            assert.strictEqual(carried.rate, kept.rate)
          }
          assert.strictEqual(ServerModel.encode(carried), ServerModel.encode(kept))
        }
      ),
      { numRuns: 200 }
    )
  })

  it("carries numbers JSON cannot hold and the response history", () => {
    const model = ServerModel.make(undefined, 0)
    // Unlimited, then a burst of successes and a throttle: the history holds times, the upper bound is infinite.
    for (let i = 0; i < 10; i++) model.reserve(i / 1000)
    for (let i = 0; i < 9; i++) model.update(0.05 + i / 1000, false)
    model.update(0.06, true)
    const text = ServerModel.encode(model)
    assert.include(text, "Float64Array")
    assert.include(text, "Infinity")
    const back = roundTrip(model, undefined)
    assert.strictEqual(back.rate, model.rate)
    assert.strictEqual(ServerModel.encode(back), text)
  })

  it("decodes text that is not a model to None", () => {
    assert.isTrue(Option.isNone(ServerModel.decode("not json")))
    assert.isTrue(Option.isNone(ServerModel.decode(JSON.stringify({ v: 99, f: {} }))))
    assert.isTrue(Option.isNone(ServerModel.decode(JSON.stringify({ v: 1, f: { times: 3 } }))))
  })

  it("takes the adaptive limiter's options: an initial rate paces from the start", () => {
    const model = ServerModel.make({ initialRate: 10 }, 0)
    assert.strictEqual(model.rate, 10)
    assert.strictEqual(model.reserve(0), 0)
    assert.closeTo(model.reserve(0), 0.1, 1e-12)
  })
})
