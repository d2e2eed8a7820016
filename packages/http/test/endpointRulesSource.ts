/**
 * The AWS SDK's own endpoint data, read from the installed packages: Chime's rules as compiled into
 * `@aws-sdk/client-chime` (`dist-es/endpoint/bdd.js`) and the partitions of the `@aws-sdk/core` it
 * resolves (`partitions.js`), and the text of `src/internal/endpointRulesData.ts` generated from them.
 */
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { pathToFileURL } from "node:url"
import type { Condition, Expression, Partition, RuleResult, RuleSet } from "../src/internal/endpointRules.js"

const require = createRequire(import.meta.url)

/** The installed `@aws-sdk/client-chime`'s folder. */
export const chimeClientDir = dirname(require.resolve("@aws-sdk/client-chime/package.json"))

/** The `@aws-sdk/core` folder that `@aws-sdk/client-chime` resolves. */
export const awsCoreDir = dirname(
  createRequire(join(chimeClientDir, "package.json")).resolve("@aws-sdk/core/package.json")
)

/** One partition as the SDK's `partitions.js` holds it. */
export interface SdkPartition {
  readonly id: string
  readonly regionRegex: string
  readonly regions: { readonly [name: string]: { readonly [key: string]: unknown } }
  readonly outputs: { readonly [key: string]: string | boolean }
}

interface SdkBdd {
  readonly root: number
  readonly nodes: Int32Array
  readonly conditions: ReadonlyArray<ReadonlyArray<unknown>>
  readonly results: ReadonlyArray<ReadonlyArray<unknown>>
}

/** The SDK's partitions data (the object `partition()` reads). */
export const loadSdkPartitions = async (): Promise<ReadonlyArray<SdkPartition>> => {
  const file = join(awsCoreDir, "dist-es/submodules/client/util-endpoints/lib/aws/partitions.js")
  const module = (await import(pathToFileURL(file).href)) as { partitionsInfo: { partitions: Array<SdkPartition> } }
  return module.partitionsInfo.partitions
}

/** Chime's rules as the SDK's client evaluates them. */
export const loadSdkRules = async (): Promise<SdkBdd> => {
  const file = join(chimeClientDir, "dist-es/endpoint/bdd.js")
  return ((await import(pathToFileURL(file).href)) as { bdd: SdkBdd }).bdd
}

/** The functions `internal/endpointRules.ts` implements. */
const supported = new Set(["isSet", "booleanEquals", "stringEquals", "getAttr", "aws.partition"])

const checkExpression = (expr: unknown): Expression => {
  if (typeof expr === "string" || typeof expr === "boolean" || typeof expr === "number") return expr
  if (expr !== null && typeof expr === "object") {
    if ("ref" in expr && typeof expr.ref === "string") return { ref: expr.ref }
    if ("fn" in expr && "argv" in expr && typeof expr.fn === "string" && Array.isArray(expr.argv)) {
      if (!supported.has(expr.fn)) throw new Error(`the rules call ${expr.fn}: teach internal/endpointRules.ts first`)
      if (expr.fn === "getAttr" && typeof expr.argv[1] === "string" && expr.argv[1].includes("[")) {
        throw new Error("the rules index an array in getAttr: teach internal/endpointRules.ts first")
      }
      return { fn: expr.fn, argv: expr.argv.map(checkExpression) }
    }
  }
  throw new Error(`unexpected expression in the rules: ${JSON.stringify(expr)}`)
}

/** The rules in our form, refusing anything our evaluator does not implement. */
export const toRuleSet = (bdd: SdkBdd): RuleSet => ({
  root: bdd.root,
  nodes: Array.from(bdd.nodes),
  conditions: bdd.conditions.map((c): Condition => {
    const [fn, argv, assign] = c as [string, Array<unknown>, string | undefined]
    if (!supported.has(fn)) throw new Error(`the rules call ${fn}: teach internal/endpointRules.ts first`)
    const args = argv.map(checkExpression)
    return assign === undefined ? [fn, args] : [fn, args, assign]
  }),
  results: bdd.results.map((r): RuleResult => {
    if (r[0] === -1) return r.length > 1 ? [-1, checkExpression(r[1])] : [-1]
    const [url, properties, headers] = r as [unknown, { [key: string]: unknown }, unknown]
    if (headers !== undefined && Object.keys(headers as object).length > 0) {
      throw new Error("the rules set headers: teach internal/endpointRules.ts first")
    }
    return [checkExpression(url), properties]
  })
})

