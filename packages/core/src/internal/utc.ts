/**
 * `DateTime.Utc` values for the one-pass decoder, without `DateTime.unsafeMake`'s cost.
 *
 * `unsafeMake(millis)` goes through a `Date` and gives every value an own non-enumerable
 * `partsUtc` with `Object.defineProperty`; measured, that was ~0.8 µs and a slow-mode object per
 * timestamp, two per room, most of the decoder's time and much of its garbage. Here values inherit
 * from Effect's own `Utc` prototype (so `isDateTime`, `Equal`, `Hash`, formatting and `toJSON` are
 * Effect's) through a prototype whose `partsUtc` reads `undefined` until Effect caches the parts,
 * which then become the same own non-enumerable property `unsafeMake` would have made.
 *
 * The module checks at load that such a value behaves like `unsafeMake`'s; if a future Effect
 * changes the representation, it falls back to `unsafeMake`.
 */
import * as DateTime from "effect/DateTime"
import * as Equal from "effect/Equal"

const template = DateTime.unsafeMake(0)

const FastUtcProto: object = Object.create(Object.getPrototypeOf(template), {
  partsUtc: {
    get(): undefined {
      return undefined
    },
    set(this: object, value: unknown) {
      Object.defineProperty(this, "partsUtc", { value, writable: true, enumerable: false, configurable: true })
    },
    enumerable: false,
    configurable: true
  }
})

/** A constructor rather than `Object.create`: V8 gives its objects one fixed shape, allocated in line. */
const FastUtc = function(this: { epochMillis: number }, epochMillis: number) {
  this.epochMillis = epochMillis
} as unknown as new(epochMillis: number) => DateTime.Utc
FastUtc.prototype = FastUtcProto

const fast = (epochMillis: number): DateTime.Utc => new FastUtc(epochMillis)

const behaves = (): boolean => {
  try {
    const millis = 1575325771549
    const probe = fast(millis)
    const reference = DateTime.unsafeMake(millis)
    const iso = DateTime.formatIso(probe)
    return DateTime.isDateTime(probe) && DateTime.isUtc(probe) && Equal.equals(probe, reference) &&
      iso === DateTime.formatIso(reference) && DateTime.toPartsUtc(probe).year === 2019 &&
      Object.keys(probe).join() === Object.keys(reference).join() && DateTime.toEpochMillis(probe) === millis
  } catch {
    return false
  }
}

/** A `DateTime.Utc` at `epochMillis` (a finite number, already validated). */
export const utcFromMillis: (epochMillis: number) => DateTime.Utc = behaves()
  ? fast
  : (epochMillis) => DateTime.unsafeMake(epochMillis)
