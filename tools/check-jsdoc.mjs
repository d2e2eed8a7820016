/**
 * `node tools/check-jsdoc.mjs [package…]`: lists every exported declaration of the public modules (each
 * public package's `src/`, minus `src/internal/` and `src/bin/`) whose JSDoc lacks `@since` or `@category`,
 * and exits 1 if any does. Module-level JSDoc (the file header, `export *` and `export * as`) needs
 * `@since` only. docgen enforces `@since` but not `@category`; this fills that gap. Uses this package's
 * TypeScript 5, whose compiler API TypeScript 7 does not ship.
 */
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"

const tools = dirname(fileURLToPath(import.meta.url))
const root = dirname(tools)
const packages = ["core", "http", "stream", "redis", "sql", "testing", "cli"]
const chosen = process.argv.slice(2).filter((arg) => !arg.startsWith("-"))
// Not public: the implementation behind the modules, and the bin's entry point
const skipped = new Set(["internal", "bin"])

const sources = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return skipped.has(entry.name) ? [] : sources(path)
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [path] : []
  })

// The JSDoc block nearest to the node is the one docgen reads
const tagsOf = (node) => {
  const docs = node.jsDoc ?? []
  const last = docs[docs.length - 1]
  return new Set((last?.tags ?? []).map((tag) => tag.tagName.text))
}

const isExported = (node) =>
  ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)

const problems = []
const report = (file, node, name, tags, needed) => {
  const missing = needed.filter((tag) => !tags.has(tag))
  if (missing.length === 0) return
  const { line } = file.getLineAndCharacterOfPosition(node.getStart(file))
  const named = missing.map((tag) => `@${tag}`).join(", ")
  problems.push(`${relative(root, file.fileName)}:${line + 1} ${name}: missing ${named}`)
}

const check = (path) => {
  const file = ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.Latest, true)
  const first = file.statements[0]
  const header = first?.jsDoc?.[0]
  if (header === undefined || !(header.tags ?? []).some((tag) => tag.tagName.text === "since")) {
    problems.push(`${relative(root, path)}:1 module: missing a header JSDoc with @since`)
  }
  const seen = new Set()
  for (const statement of file.statements) {
    if (ts.isExportDeclaration(statement)) {
      const clause = statement.exportClause
      if (clause === undefined || ts.isNamespaceExport(clause)) {
        // `export * from` and `export * as X from`: a module, documented in the module itself
        report(file, statement, clause ? clause.name.text : "export *", tagsOf(statement), ["since"])
      } else {
        for (const specifier of clause.elements) {
          report(file, specifier, specifier.name.text, tagsOf(specifier), ["category", "since"])
        }
      }
      continue
    }
    if (ts.isExportAssignment(statement)) {
      report(file, statement, "default", tagsOf(statement), ["category", "since"])
      continue
    }
    if (!isExported(statement)) continue
    const names = ts.isVariableStatement(statement)
      ? statement.declarationList.declarations.map((d) => d.name.getText(file))
      : [statement.name?.getText(file) ?? "default"]
    for (const name of names) {
      // Overloads: the first signature carries the documentation
      if (seen.has(name)) continue
      seen.add(name)
      report(file, statement, name, tagsOf(statement), ["category", "since"])
    }
  }
}

for (const name of chosen.length > 0 ? chosen : packages) {
  for (const path of sources(join(root, "packages", name, "src"))) check(path)
}
for (const problem of problems) console.error(problem)
if (problems.length > 0) {
  console.error(`check-jsdoc: ${problems.length} export(s) without @since or @category`)
  process.exit(1)
}
console.log("check-jsdoc: every public export has @since and @category")
