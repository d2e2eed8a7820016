import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { normalize } from "../src/internal/argv.js"

const specs = {
  list: { valued: new Set(["--account", "--next-token"]) },
  emulator: { valued: new Set(["--fault", "--port"]), repeatable: new Set(["--fault"]) }
}
const ok = (...argv: Array<string>) => Either.getOrThrow(normalize(argv, specs))
const bad = (...argv: Array<string>) => {
  const result = normalize(argv, specs)
  if (Either.isRight(result)) throw new Error(`expected ${argv.join(" ")} to be refused`)
  return result.left.message
}

describe("normalize", () => {
  it("drops a `--` first and one right after the subcommand, as pnpm passes them", () => {
    expect(ok("--", "list", "--account", "a")).toEqual(["list", "--account", "a"])
    expect(ok("list", "--", "--account", "a")).toEqual(["list", "--account", "a"])
    expect(ok("--", "list", "--", "--account", "a")).toEqual(["list", "--account", "a"])
    expect(ok("--")).toEqual([])
    // Elsewhere a `--` is an argument like any other, for @effect/cli to refuse.
    expect(ok("list", "--account", "a", "--")).toEqual(["list", "--account", "a", "--"])
  })

  it("splits --flag=value of a valued option, an empty value and a repeated option too", () => {
    expect(ok("list", "--next-token=", "--account=a=b")).toEqual(["list", "--next-token", "", "--account", "a=b"])
    expect(ok("emulator", "--fault=503@2", "--fault", "reset@every=10")).toEqual(
      ["emulator", "--fault", "503@2", "--fault", "reset@every=10"]
    )
    expect(ok("list", "--account=--json")).toEqual(["list", "--account", "--json"])
    // Flags and unknown arguments are left to @effect/cli.
    expect(ok("list", "--json=true", "--bogus=1", "x")).toEqual(["list", "--json=true", "--bogus=1", "x"])
  })

  it("refuses a valued option without a value, or a single one given twice", () => {
    expect(bad("list", "--account")).toBe("--account needs a value")
    expect(bad("list", "--account", "--json")).toBe("--account needs a value")
    expect(bad("emulator", "--fault")).toBe("--fault needs a value")
    expect(bad("list", "--account", "a", "--account=b")).toBe("--account given twice")
    expect(ok("emulator", "--fault", "a", "--fault", "b")).toHaveLength(5)
  })

  it("`--help` anywhere after the subcommand asks for its help alone", () => {
    expect(ok("list", "--account", "--help")).toEqual(["list", "--help"])
    expect(ok("--", "emulator", "--", "--port", "x", "-h")).toEqual(["emulator", "--help"])
  })

  it("leaves what has no known subcommand to @effect/cli", () => {
    expect(ok("--version")).toEqual(["--version"])
    expect(ok("lst", "--account")).toEqual(["lst", "--account"])
    expect(ok("toString")).toEqual(["toString"])
  })
})
