/**
 * Option constructors with the checks and messages both subcommands share: an argument error is
 * a `ValidationError` of `@effect/cli`, printed by it, and exits 2.
 */
import { HelpDoc, Options, ValidationError } from "@effect/cli"
import { Effect } from "effect"

/** A validation error of `@effect/cli` with `message`. */
export const invalid = (message: string): ValidationError.ValidationError =>
  ValidationError.invalidValue(HelpDoc.p(message))

/** `--name N`: an integer from `min` to `max`, decimal digits only (no `1e2`, no `0x10`). */
export const integer = (name: string, min: number, max: number): Options.Options<number> =>
  Options.text(name).pipe(
    Options.withPseudoName("N"),
    Options.mapEffect((raw) => {
      const n = Number(raw)
      return /^-?\d+$/.test(raw) && Number.isSafeInteger(n) && n >= min && n <= max
        ? Effect.succeed(n)
        : Effect.fail(invalid(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`))
    })
  )

/** `--name R`: a positive decimal number (no exponent, no `Infinity`). */
export const positive = (name: string, unit: string): Options.Options<number> =>
  Options.text(name).pipe(
    Options.withPseudoName("R"),
    Options.mapEffect((raw) => {
      const n = Number(raw)
      return /^\d*\.?\d+$/.test(raw) && Number.isFinite(n) && n > 0
        ? Effect.succeed(n)
        : Effect.fail(invalid(`--${name} must be a positive number${unit}, got ${JSON.stringify(raw)}`))
    })
  )

/** The options of `config` that take a value, by name: for `normalize`. */
export const valuedNames = (names: ReadonlyArray<string>): ReadonlySet<string> => new Set(names.map((n) => `--${n}`))

/** `option` as its help shows it: `--name PSEUDO`, and what it does. */
export const withHelp = <A>(option: Options.Options<A>, pseudoName: string, description: string): Options.Options<A> =>
  option.pipe(Options.withPseudoName(pseudoName), Options.withDescription(description))
