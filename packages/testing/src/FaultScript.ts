/**
 * The fault model shared by the in-memory layer and the emulator: which call fails, and how.
 *
 * A script is a seed and a list of rules; each rule picks calls (by number, every N-th, or at a
 * seeded rate) and names a {@link Fault}. Decisions are a pure function of (seed, rule, call
 * number), so the same script fails the same calls in every run, whatever the timing.
 *
 * @since 0.1.0
 */
import { ChimeError } from "@chime-rooms/core"
import { Duration, Either, Schema } from "effect"
import * as Fault from "./Fault.js"
import { hash3, unit } from "./internal/hash.js"

/**
 * Which calls a rule applies to (calls are numbered from 1 in the order the fake receives them).
 *
 * - `calls`: exactly these call numbers.
 * - `every`: every `every`-th call, starting at call `from` (default `every`): `every: 10` is 10, 20, 30…
 * - `rate`: each call independently with probability `rate`, decided by the script's seed.
 * - `always`: every call.
 *
 * @category models
 * @since 0.1.0
 */
export type FaultWhen =
  | { readonly calls: ReadonlyArray<number> }
  | { readonly every: number; readonly from?: number }
  | { readonly rate: number }
  | { readonly always: true }

/**
 * A rule: when, and which fault.
 *
 * @example
 * ```ts
 * import { Fault, FaultScript } from "@chime-rooms/testing"
 *
 * const rule: FaultScript.FaultRule = { calls: [3, 4], fault: Fault.throttled("2 seconds") }
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type FaultRule = FaultWhen & { readonly fault: Fault.Fault }

/**
 * What one call should suffer, resolved from every matching rule: the delays add up, the first
 * failing fault wins, and `repeatToken` is set if any rule asked for a loop.
 *
 * @category models
 * @since 0.1.0
 */
export interface FaultPlan {
  /** Every fault whose rule matched, in rule order. */
  readonly faults: ReadonlyArray<Fault.Fault>
  /** Total `Delay` before answering. */
  readonly delay: Duration.Duration
  /** Total `Slow` time spent sending the body. */
  readonly slow: Duration.Duration
  /** The fault that ends the call, if any. */
  readonly failure: Fault.FailingFault | undefined
  /** Answer with a looping `NextToken`. */
  readonly repeatToken: boolean
}

/**
 * A deterministic fault script.
 *
 * @category models
 * @since 0.1.0
 */
export interface FaultScript {
  readonly seed: number
  readonly rules: ReadonlyArray<FaultRule>
  /** The faults of call number `call` (1-based), in rule order. Pure: same call, same answer. */
  readonly decide: (call: number) => ReadonlyArray<Fault.Fault>
  /** {@link decide}, resolved into a {@link FaultPlan}. */
  readonly plan: (call: number) => FaultPlan
}

/**
 * A fault spec (`--fault SPEC`) that could not be parsed.
 *
 * @category errors
 * @since 0.1.0
 */
export class FaultSpecError extends Schema.TaggedError<FaultSpecError>()("FaultSpecError", {
  spec: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `Invalid fault spec ${JSON.stringify(this.spec)}: ${this.reason}`
  }
}

const matches = (rule: FaultRule, index: number, seedHash: number, call: number): boolean => {
  if ("calls" in rule) return rule.calls.includes(call)
  if ("every" in rule) {
    const from = rule.from ?? rule.every
    return rule.every >= 1 && call >= from && (call - from) % rule.every === 0
  }
  if ("rate" in rule) return unit(hash3(seedHash, index, call)) < rule.rate
  return rule.always
}

const planOf = (faults: ReadonlyArray<Fault.Fault>): FaultPlan => {
  let delay = Duration.zero
  let slow = Duration.zero
  let failure: Fault.FailingFault | undefined
  let repeatToken = false
  for (const fault of faults) {
    if (fault._tag === "Delay") delay = Duration.sum(delay, fault.duration)
    else if (fault._tag === "Slow") slow = Duration.sum(slow, fault.duration)
    else if (fault._tag === "RepeatToken") repeatToken = true
    else if (failure === undefined) failure = fault
  }
  return { faults, delay, slow, failure, repeatToken }
}

