/**
 * The clock offset a `HttpChimeRooms` layer learns from refused signatures (the server's time
 * minus ours), shared by both paths: the general one reads and sets it as the `Ref` that
 * `withSigV4` takes, the fast one reads and sets `millis` from undici's callbacks, outside any fiber.
 *
 * Invariant: the offset is one field, `millis`; every read and write, through the `Ref` or not,
 * is of that field, so what either path learns the other applies to its next signature.
 */
import * as Effect from "effect/Effect"
import * as Effectable from "effect/Effectable"
import * as Readable from "effect/Readable"
import * as Ref from "effect/Ref"

const variance = { _A: (a: number) => a }

/** A `Ref<number>` whose value can also be read and written synchronously. */
export class ClockOffset extends Effectable.Class<number> implements Ref.Ref<number> {
  readonly [Ref.RefTypeId] = variance
  readonly [Readable.TypeId]: Readable.TypeId = Readable.TypeId
  /** Milliseconds to add to the local clock to sign with the server's. */
  millis = 0
  readonly get: Effect.Effect<number> = Effect.sync(() => this.millis)

  commit(): Effect.Effect<number> {
    return this.get
  }

  modify<B>(f: (a: number) => readonly [B, number]): Effect.Effect<B> {
    return Effect.sync(() => {
      const [b, a] = f(this.millis)
      this.millis = a
      return b
    })
  }
}

/** A fresh offset of 0, for one layer. */
export const make: Effect.Effect<ClockOffset> = Effect.sync(() => new ClockOffset())
