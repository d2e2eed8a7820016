import { Fault, FaultScript } from "@chime-rooms/testing"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Either } from "effect"

const parse = (spec: string): FaultScript.FaultRule => {
  const rule = FaultScript.parse(spec)
  if (Either.isLeft(rule)) throw new Error(rule.left.message)
  return rule.right
}

const parseError = (spec: string): FaultScript.FaultSpecError => {
  const rule = FaultScript.parse(spec)
  if (Either.isRight(rule)) throw new Error(`expected ${spec} to be refused`)
  return rule.left
}

const callsHit = (script: FaultScript.FaultScript, upTo: number): Array<number> =>
  Array.from({ length: upTo }, (_, i) => i + 1).filter((call) => script.decide(call).length > 0)

describe("FaultScript rules", () => {
  it("matches calls by number (1-based)", () => {
    const script = FaultScript.make({ rules: [{ calls: [3, 4], fault: Fault.unavailable() }] })
    expect(callsHit(script, 10)).toEqual([3, 4])
    expect(script.decide(3)).toEqual([{ _tag: "ServiceError", name: "ServiceUnavailableException" }])
  })

  it("matches every N-th call, optionally from a given call", () => {
    expect(callsHit(FaultScript.make({ rules: [{ every: 3, fault: Fault.transport }] }), 10)).toEqual([3, 6, 9])
    expect(callsHit(FaultScript.make({ rules: [{ every: 4, from: 2, fault: Fault.transport }] }), 12)).toEqual([
      2,
      6,
      10
    ])
  })

  it("matches at a seeded rate: same seed, same calls; another seed, other calls", () => {
    const rules: ReadonlyArray<FaultScript.FaultRule> = [{ rate: 0.2, fault: Fault.reset }]
    const a = callsHit(FaultScript.make({ seed: 1, rules }), 2000)
    const b = callsHit(FaultScript.make({ seed: 1, rules }), 2000)
    const c = callsHit(FaultScript.make({ seed: 2, rules }), 2000)
    expect(a).toEqual(b)
    expect(c).not.toEqual(a)
    expect(a.length).toBeGreaterThan(2000 * 0.2 * 0.8)
    expect(a.length).toBeLessThan(2000 * 0.2 * 1.2)
    // Decisions do not depend on the order calls are asked about.
    const script = FaultScript.make({ seed: 1, rules })
    expect([2000, 1, 500].map((n) => script.decide(n).length > 0)).toEqual([
      a.includes(2000),
      a.includes(1),
      a.includes(500)
    ])
    expect(callsHit(FaultScript.make({ seed: 9, rules: [{ rate: 0, fault: Fault.reset }] }), 500)).toEqual([])
    expect(callsHit(FaultScript.make({ seed: 9, rules: [{ rate: 1, fault: Fault.reset }] }), 500)).toHaveLength(500)
  })

  it("gives two rate rules of one script independent decisions", () => {
    const script = FaultScript.make({
      seed: 3,
      rules: [{ rate: 0.5, fault: Fault.reset }, { rate: 0.5, fault: Fault.transport }]
    })
    const first = Array.from({ length: 200 }, (_, i) => script.decide(i + 1).includes(Fault.reset))
    const second = Array.from({ length: 200 }, (_, i) => script.decide(i + 1).includes(Fault.transport))
    expect(first).not.toEqual(second)
  })

  it("plans a call: delays add up, the first failing fault wins, loops are flagged", () => {
    const script = FaultScript.make({
      rules: [
        { calls: [1], fault: Fault.delay("1 second") },
        { calls: [1], fault: Fault.delay("500 millis") },
        { calls: [1], fault: Fault.slow("200 millis") },
        { calls: [1], fault: Fault.throttled("2 seconds") },
        { calls: [1], fault: Fault.transport },
        { calls: [2], fault: Fault.repeatToken }
      ]
    })
    const one = script.plan(1)
    expect(Duration.toMillis(one.delay)).toBe(1500)
    expect(Duration.toMillis(one.slow)).toBe(200)
    expect(one.failure).toEqual({
      _tag: "ServiceError",
      name: "ThrottledClientException",
      retryAfter: Duration.seconds(2)
    })
    expect(one.repeatToken).toBe(false)
    expect(one.faults).toHaveLength(5)
    const two = script.plan(2)
    expect(two.failure).toBeUndefined()
    expect(two.repeatToken).toBe(true)
    expect(FaultScript.empty.plan(1)).toEqual({
      faults: [],
      delay: Duration.zero,
      slow: Duration.zero,
      failure: undefined,
      repeatToken: false
    })
  })

  it("classifies faults as failing or shaping", () => {
    const failing = [
      Fault.throttled(),
      Fault.transport,
      Fault.reset,
      Fault.truncatedJson,
      Fault.invalidJson,
      Fault.html502
    ]
    const shaping = [Fault.delay("1 second"), Fault.slow("1 second"), Fault.repeatToken]
    expect(failing.every(Fault.isFailing)).toBe(true)
    expect(shaping.some(Fault.isFailing)).toBe(false)
    expect(Fault.statusOf("ThrottledClientException")).toBe(429)
  })
})