/**
 * A script from a seed (default `0`, used by `rate` rules) and rules.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: { readonly seed?: number; readonly rules: ReadonlyArray<FaultRule> }): FaultScript => {
  const seed = options.seed ?? 0
  const rules = [...options.rules]
  // Mix the seed once so that nearby seeds (1, 2, 3) still give unrelated decisions.
  const seedHash = hash3(0x46415554, Math.floor(seed) | 0, Math.floor(seed / 4294967296) | 0)
  const decide = (call: number): ReadonlyArray<Fault.Fault> => {
    const faults: Array<Fault.Fault> = []
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!
      if (matches(rule, i, seedHash, call)) faults.push(rule.fault)
    }
    return faults
  }
  return { seed, rules, decide, plan: (call) => planOf(decide(call)) }
}

// --- the `--fault SPEC` syntax ---------------------------------------------------------------

const fail = (spec: string, reason: string) => Either.left(new FaultSpecError({ spec, reason }))

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)$/
const UNITS = { ms: 1, s: 1000, m: 60_000 } as const

/** `200ms`, `2s`, `1.5s`, `1m`; a bare number only where `bareUnit` says what it means. */
const parseDuration = (text: string, bareUnit?: "s"): Duration.Duration | undefined => {
  const match = DURATION.exec(text)
  if (match !== null) return Duration.millis(Number(match[1]) * UNITS[match[2] as keyof typeof UNITS])
  if (bareUnit !== undefined && /^\d+(?:\.\d+)?$/.test(text)) return Duration.millis(Number(text) * 1000)
  return undefined
}

const statusNames: { readonly [status: string]: ChimeError.ServiceErrorName } = {
  "400": "BadRequestException",
  "401": "UnauthorizedClientException",
  "403": "ForbiddenException",
  "404": "NotFoundException",
  "429": "ThrottledClientException",
  "500": "ServiceFailureException",
  "503": "ServiceUnavailableException"
}

const errorAliases: { readonly [alias: string]: ChimeError.ServiceErrorName } = {
  "bad-request": "BadRequestException",
  unauthorized: "UnauthorizedClientException",
  forbidden: "ForbiddenException",
  "not-found": "NotFoundException",
  throttled: "ThrottledClientException",
  throttle: "ThrottledClientException",
  failure: "ServiceFailureException",
  "service-failure": "ServiceFailureException",
  unavailable: "ServiceUnavailableException"
}

const simpleFaults: { readonly [word: string]: Fault.Fault } = {
  transport: Fault.transport,
  loop: Fault.repeatToken,
  "repeat-token": Fault.repeatToken,
  reset: Fault.reset,
  truncated: Fault.truncatedJson,
  "truncated-json": Fault.truncatedJson,
  "invalid-json": Fault.invalidJson,
  "502": Fault.html502,
  html502: Fault.html502,
  "html-502": Fault.html502
}

const serviceErrorOf = (word: string): ChimeError.ServiceErrorName | undefined => {
  const lower = word.toLowerCase()
  if (Object.hasOwn(statusNames, lower)) return statusNames[lower]
  if (Object.hasOwn(errorAliases, lower)) return errorAliases[lower]
  const named = Object.keys(ChimeError.serviceErrors).find((name) => name.toLowerCase() === lower)
  return named !== undefined && ChimeError.isServiceErrorName(named) ? named : undefined
}

/** Calls may be listed one by one or as ranges; a range this long is surely a mistake. */
const MAX_LISTED_CALLS = 100_000

