/**
 * The command line as `@effect/cli` should see it. It parses and validates every option; this
 * covers what it leaves out, before it runs:
 *
 * - a leading `--`, and one right after the subcommand: pnpm passes a literal `--` on
 *   (`pnpm start -- --json` runs `chime-rooms list -- --json`);
 * - `--flag=value` for every valued option (`@effect/cli` reads it for single options but neither
 *   for repeated ones, `--fault=503@2`, nor with an empty value, `--next-token=`);
 * - a valued option with no value: last on the line (`@effect/cli` reads a repeated one as given
 *   zero times) or followed by another option (`--account --json` is not an account `--json`;
 *   `--account=--json` is);
 * - a single option given twice, which `@effect/cli` reports as an unknown argument;
 * - `--help` (or `-h`) anywhere after the subcommand shows its help, whatever else is there
 *   (`@effect/cli` reports a bad option first, and its `finalCheckBuiltIn` shows the first
 *   subcommand's help for every subcommand).
 */
import { Either } from "effect"
import { UsageError } from "../Io.js"

/** The valued options of a subcommand, and which of them may be given more than once. */
export interface ValuedOptions {
  readonly valued: ReadonlySet<string>
  readonly repeatable?: ReadonlySet<string> | undefined
}

/** `argv` (without `node` and the script) for `@effect/cli`, or the usage error it holds. */
export const normalize = (
  argv: ReadonlyArray<string>,
  subcommands: Readonly<Record<string, ValuedOptions>>
): Either.Either<ReadonlyArray<string>, UsageError> => {
  const args = argv[0] === "--" ? argv.slice(1) : [...argv]
  const spec = Object.hasOwn(subcommands, args[0] ?? "") ? subcommands[args[0]!] : undefined
  // Without a known subcommand `@effect/cli` has the say: help, version, completions, a bad name.
  if (spec === undefined) return Either.right(args)
  const rest = args[1] === "--" ? args.slice(2) : args.slice(1)
  if (rest.includes("--help") || rest.includes("-h")) return Either.right([args[0]!, "--help"])
  const out = [args[0]!]
  const seen = new Set<string>()
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!
    const eq = arg.indexOf("=")
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg
    if (!spec.valued.has(name)) {
      out.push(arg)
      continue
    }
    if (seen.has(name) && spec.repeatable?.has(name) !== true) {
      return Either.left(new UsageError({ message: `${name} given twice` }))
    }
    seen.add(name)
    if (name !== arg) {
      out.push(name, arg.slice(eq + 1))
      continue
    }
    const value = rest[i + 1]
    if (value === undefined || value.startsWith("--")) {
      return Either.left(new UsageError({ message: `${name} needs a value` }))
    }
    out.push(name, value)
    i++
  }
  return Either.right(out)
}