describe("FaultScript.parse (the --fault syntax)", () => {
  it("parses status codes, names and aliases with call lists", () => {
    expect(parse("503@3")).toEqual({ calls: [3], fault: { _tag: "ServiceError", name: "ServiceUnavailableException" } })
    expect(parse("429@5,6:retry-after=2")).toEqual({
      calls: [5, 6],
      fault: { _tag: "ServiceError", name: "ThrottledClientException", retryAfter: Duration.millis(2000) }
    })
    expect(parse("throttled@2-4,9:retry-after=1500ms")).toEqual({
      calls: [2, 3, 4, 9],
      fault: { _tag: "ServiceError", name: "ThrottledClientException", retryAfter: Duration.millis(1500) }
    })
    const names: ReadonlyArray<[string, string]> = [
      ["400", "BadRequestException"],
      ["401", "UnauthorizedClientException"],
      ["403", "ForbiddenException"],
      ["404", "NotFoundException"],
      ["500", "ServiceFailureException"],
      ["forbiddenexception", "ForbiddenException"],
      ["ServiceFailureException", "ServiceFailureException"],
      ["not-found", "NotFoundException"],
      ["unavailable", "ServiceUnavailableException"]
    ]
    for (const [word, name] of names) expect(parse(`${word}@1`).fault).toEqual({ _tag: "ServiceError", name })
    expect(parse("500@1:message=disk on fire, again").fault).toEqual({
      _tag: "ServiceError",
      name: "ServiceFailureException",
      message: "disk on fire, again"
    })
  })

  it("parses every fault kind and schedule", () => {
    expect(parse("reset@rate=0.05")).toEqual({ rate: 0.05, fault: { _tag: "Reset" } })
    expect(parse("slow=200ms@every=10")).toEqual({ every: 10, fault: { _tag: "Slow", duration: Duration.millis(200) } })
    expect(parse("delay=2s@1")).toEqual({ calls: [1], fault: { _tag: "Delay", duration: Duration.millis(2000) } })
    expect(parse("delay=1.5s").fault).toEqual({ _tag: "Delay", duration: Duration.millis(1500) })
    expect(parse("delay=1m").fault).toEqual({ _tag: "Delay", duration: Duration.millis(60_000) })
    expect(parse("loop@7")).toEqual({ calls: [7], fault: { _tag: "RepeatToken" } })
    expect(parse("transport@2").fault).toEqual({ _tag: "Transport" })
    expect(parse("truncated@2").fault).toEqual({ _tag: "TruncatedJson" })
    expect(parse("invalid-json@2").fault).toEqual({ _tag: "InvalidJson" })
    expect(parse("502@2").fault).toEqual({ _tag: "Html502" })
    expect(parse("html502@2").fault).toEqual({ _tag: "Html502" })
    expect(parse("503")).toEqual({ always: true, fault: { _tag: "ServiceError", name: "ServiceUnavailableException" } })
    expect(parse("503@*")).toEqual(parse("503"))
    expect(parse("transport@every=5,from=2")).toEqual({ every: 5, from: 2, fault: { _tag: "Transport" } })
  })

  it("refuses bad specs with a typed error that says why", () => {
    const bad: ReadonlyArray<[string, RegExp]> = [
      ["", /empty/],
      ["418@1", /unknown fault/],
      ["429@0", /numbered from 1/],
      ["429@5-3", /ranges go up/],
      ["429@x", /not a call number/],
      ["429@every=0", /every=N/],
      ["429@every=3,from=0", /every=N/],
      ["429@every=3,to=9", /every=N/],
      ["429@rate=1.5", /rate=R/],
      ["429@rate=abc", /rate=R/],
      ["slow=200@1", /unit/],
      ["delay@1", /duration/],
      ["429@1:retry-after=soon", /retry-after/],
      ["429@1:colour=red", /unknown option/],
      ["reset@1:retry-after=2", /no options/],
      ["loop=3@1", /unknown fault/],
      ["429@1-1000000", /too many/]
    ]
    for (const [spec, reason] of bad) {
      const error = parseError(spec)
      expect(error).toBeInstanceOf(FaultScript.FaultSpecError)
      expect(error._tag).toBe("FaultSpecError")
      expect(error.spec).toBe(spec)
      expect(error.reason).toMatch(reason)
      expect(error.message).toContain("Invalid fault spec")
    }
  })

  it("builds a script from several specs and writes rules back in the same syntax", () => {
    const script = FaultScript.fromSpecs([
      "503@3",
      "429@5,6:retry-after=2",
      "reset@rate=0.05",
      "slow=200ms@every=10",
      "loop@7",
      "transport@every=4,from=1",
      "500@1:message=a, b"
    ], { seed: 4 })
    if (Either.isLeft(script)) throw new Error(script.left.message)
    expect(script.right.seed).toBe(4)
    expect(script.right.rules.map(FaultScript.format)).toEqual([
      "503@3",
      "429@5,6:retry-after=2s",
      "reset@rate=0.05",
      "slow=200ms@every=10",
      "loop@7",
      "transport@every=4,from=1",
      "500@1:message=a, b"
    ])
    for (const rule of script.right.rules) expect(parse(FaultScript.format(rule))).toEqual(rule)
    expect(Either.isLeft(FaultScript.fromSpecs(["503@3", "nonsense"]))).toBe(true)
  })
})