const parseWhen = (spec: string, text: string | undefined): Either.Either<FaultWhen, FaultSpecError> => {
  if (text === undefined || text === "*") return Either.right({ always: true })
  if (text.startsWith("every=")) {
    const match = /^every=(\d+)(?:,from=(\d+))?$/.exec(text)
    const n = match === null ? NaN : Number(match[1])
    if (!(Number.isSafeInteger(n) && n >= 1)) return fail(spec, "every=N[,from=K] needs integers N >= 1 and K >= 1")
    if (match![2] === undefined) return Either.right({ every: n })
    const from = Number(match![2])
    return from >= 1
      ? Either.right({ every: n, from })
      : fail(spec, "every=N[,from=K] needs integers N >= 1 and K >= 1")
  }
  if (text.startsWith("rate=")) {
    const rateText = text.slice(5)
    const rate = Number(rateText)
    return /^\d*\.?\d+$/.test(rateText) && rate >= 0 && rate <= 1
      ? Either.right({ rate })
      : fail(spec, "rate=R needs a number from 0 to 1")
  }
  const calls: Array<number> = []
  for (const part of text.split(",")) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part)
    if (range === null) return fail(spec, `"${part}" is not a call number or range (N or N-M)`)
    const first = Number(range[1])
    const last = range[2] === undefined ? first : Number(range[2])
    if (first < 1 || last < first) return fail(spec, `"${part}": calls are numbered from 1 and ranges go up`)
    if (calls.length + (last - first + 1) > MAX_LISTED_CALLS) return fail(spec, "too many calls listed")
    for (let call = first; call <= last; call++) calls.push(call)
  }
  return Either.right({ calls })
}

const parseFault = (
  spec: string,
  text: string,
  options: ReadonlyArray<string>
): Either.Either<Fault.Fault, FaultSpecError> => {
  const eq = text.indexOf("=")
  const word = (eq < 0 ? text : text.slice(0, eq)).toLowerCase()
  const value = eq < 0 ? undefined : text.slice(eq + 1)

  if (word === "delay" || word === "slow") {
    const duration = value === undefined ? undefined : parseDuration(value)
    if (duration === undefined) return fail(spec, `${word}=DURATION needs a duration with a unit (200ms, 2s, 1m)`)
    if (options.length > 0) return fail(spec, `${word} takes no options`)
    return Either.right(word === "delay" ? Fault.delay(duration) : Fault.slow(duration))
  }

  const name = serviceErrorOf(word)
  if (name !== undefined) {
    if (value !== undefined) return fail(spec, `${word} takes no value`)
    let retryAfter: Duration.Duration | undefined
    let message: string | undefined
    for (let i = 0; i < options.length; i++) {
      const option = options[i]!
      if (option.startsWith("retry-after=")) {
        retryAfter = parseDuration(option.slice(12), "s")
        if (retryAfter === undefined) return fail(spec, "retry-after needs seconds (2) or a duration (1500ms)")
      } else if (option.startsWith("message=")) {
        // The message runs to the end of the spec, commas included.
        message = [option.slice(8), ...options.slice(i + 1)].join(",")
        break
      } else return fail(spec, `unknown option "${option.split("=")[0]}" (retry-after, message)`)
    }
    return Either.right(
      Fault.serviceError(name, {
        ...(retryAfter === undefined ? {} : { retryAfter }),
        ...(message === undefined ? {} : { message })
      })
    )
  }

  if (Object.hasOwn(simpleFaults, word) && value === undefined) {
    if (options.length > 0) return fail(spec, `${word} takes no options`)
    return Either.right(simpleFaults[word]!)
  }
  return fail(
    spec,
    `unknown fault "${text}" (400|401|403|404|429|500|503 or an exception name, transport, loop, reset, ` +
      `truncated, invalid-json, 502, delay=DURATION, slow=DURATION)`
  )
}

/**
 * The script that never injects anything.
 *
 * @category constructors
 * @since 0.1.0
 */
export const empty = make({ rules: [] })

