/**
 * Evaluates Chime's endpoint rules (`endpointRulesData.ts`, generated from the AWS SDK) the way
 * `@smithy/core`'s `decideEndpoint` does, with only the functions those rules call. The SDK's
 * evaluator and `@aws-sdk/core`'s partition function weigh about 9.6 KB gzipped in a bundle; this
 * file and the generated data about 1.5 KB (the numbers are in the http README).
 *
 * The generator refuses rules that call a function missing here, so new rules cannot be taken in
 * without this file learning them; `test/EndpointRules.test.ts` checks the outcome against the SDK's
 * own resolver for every region of the partitions data.
 */

/** An expression of the rules: a template string, a literal, a reference, or a function call. */
export type Expression =
  | string
  | boolean
  | number
  | { readonly ref: string }
  | { readonly fn: string; readonly argv: ReadonlyArray<Expression> }

/** A condition: the function, its arguments, and the name its value is assigned to, if any. */
export type Condition = readonly [fn: string, argv: ReadonlyArray<Expression>, assign?: string]

/** A leaf: an error (`-1` and its message) or an endpoint (URL template and properties). */
export type RuleResult =
  | readonly [-1, Expression?]
  | readonly [url: Expression, properties: { readonly [key: string]: unknown }]

/** The rules as the SDK compiles them: a binary decision diagram over the conditions. */
export interface RuleSet {
  readonly root: number
  /** Triples `condition, high, low`; a negative reference reads its node's outcome inverted. */
  readonly nodes: ReadonlyArray<number>
  readonly conditions: ReadonlyArray<Condition>
  readonly results: ReadonlyArray<RuleResult>
}

/** One partition of the AWS partitions data. */
export interface Partition {
  readonly id: string
  readonly regionRegex: string
  /** The region names listed for it (their descriptions left out). */
  readonly regions: ReadonlyArray<string>
  readonly outputs: { readonly [key: string]: string | boolean }
}

/** Where the rules lead: an endpoint, or the rules' own refusal. */
export type RuleOutcome =
  | { readonly _tag: "Endpoint"; readonly url: string; readonly properties: { readonly [key: string]: unknown } }
  | { readonly _tag: "Error"; readonly message: string }

/** The parameters of Chime's rules, named as the rules name them. */
export interface RuleParams {
  readonly Region?: string | undefined
  readonly UseFIPS: boolean
  readonly UseDualStack: boolean
  readonly Endpoint?: string | undefined
}

/** Offset of result references (as `@smithy/core`'s `decideEndpoint`). */
const RESULT = 100_000_000

/** `aws.partition`: an exact region name in any partition first, then the first matching regex, else `aws`. */
export const partitionOf = (
  partitions: ReadonlyArray<Partition>,
  region: string
): { readonly [key: string]: string | boolean } => {
  for (const p of partitions) if (p.regions.includes(region)) return p.outputs
  for (const p of partitions) if (new RegExp(p.regionRegex).test(region)) return p.outputs
  const fallback = partitions.find((p) => p.id === "aws")
  if (fallback === undefined) throw new Error("the partitions data has no 'aws' partition")
  return fallback.outputs
}

type Scope = Record<string, unknown>

const lookUp = (name: string, refs: Scope, params: Scope): unknown => refs[name] ?? params[name]

/** A refusal met while evaluating (as the SDK's `EndpointError` thrown by `getAttr`). */
class RulesError {
  constructor(readonly message: string) {}
}

/** `getAttr`: a dotted path into an object; indexing anything but an object is an error, as in the SDK. */
const attribute = (value: unknown, path: string): unknown => {
  let current = value
  for (const key of path.split(".")) {
    if (current === null || typeof current !== "object") {
      throw new RulesError(`Index '${key}' in '${path}' not found in '${JSON.stringify(value)}'`)
    }
    current = (current as Scope)[key]
  }
  return current
}

