/**
 * `pnpm docgen`: @effect/docgen in each public package, which type-checks every `@example` (with this
 * package's TypeScript 5, first on the PATH) and runs it with tsx. Examples build programs and layers
 * without running them, so none reaches the network.
 */
import { spawnSync } from "node:child_process"
import { delimiter, dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const tools = dirname(fileURLToPath(import.meta.url))
const root = dirname(tools)
const packages = ["core", "http", "stream", "redis", "sql", "testing", "cli"]
// Only the packages named on the command line, if any: `pnpm docgen http`
const chosen = process.argv.slice(2).filter((arg) => !arg.startsWith("-"))
const env = { ...process.env, PATH: `${join(tools, "node_modules", ".bin")}${delimiter}${process.env.PATH ?? ""}` }

let failed = 0
for (const name of chosen.length > 0 ? chosen : packages) {
  console.log(`docgen: packages/${name}`)
  const result = spawnSync("docgen", [], {
    cwd: join(root, "packages", name),
    env,
    stdio: "inherit",
    shell: process.platform === "win32"
  })
  if (result.status !== 0) failed++
}
process.exit(failed === 0 ? 0 : 1)