/** The partitions in our form: region descriptions dropped, anything else a region carries refused. */
export const toPartitions = (partitions: ReadonlyArray<SdkPartition>): ReadonlyArray<Partition> =>
  partitions.map((p) => {
    for (const [name, data] of Object.entries(p.regions)) {
      if (Object.keys(data).some((key) => key !== "description")) {
        throw new Error(`region ${name} carries outputs of its own: teach internal/endpointRules.ts first`)
      }
    }
    return { id: p.id, regionRegex: p.regionRegex, regions: Object.keys(p.regions), outputs: p.outputs }
  })

const wrap = (items: ReadonlyArray<string>, indent: string, width = 118): Array<string> => {
  const lines: Array<string> = []
  let line = indent
  for (const item of items) {
    const piece = `${item},`
    if (line.length > indent.length && line.length + 1 + piece.length > width) {
      lines.push(line)
      line = indent
    }
    line += line.length > indent.length ? ` ${piece}` : piece
  }
  if (line.length > indent.length) lines.push(line)
  return lines.map((l, i) => (i === lines.length - 1 ? l.slice(0, -1) : l))
}

/** The text of `src/internal/endpointRulesData.ts`. */
export const generateRulesData = (rules: RuleSet, partitions: ReadonlyArray<Partition>): string => {
  const json = (value: unknown) => JSON.stringify(value)
  // One line per item, or the item spread over lines where one would pass 120 columns.
  const list = (items: ReadonlyArray<unknown>, indent: string) =>
    items.flatMap((item, i) => {
      const comma = i < items.length - 1 ? "," : ""
      const line = `${indent}${json(item)}${comma}`
      if (line.length <= 120) return [line]
      return `${JSON.stringify(item, null, 2)}${comma}`.split("\n").map((l) => indent + l)
    })
  const triples = Array.from(
    { length: rules.nodes.length / 3 },
    (_, i) => rules.nodes.slice(3 * i, 3 * i + 3).join(", ")
  )
  const lines: Array<string> = [
    "/**",
    " * Generated from the AWS SDK's data by `test/EndpointRules.test.ts`: do not edit. After an SDK update",
    " * `pnpm generate:endpoints` writes it again (the test fails until then). Chime's endpoint rules as",
    " * compiled into `@aws-sdk/client-chime` (`endpoint/bdd.js`), and the AWS partitions of the",
    " * `@aws-sdk/core` it uses (`partitions.js`, region descriptions left out).",
    " */",
    "import type { Partition, RuleSet } from \"./endpointRules.js\"",
    "",
    "/** Chime's endpoint rules: a binary decision diagram over `conditions`, leading to `results`. */",
    "export const rules: RuleSet = {",
    `  root: ${rules.root},`,
    "  // condition, high, low",
    "  nodes: [",
    ...triples.map((t, i) => `    ${t}${i < triples.length - 1 ? "," : ""}`),
    "  ],",
    "  conditions: [",
    ...list(rules.conditions, "    "),
    "  ],",
    "  results: [",
    ...list(rules.results, "    "),
    "  ]",
    "}",
    "",
    "/** The AWS partitions, in the SDK's order (which decides between matching regexes). */",
    "export const partitions: ReadonlyArray<Partition> = [",
    ...partitions.flatMap((p, i) => [
      "  {",
      `    id: ${json(p.id)},`,
      `    regionRegex: ${json(p.regionRegex)},`,
      "    regions: [",
      ...wrap(p.regions.map(json), "      "),
      "    ],",
      "    outputs: {",
      ...Object.entries(p.outputs).map(([key, value], j, all) =>
        `      ${key}: ${json(value)}${j < all.length - 1 ? "," : ""}`
      ),
      "    }",
      `  }${i < partitions.length - 1 ? "," : ""}`
    ]),
    "]",
    ""
  ]
  return lines.join("\n")
}