/** `{Name}` and `{Name#attr}` templates, `{{`/`}}` kept literally, as `evaluateTemplate` does. */
const template = (text: string, refs: Scope, params: Scope): string => {
  let out = ""
  let i = 0
  while (i < text.length) {
    const open = text.indexOf("{", i)
    if (open === -1) {
      out += text.slice(i)
      break
    }
    out += text.slice(i, open)
    const close = text.indexOf("}", open)
    if (close === -1) {
      out += text.slice(open)
      break
    }
    if (text[open + 1] === "{" && text[close + 1] === "}") {
      out += text.slice(open + 1, close)
      i = close + 2
      continue
    }
    const name = text.slice(open + 1, close)
    const hash = name.indexOf("#")
    const value = hash === -1
      ? lookUp(name, refs, params)
      : attribute(lookUp(name.slice(0, hash), refs, params), name.slice(hash + 1))
    out += value === undefined || value === null ? "" : String(value)
    i = close + 1
  }
  return out
}

const evaluate = (partitions: ReadonlyArray<Partition>, expr: Expression, refs: Scope, params: Scope): unknown => {
  if (typeof expr === "string") return template(expr, refs, params)
  if (typeof expr !== "object") return expr
  if ("ref" in expr) return lookUp(expr.ref, refs, params)
  return call(partitions, expr.fn, expr.argv, refs, params)
}

const call = (
  partitions: ReadonlyArray<Partition>,
  fn: string,
  argv: ReadonlyArray<Expression>,
  refs: Scope,
  params: Scope
): unknown => {
  const args = argv.map((arg) => evaluate(partitions, arg, refs, params))
  switch (fn) {
    case "isSet":
      return args[0] !== undefined && args[0] !== null
    case "booleanEquals":
    case "stringEquals":
      return args[0] === args[1]
    case "getAttr":
      return attribute(args[0], String(args[1]))
    case "aws.partition":
      return partitionOf(partitions, String(args[0]))
  }
  // The generator refuses rules calling anything else: reaching this is a defect.
  throw new Error(`endpoint rules: function ${fn} is not supported`)
}

const properties = (value: unknown, refs: Scope, params: Scope): unknown => {
  if (typeof value === "string") return template(value, refs, params)
  if (Array.isArray(value)) return value.map((v) => properties(v, refs, params))
  if (value !== null && typeof value === "object") {
    const out: Scope = {}
    for (const [key, v] of Object.entries(value)) out[key] = properties(v, refs, params)
    return out
  }
  return value
}

/** Walks the diagram from its root to a result, as `decideEndpoint` does. */
export const decide = (rules: RuleSet, partitions: ReadonlyArray<Partition>, input: RuleParams): RuleOutcome => {
  try {
    return walk(rules, partitions, input)
  } catch (error) {
    if (error instanceof RulesError) return { _tag: "Error", message: error.message }
    throw error
  }
}

const walk = (rules: RuleSet, partitions: ReadonlyArray<Partition>, input: RuleParams): RuleOutcome => {
  const params = input as unknown as Scope
  const refs: Scope = {}
  let ref = rules.root
  while (ref !== 1 && ref !== -1 && ref < RESULT) {
    const node = 3 * (Math.abs(ref) - 1)
    const [fn, argv, assign] = rules.conditions[rules.nodes[node]!]!
    const value = call(partitions, fn, argv, refs, params)
    if (assign !== undefined) refs[assign] = value
    const holds = value === "" ? true : Boolean(value)
    ref = (ref >= 0) === holds ? rules.nodes[node + 1]! : rules.nodes[node + 2]!
  }
  if (ref < RESULT) return { _tag: "Error", message: "No matching endpoint." }
  const result = rules.results[ref - RESULT]!
  if (result[0] === -1) {
    const message = result[1] as Expression | undefined
    return {
      _tag: "Error",
      message: message === undefined ? "No matching endpoint." : String(evaluate(partitions, message, refs, params))
    }
  }
  const [url, props] = result as readonly [Expression, { readonly [key: string]: unknown }]
  return {
    _tag: "Endpoint",
    url: String(evaluate(partitions, url, refs, params)),
    properties: properties(props, refs, params) as { readonly [key: string]: unknown }
  }
}
