import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { parseArgs, requestOf, UsageError } from "../src/Args.js"

const ok = (...argv: Array<string>) => Either.getOrThrow(parseArgs(argv))
const bad = (...argv: Array<string>) => {
  const result = parseArgs(argv)
  if (Either.isRight(result)) throw new Error(`expected ${argv.join(" ")} to be rejected`)
  expect(result.left).toBeInstanceOf(UsageError)
  return result.left.message
}

describe("parseArgs", () => {
  it("defaults to the embedded emulator and a table", () => {
    expect(ok()).toEqual({ help: false, json: false, live: false })
    expect(ok("--")).toEqual({ help: false, json: false, live: false })
  })

  it("reads every option, in both spellings", () => {
    expect(
      ok("--json", "--account", "acc", "--member-id=m1", "--max-results", "50", "--rate=12.5", "--next-token", "tok")
    ).toEqual({
      help: false,
      json: true,
      live: false,
      account: "acc",
      memberId: "m1",
      maxResults: 50,
      rate: 12.5,
      nextToken: "tok"
    })
    expect(ok("--live", "--account", "a", "--endpoint", "http://127.0.0.1:4566", "--region", "eu-west-1")).toMatchObject({
      live: true,
      endpoint: "http://127.0.0.1:4566",
      region: "eu-west-1"
    })
    expect(ok("-h").help).toBe(true)
    expect(ok("--help", "--live").help).toBe(true)
  })

  it("rejects bad arguments with a clear message", () => {
    expect(bad("--bogus")).toBe("unknown argument: --bogus")
    expect(bad("extra")).toBe("unknown argument: extra")
    expect(bad("--account")).toBe("--account needs a value")
    expect(bad("--account", "--json")).toBe("--account needs a value")
    expect(bad("--account", "a", "--account", "b")).toBe("--account given twice")
    expect(bad("--account", "   ")).toBe("--account must contain a non-space character")
    for (const n of ["0", "100", "1.5", "abc", "-3", ""]) expect(bad("--max-results", n)).toContain("--max-results must be an integer from 1 to 99")
    for (const r of ["0", "-1", "fast", "Infinity", "1e3"]) expect(bad("--rate", r)).toContain("--rate must be a positive number")
    expect(bad("--endpoint", "http://127.0.0.1:1")).toContain("--endpoint needs --live")
    expect(bad("--live", "--account", "a", "--endpoint", "not a url")).toContain("--endpoint must be an http(s) URL")
    expect(bad("--live", "--account", "a", "--endpoint", "ftp://x")).toContain("--endpoint must be an http(s) URL")
    expect(bad("--region", "eu-west-1")).toBe("--region needs --live")
    expect(bad("--live")).toBe("--live needs --account ID")
    expect(bad("--next-token", "")).toBe("--next-token must not be empty (leave it out to list from the start)")
    expect(bad("--next-token=")).toBe("--next-token must not be empty (leave it out to list from the start)")
  })
})

describe("requestOf", () => {
  const refusal = (argv: Array<string>, account: string) => {
    const result = requestOf(ok(...argv), account)
    if (Either.isRight(result)) throw new Error(`expected ${argv.join(" ")} on ${account} to be refused`)
    return result.left.message
  }

  it("builds the request the options ask for", () => {
    const options = ok("--member-id", "m", "--max-results", "5", "--next-token", "t")
    expect(Either.getOrThrow(requestOf(options, "acc"))).toEqual({
      AccountId: "acc",
      MaxResults: 5,
      MemberId: "m",
      NextToken: "t"
    })
  })

  it("refuses what the client would refuse before sending, naming the option", () => {
    expect(refusal([], ".")).toBe(
      "--account must not be '.' or '..' (a dot segment cannot be sent as one path segment)"
    )
    expect(refusal([], "..")).toContain("--account must not be '.' or '..'")
    expect(refusal([], "a\ud800")).toBe("--account must be valid Unicode (no lone surrogates)")
    expect(refusal(["--member-id", "\udfff"], "acc")).toBe("--member-id must be valid Unicode (no lone surrogates)")
    expect(refusal(["--next-token", "\ud800x"], "acc")).toBe("--next-token must be valid Unicode (no lone surrogates)")
  })
})