/**
 * Parses one `--fault` spec into a rule.
 *
 * ## `--fault SPEC` syntax
 *
 * `FAULT[@WHEN][:OPTIONS]`
 *
 * - FAULT: a status `400 401 403 404 429 500 503`, an exception name (`ThrottledClientException`,
 *   any case) or an alias (`bad-request unauthorized forbidden not-found throttled failure unavailable`);
 *   `transport`; `loop` (repeated `NextToken`); `reset`; `truncated`; `invalid-json`; `502` (an HTML
 *   page); `delay=DURATION`; `slow=DURATION`.
 * - WHEN: call numbers and ranges `3`, `5,6`, `10-20` (1-based); `every=N` (N, 2N, …) or
 *   `every=N,from=K` (K, K+N, …); `rate=R` (0..1, seeded);
 *   absent or `*` for every call.
 * - OPTIONS (service errors only), comma separated: `retry-after=SECONDS|DURATION`, `message=TEXT`
 *   (last; runs to the end).
 * - DURATION: `250ms`, `2s`, `1.5s`, `1m`.
 *
 * @example
 * ```ts
 * import { FaultScript } from "@chime-rooms/testing"
 *
 * FaultScript.parse("429@5,6:retry-after=2") // calls 5 and 6: 429 with Retry-After: 2
 * FaultScript.parse("503@3") // call 3: 503
 * FaultScript.parse("reset@rate=0.05") // 5% of calls, chosen by the seed: connection reset
 * FaultScript.parse("slow=200ms@every=10") // every 10th call trickles its body over 200 ms
 * FaultScript.parse("loop@7") // call 7 repeats its NextToken
 * ```
 *
 * @category parsing
 * @since 0.1.0
 */
export const parse = (spec: string): Either.Either<FaultRule, FaultSpecError> => {
  const trimmed = spec.trim()
  if (trimmed === "") return fail(spec, "empty spec")
  const colon = trimmed.indexOf(":")
  const head = colon < 0 ? trimmed : trimmed.slice(0, colon)
  const options = colon < 0 ? [] : trimmed.slice(colon + 1).split(",")
  const at = head.indexOf("@")
  const faultText = at < 0 ? head : head.slice(0, at)
  const whenText = at < 0 ? undefined : head.slice(at + 1)
  return Either.flatMap(
    parseWhen(spec, whenText),
    (when) => Either.map(parseFault(spec, faultText, options), (fault): FaultRule => ({ ...when, fault }))
  )
}

/**
 * Parses several specs (for example every `--fault`) into one script.
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromSpecs = (
  specs: ReadonlyArray<string>,
  options: { readonly seed?: number } = {}
): Either.Either<FaultScript, FaultSpecError> => {
  const rules: Array<FaultRule> = []
  for (const spec of specs) {
    const rule = parse(spec)
    if (Either.isLeft(rule)) return Either.left(rule.left)
    rules.push(rule.right)
  }
  return Either.right(make({ ...options, rules }))
}

/**
 * Writes a rule back in the spec syntax (a `calls` rule lists its calls).
 *
 * @category formatting
 * @since 0.1.0
 */
export const format = (rule: FaultRule): string => {
  const when = "calls" in rule
    ? `@${rule.calls.join(",")}`
    : "every" in rule
    ? `@every=${rule.every}${rule.from === undefined || rule.from === rule.every ? "" : `,from=${rule.from}`}`
    : "rate" in rule
    ? `@rate=${rule.rate}`
    : ""
  const text = Fault.describe(rule.fault)
  const colon = text.indexOf(":")
  const base = colon < 0 ? text : text.slice(0, colon)
  const options = colon < 0 ? "" : text.slice(colon)
  const message = rule.fault._tag === "ServiceError" && rule.fault.message !== undefined
    ? `${options === "" ? ":" : ","}message=${rule.fault.message}`
    : ""
  return `${base}${when}${options}${message}`
}
