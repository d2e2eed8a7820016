/**
 * `pnpm test:size`: bundles the size table's programs as the bench does and fails (exit code 1)
 * when our FetchHttpClient program weighs more than plain Effect doing the same job plus
 * `overPlainEffectTarget` gzipped, in either import style, or when its bundle holds what it has no
 * use for: the AWS default credential chain (`@aws-sdk/*`, `@smithy/core`), `undici` or our
 * `UndiciHttpClient`'s machinery and fast path, `fast-check`. Sizes are deterministic for a given
 * lockfile, so this is an exact check.
 *
 * @since 0.1.0
 */
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { measureSizes, overPlainEffectTarget, targetOf } from "./size.js"
import { int } from "./stats.js"

const distDir = dirname(fileURLToPath(import.meta.url))
const outDir = join(dirname(distDir), ".bench-tmp", "size")

/** Packages a FetchHttpClient + `Credentials.layerEnv` program must not carry. */
const unwanted = [/^@aws-sdk\//, /^@smithy\//, /^undici$/, /^fast-check$/, /^pure-rand$/]
/** Nor these modules of ours: `UndiciHttpClient`'s machinery and `HttpChimeRooms`' fast path over it. */
const unwantedFiles = [/packages\/http\/dist\/(UndiciHttpClient|CredentialsChain|internal\/(undici|fastPath))\.js$/]

const results = await measureSizes(distDir, outDir)
const failures: Array<string> = []
for (const kind of ["ours", "plain-effect"] as const) {
  for (const modulePaths of [false, true]) {
    if (!results.some((r) => r.kind === kind && r.modulePaths === modulePaths)) {
      failures.push(`no ${kind} program measured${modulePaths ? " with module paths" : ""} (is bench built?)`)
    }
  }
}
for (const r of results) {
  const name = `${r.label}${r.modulePaths ? ", effect by module path" : ""}`
  const target = targetOf(r, results)
  process.stdout.write(
    `${int(r.gzippedBytes).padStart(9)} B gzipped  ${name}` +
      (target === undefined ? "" : `  (target ≤ ${int(target.limit)}: ${target.pass ? "met" : "MISSED"})`) + "\n"
  )
  if (target !== undefined && !target.pass) {
    failures.push(
      `${name}: ${int(r.gzippedBytes)} B gzipped, over plain Effect + ${int(overPlainEffectTarget)} B ` +
        `(${int(target.limit)}) by ${int(r.gzippedBytes - target.limit)} B`
    )
  }
  if (r.kind === "ours") {
    for (const [pkg, bytes] of r.packages) {
      if (unwanted.some((re) => re.test(pkg))) failures.push(`${name}: bundles ${pkg} (${int(bytes)} B minified)`)
    }
    for (const [file, bytes] of r.files) {
      if (unwantedFiles.some((re) => re.test(file))) {
        failures.push(`${name}: bundles ${file} (${int(bytes)} B minified)`)
      }
    }
  }
}
if (failures.length > 0) {
  process.stderr.write(`\nbundle size: ${failures.length} failure(s)\n${failures.map((f) => `  - ${f}`).join("\n")}\n`)
  process.exitCode = 1
} else {
  process.stdout.write("bundle size: every target met\n")
}
