#!/usr/bin/env node
/**
 * `pnpm test:pack`: the packages as a user installs them.
 *
 * Builds, packs every public package under packages/ (`pnpm pack` rewrites `workspace:` ranges),
 * checks what each tarball holds, then creates a fresh project outside the workspace and installs
 * the tarballs there with npm twice: once with the lowest and once with the newest versions of
 * `effect` and `@effect/*` that the libraries' peer ranges allow, pinned in that project's
 * package.json, beside the app's own SQL driver (`appDependencies`). Each time it asserts one copy of
 * `effect` (and of every `@effect/*` and `@chime-rooms/*` package), typechecks a user's program
 * (scripts/pack-test/app.ts: the README's quick start on the emulator, then an export into SQLite)
 * with TypeScript 5 under NodeNext and under Bundler resolution, and runs it with node. An application (a package
 * with a `bin` that depends on effect itself: @chime-rooms/cli) is then installed alone in a project
 * of its own, as `npm i -g` would, and its command is run on its embedded emulator (`list`, and
 * `export` into SQLite, which loads the sql package and libsql only then).
 *
 * Needs the npm registry (npm's cache is reused). Exits 1 on the first failed check.
 * PACK_TEST_KEEP=1 keeps the temporary directory; it is also kept after a failure.
 */
import { spawnSync } from "node:child_process"
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const started = Date.now()
const timings = []
let checks = 0

class CheckFailed extends Error {}

const fail = (message) => {
  throw new CheckFailed(message)
}

const ok = (message) => {
  checks++
  console.log(`  ok  ${message}`)
}

const step = (title) => {
  timings.push({ title, at: Date.now() })
  console.log(`\n== ${title}`)
}

// pnpm hands its own settings to scripts as npm_config_* (its global rc as npm's globalconfig,
// `reporter`, ...): npm in the user's project must see only the settings that reach a registry.
const npmEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => {
    const k = key.toLowerCase()
    if (k.startsWith("pnpm_")) return false
    if (!k.startsWith("npm_")) return true
    const kept = "registry|cafile|ca|cert|key|cache|userconfig|proxy|https_proxy|noproxy|strict_ssl|@.*:registry"
    return new RegExp(`^npm_config_(${kept})$`).test(k)
  })
)

/** Runs a command; its output is shown unless `capture`, and a non-zero exit fails the run. */
const run = (command, args, { cwd = root, capture = false, env = process.env, allowFailure = false } = {}) => {
  console.log(`  $ ${command} ${args.join(" ")}${cwd === root ? "" : `   (in ${cwd})`}`)
  const result = spawnSync(command, args, {
    cwd,
    env,
    encoding: "utf8",
    stdio: capture ? ["ignore", "pipe", "pipe"] : "inherit",
    maxBuffer: 64 * 1024 * 1024
  })
  if (result.error) fail(`${command}: ${result.error.message}`)
  if (result.status !== 0 && !allowFailure) {
    if (capture) process.stderr.write(result.stderr ?? "")
    fail(`${command} ${args.join(" ")} exited with ${result.status}`)
  }
  return result
}

const readJson = (file) => JSON.parse(fs.readFileSync(file, "utf8"))

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** `a` and `b` as release versions `x.y.z` (npm view leaves prereleases out of a range). */
const compareVersions = (a, b) => {
  const pa = a.split(/[.+-]/).slice(0, 3).map(Number)
  const pb = b.split(/[.+-]/).slice(0, 3).map(Number)
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i]
  return 0
}

/** The published versions of `name` matching `range`, as npm resolves them. */
const versionsMatching = (name, range) => {
  const { stdout } = run("npm", ["view", `${name}@${range}`, "version", "--json"], { capture: true, env: npmEnv })
  const parsed = stdout.trim() === "" ? [] : JSON.parse(stdout)
  return Array.isArray(parsed) ? parsed : [parsed]
}

/** Every package.json under `dir`'s node_modules trees, by package name. */
const installedCopies = (dir) => {
  const copies = new Map()
  const visit = (nodeModules) => {
    if (!fs.existsSync(nodeModules)) return
    for (const entry of fs.readdirSync(nodeModules)) {
      if (entry.startsWith(".")) continue
      const entryPath = path.join(nodeModules, entry)
      const packageDirs = entry.startsWith("@")
        ? fs.readdirSync(entryPath).map((scoped) => path.join(entryPath, scoped))
        : [entryPath]
      for (const packageDir of packageDirs) {
        const manifest = path.join(packageDir, "package.json")
        if (fs.existsSync(manifest)) {
          const { name, version } = readJson(manifest)
          if (!copies.has(name)) copies.set(name, [])
          copies.get(name).push({ version, at: path.relative(dir, packageDir) })
        }
        visit(path.join(packageDir, "node_modules"))
      }
    }
  }
  visit(path.join(dir, "node_modules"))
  return copies
}

// What a tarball may hold: the package's face, its build, the sources its maps point to.
const allowed = /^(package\.json|README\.md|LICENSE|dist\/.+|src\/.+)$/
const forbidden = [
  { re: /\.tsbuildinfo$/, what: "TypeScript build info" },
  { re: /(^|\/)(test|tests|__tests__)\//, what: "a test directory" },
  { re: /\.(test|spec)\.[^/]+$/, what: "a test file" }
]

const checkTarball = (pkg, tarball, extracted) => {
  const listing = run("tar", ["tzf", tarball], { capture: true }).stdout.split("\n").filter((line) => line !== "")
  const outside = listing.filter((entry) => !entry.startsWith("package/"))
  if (outside.length > 0) fail(`${pkg.name}: entries outside package/: ${outside.join(", ")}`)
  const files = listing.map((entry) => entry.slice("package/".length)).filter((entry) => !entry.endsWith("/"))
  const has = new Set(files)
  pkg.files = files
  console.log(`  ${files.length} files: ${summarize(files)}`)

  for (const required of ["package.json", "README.md", "LICENSE"]) {
    if (!has.has(required)) fail(`${pkg.name}: no ${required} in the tarball`)
  }
  ok("package.json, README.md and LICENSE are in")
  const stray = files.filter((file) => !allowed.test(file))
  if (stray.length > 0) fail(`${pkg.name}: files outside dist/ and src/: ${stray.join(", ")}`)
  ok("nothing else outside dist/ and src/")
  for (const { re, what } of forbidden) {
    const found = files.filter((file) => re.test(file))
    if (found.length > 0) fail(`${pkg.name}: ${what} in the tarball: ${found.join(", ")}`)
  }
  ok("no .tsbuildinfo, no tests")

  const js = files.filter((file) => file.startsWith("dist/") && file.endsWith(".js"))
  if (js.length === 0) fail(`${pkg.name}: no JavaScript under dist/`)
  for (const file of js) {
    const base = file.slice(0, -".js".length)
    for (const companion of [`${file}.map`, `${base}.d.ts`, `${base}.d.ts.map`]) {
      if (!has.has(companion)) fail(`${pkg.name}: ${file} has no ${companion}`)
    }
  }
  ok(`each of the ${js.length} dist/*.js has its .js.map, .d.ts and .d.ts.map`)

  let sources = 0
  for (const map of files.filter((file) => file.endsWith(".map"))) {
    const { sources: mapSources = [], sourceRoot = "" } = readJson(path.join(extracted, map))
    for (const source of mapSources) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(map), sourceRoot, source))
      if (!has.has(target)) fail(`${pkg.name}: ${map} points to ${source}, which is not in the tarball`)
      sources++
    }
  }
  ok(`every source map's sources are in the tarball (${sources} references)`)

  const license = fs.readFileSync(path.join(extracted, "LICENSE"), "utf8")
  if (!/Apache License\s+Version 2\.0, January 2004/.test(license)) fail(`${pkg.name}: LICENSE is not Apache-2.0`)
  const manifest = readJson(path.join(extracted, "package.json"))
  if (manifest.license !== "Apache-2.0") fail(`${pkg.name}: license is ${manifest.license}, LICENSE says Apache-2.0`)
  ok("LICENSE holds the Apache License 2.0, as package.json says")

  if (JSON.stringify(manifest).includes("workspace:")) fail(`${pkg.name}: the packed package.json says workspace:`)
  if (!manifest.repository?.url || !manifest.repository?.directory) fail(`${pkg.name}: no repository url and directory`)
  if (!Array.isArray(manifest.keywords) || manifest.keywords.length === 0) fail(`${pkg.name}: no keywords`)
  if (!manifest.engines?.node) fail(`${pkg.name}: no engines.node`)
  ok(`packed package.json: no workspace: ranges; repository, keywords, engines (node ${manifest.engines.node})`)

  const targets = []
  const collect = (value) => {
    if (typeof value === "string") targets.push(value)
    else if (value && typeof value === "object") Object.values(value).forEach(collect)
  }
  collect(manifest.exports)
  collect(manifest.bin)
  for (const target of targets) {
    const normal = path.posix.normalize(target)
    // A subpath pattern ("./dist/*.js") must match at least one file of the tarball.
    const found = normal.includes("*")
      ? files.some((file) => new RegExp(`^${normal.split("*").map(escapeRegExp).join("[^]+")}$`).test(file))
      : has.has(normal)
    if (!found) fail(`${pkg.name}: exports/bin name ${target}, not in the tarball`)
  }
  ok(`the ${targets.length} exports/bin targets are in the tarball`)

  if (pkg.library) {
    // Programs live in the CLI (an application) and in bench/, never in a library.
    const programs = files.filter((file) => /^(dist|src)\/bin\//.test(file))
    if (manifest.bin !== undefined || programs.length > 0) {
      fail(`${pkg.name}: a library ships no program: ${[...Object.keys(manifest.bin ?? {}), ...programs].join(", ")}`)
    }
    ok("a library: no bin, nothing under dist/bin or src/bin")
    const runtime = Object.keys(manifest.dependencies ?? {})
    const shared = runtime.filter((name) => /^(effect$|@effect\/|@chime-rooms\/)/.test(name))
    if (shared.length > 0) fail(`${pkg.name}: ${shared.join(", ")} must be peerDependencies, not dependencies`)
    if (manifest.peerDependencies?.effect === undefined) fail(`${pkg.name}: effect is not among its peerDependencies`)
    ok(`peerDependencies: ${Object.entries(manifest.peerDependencies).map(([n, r]) => `${n} ${r}`).join(", ")}`)
  }
  pkg.manifest = manifest
}

/** A tarball's files shortened for the log: the top-level files, then each directory with its count. */
const summarize = (files) => {
  const groups = new Map()
  for (const file of files) {
    const dir = file.includes("/") ? file.slice(0, file.indexOf("/")) : "."
    groups.set(dir, (groups.get(dir) ?? 0) + 1)
  }
  const top = files.filter((file) => !file.includes("/")).join(" ")
  return [...groups].map(([dir, n]) => (dir === "." ? top : `${dir}/ (${n})`)).join(", ")
}

// skipLibCheck off: every declaration file the program reaches is checked by TypeScript 5, ours
// (built by TypeScript 7) included. @effect/platform's own declarations name DOM types (Storage,
// MessagePort), hence the DOM lib, as in Effect's recommended tsconfig.
const tsconfigs = {
  nodenext: {
    compilerOptions: {
      target: "ES2022",
      lib: ["ES2022", "DOM"],
      module: "NodeNext",
      moduleResolution: "NodeNext",
      types: ["node"],
      strict: true,
      skipLibCheck: false,
      outDir: "dist",
      rootDir: "src"
    },
    include: ["src"]
  },
  bundler: {
    compilerOptions: {
      target: "ES2022",
      lib: ["ES2022", "DOM"],
      module: "Preserve",
      moduleResolution: "Bundler",
      types: ["node"],
      strict: true,
      skipLibCheck: false,
      noEmit: true
    },
    include: ["src"]
  }
}

/**
 * What the user's program depends on besides our libraries and the pinned peers: a driver for
 * `@chime-rooms/sql`, which npm must fit to the pinned `effect`, `@effect/platform` and `@effect/sql`
 * (its peer `@effect/experimental` comes with it, one copy).
 */
const appDependencies = { "@effect/sql-libsql": "~0.42.0" }

const installAndRun = (work, variant, pins, libraries) => {
  const app = path.join(work, `app-${variant}`)
  fs.mkdirSync(path.join(app, "src"), { recursive: true })
  const dependencies = { ...pins, ...appDependencies }
  for (const pkg of libraries) dependencies[pkg.name] = `file:${path.relative(app, pkg.tarball)}`
  fs.writeFileSync(
    path.join(app, "package.json"),
    JSON.stringify(
      {
        name: `chime-rooms-pack-test-${variant}`,
        version: "0.0.0",
        private: true,
        type: "module",
        dependencies,
        devDependencies: { typescript: "5", "@types/node": "20" }
      },
      null,
      2
    ) + "\n"
  )
  fs.copyFileSync(path.join(root, "scripts/pack-test/app.ts"), path.join(app, "src/main.ts"))
  for (const [name, config] of Object.entries(tsconfigs)) {
    fs.writeFileSync(path.join(app, `tsconfig.${name}.json`), JSON.stringify(config, null, 2) + "\n")
  }
  console.log(`  project ${app}, pinned: ${Object.entries(pins).map(([n, v]) => `${n}@${v}`).join(" ")}`)
  console.log(`  and: ${Object.entries(appDependencies).map(([n, r]) => `${n}@${r}`).join(" ")}`)

  run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--strict-peer-deps", "--loglevel=warn"], {
    cwd: app,
    env: npmEnv
  })
  ok("npm install with --strict-peer-deps: every peer range is satisfied")
  run("npm", ["ls", "--all"], { cwd: app, env: npmEnv, capture: true })
  ok("npm ls --all: no missing, invalid or extraneous package")

  const copies = installedCopies(app)
  // Everything of Effect's and ours, whoever brought it (the driver's peers included), once.
  const shared = [...copies.keys()].filter((name) => /^(effect$|@effect\/|@chime-rooms\/)/.test(name))
  const expected = [...Object.keys(pins), ...Object.keys(appDependencies), ...libraries.map((pkg) => pkg.name)]
  for (const name of new Set([...expected, ...shared])) {
    const found = copies.get(name) ?? []
    const where = found.map((copy) => `${copy.version} at ${copy.at}`).join("; ")
    if (found.length !== 1) fail(`${found.length} copies of ${name}: ${where}`)
    if (pins[name] !== undefined && found[0].version !== pins[name]) fail(`${name} is ${where}, pinned ${pins[name]}`)
  }
  const effect = copies.get("effect")[0]
  const others = [...new Set([...expected, ...shared])].filter((name) => name !== "effect").sort()
    .map((name) => `${name} ${copies.get(name)[0].version}`)
  ok(`exactly one copy of effect (${effect.version} at ${effect.at}), and one of each of ${others.join(", ")}`)

  const tsc = path.join(app, "node_modules/typescript/bin/tsc")
  const tsVersion = run("node", [tsc, "--version"], { cwd: app, capture: true }).stdout.trim()
  for (const name of Object.keys(tsconfigs)) {
    run("node", [tsc, "-p", `tsconfig.${name}.json`], { cwd: app })
    ok(`${tsVersion} typechecks src/main.ts under ${tsconfigs[name].compilerOptions.moduleResolution} resolution`)
  }

  // Room names are never printed (they are sensitive): only counts and the summary lines.
  const result = run("node", ["dist/main.js"], { cwd: app, capture: true, allowFailure: true, env: npmEnv })
  const lines = result.stdout.split("\n").filter((line) => line !== "")
  const roomLines = lines.filter((line) => /^[0-9a-f-]{36} /.test(line))
  const ids = new Set(roomLines.map((line) => line.slice(0, 36)))
  if (result.status !== 0) {
    process.stderr.write(result.stderr)
    fail(`node dist/main.js exited with ${result.status} after ${roomLines.length} rooms`)
  }
  if (result.stderr.trim() !== "") {
    process.stderr.write(result.stderr)
    fail("node dist/main.js wrote to stderr (a mixed-versions warning of Effect, or an error)")
  }
  if (
    !lines.includes("25 rooms") || !lines.includes("25 rooms over fetch") || ids.size !== 25 ||
    !lines.includes("exported 25 rooms")
  ) {
    fail(`node dist/main.js listed ${ids.size} distinct rooms; its summary: ${
      lines.filter((l) =>
        /rooms/.test(l) &&
        !roomLines.includes(l)
      ).join(" / ")
    }`)
  }
  ok(`node dist/main.js lists 25 distinct rooms from the emulator ("25 rooms", "25 rooms over fetch"), stderr empty`)
  ok(
    `node dist/main.js exports them with @chime-rooms/sql into SQLite through @effect/sql-libsql ("exported 25 rooms")`
  )
}

/**
 * An application installed as `npm i -g` would: in a fresh project, its own dependencies (effect
 * among them) resolved by npm, nothing pinned. The `@chime-rooms/*` libraries it needs are not
 * published yet, so their tarballs are installed beside it, where npm finds them for its ranges
 * (`overrides` to file: specs trips npm over the libraries' peer on core).
 */
const installApplication = (work, application, libraries) => {
  const app = path.join(work, `app-${application.dir}`)
  fs.mkdirSync(app, { recursive: true })
  const tarballOf = (pkg) => `file:${path.relative(app, pkg.tarball)}`
  fs.writeFileSync(
    path.join(app, "package.json"),
    JSON.stringify(
      {
        name: `chime-rooms-pack-test-${application.dir}`,
        version: "0.0.0",
        private: true,
        dependencies: Object.fromEntries([application, ...libraries].map((pkg) => [pkg.name, tarballOf(pkg)]))
      },
      null,
      2
    ) + "\n"
  )
  run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--strict-peer-deps", "--loglevel=warn"], {
    cwd: app,
    env: npmEnv
  })
  ok(`npm install ${application.name} with --strict-peer-deps: its dependencies satisfy every peer`)
  const copies = installedCopies(app)
  for (const name of ["effect", "@effect/platform", ...libraries.map((pkg) => pkg.name)]) {
    const found = copies.get(name) ?? []
    if (found.length !== 1) fail(`${found.length} copies of ${name}: ${found.map((c) => c.at).join("; ")}`)
  }
  ok(`one copy of effect (${copies.get("effect")[0].version}), of @effect/platform and of each library`)

  for (const [command, target] of Object.entries(application.manifest.bin ?? {})) {
    const bin = path.join(app, "node_modules/.bin", command)
    if (!fs.existsSync(bin)) fail(`npm linked no ${command} into node_modules/.bin`)
    const help = run(bin, ["--help"], { cwd: app, capture: true, env: npmEnv })
    if (!/list/.test(help.stdout) || !/emulator/.test(help.stdout)) fail(`${command} --help names no subcommands`)
    ok(`${command} (${target}) --help exits 0 and names its subcommands`)
    // The embedded emulator's rooms as CSV: a header and one line per room; the count is the summary's.
    const listed = run(bin, ["list", "--format", "csv", "--max-results", "50"], {
      cwd: app,
      capture: true,
      env: npmEnv
    })
    const rows = listed.stdout.split("\r\n").filter((line) => line !== "")
    const summary = /(\d[\d,]*) rooms in (\d+) pages/.exec(listed.stderr)
    if (rows[0] !== "AccountId,CreatedBy,CreatedTimestamp,Name,RoomId,UpdatedTimestamp") {
      fail(`${command}: no CSV header`)
    }
    if (!summary || Number(summary[1].replaceAll(",", "")) !== rows.length - 1 || rows.length < 2) {
      fail(`${command} list printed ${rows.length - 1} rows; its summary: ${summary?.[0] ?? "none"}`)
    }
    ok(`${command} list --format csv exits 0 with ${summary[0]} on the embedded emulator, a row each`)
    const usage = run(bin, ["list", "--max-results", "0"], { cwd: app, capture: true, env: npmEnv, allowFailure: true })
    if (usage.status !== 2) fail(`${command} list --max-results 0 exited with ${usage.status}, not 2`)
    ok(`${command} list --max-results 0 exits 2`)
    // `--redis` loads @chime-rooms/redis when used: from the installed tarballs it must resolve and
    // build its limiter, which fails as typed where nothing listens (no redis-server needed).
    const redis = run(
      bin,
      ["list", "--live", "--account", "a", "--endpoint", "http://127.0.0.1:9", "--redis", "redis://127.0.0.1:9"],
      {
        cwd: app,
        capture: true,
        allowFailure: true,
        env: {
          ...npmEnv,
          AWS_ACCESS_KEY_ID: "AKIDPACKTEST",
          AWS_SECRET_ACCESS_KEY: "pack-test",
          AWS_CONFIG_FILE: "/nonexistent/config",
          AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials"
        }
      }
    )
    if (
      redis.status !== 1 ||
      !/^Error: RateLimiterError \(request id none\): Redis at 127\.0\.0\.1:9 /m.test(redis.stderr)
    ) {
      process.stderr.write(redis.stderr)
      fail(`${command} list --live --redis exited with ${redis.status}, without the RateLimiterError line`)
    }
    ok(`${command} list --live --redis loads @chime-rooms/redis; nothing listening: exit 1, a RateLimiterError`)
    // `export` loads @chime-rooms/sql and the SQLite driver when it runs: from the installed tarballs
    // they must resolve, libsql's native part included.
    const exported = run(bin, ["export", "--database", "sqlite:rooms.db", "--concurrency", "3"], {
      cwd: app,
      capture: true,
      allowFailure: true,
      env: npmEnv
    })
    const stored = exported.stderr.split("\n").filter((line) => / rooms stored \(snapshot 1\) /.test(line))
    if (exported.status !== 0 || stored.length !== 3 || !fs.existsSync(path.join(app, "rooms.db"))) {
      process.stderr.write(exported.stderr)
      fail(`${command} export exited with ${exported.status}, ${stored.length} accounts stored`)
    }
    ok(`${command} export --database sqlite:rooms.db loads @chime-rooms/sql and libsql: the 3 accounts stored`)
  }
}

const main = () => {
  // From clean: tsc -b (even --clean) leaves the output of a source that was removed or renamed,
  // which would be packed.
  step("build from clean")
  for (const dir of fs.readdirSync(path.join(root, "packages"))) {
    fs.rmSync(path.join(root, "packages", dir, "dist"), { recursive: true, force: true })
  }
  run("pnpm", ["-s", "build"])

  step("pack every public package")
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "chime-rooms-pack-"))
  for (let dir = work; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "pnpm-workspace.yaml")) || fs.existsSync(path.join(dir, "package.json"))) {
      fail(`the temporary directory ${work} lies inside a project (${dir}): set TMPDIR elsewhere`)
    }
  }
  console.log(`  working in ${work}`)
  const tarballs = path.join(work, "tarballs")
  const packages = []
  for (const dir of fs.readdirSync(path.join(root, "packages")).sort()) {
    const manifestPath = path.join(root, "packages", dir, "package.json")
    if (!fs.existsSync(manifestPath)) continue
    const manifest = readJson(manifestPath)
    if (manifest.private) continue
    // An application (a command: `bin`, and effect among its dependencies) brings its own effect;
    // every other package is a library, which must share the app's.
    const library = !(manifest.bin !== undefined && manifest.dependencies?.effect !== undefined)
    const cwd = path.join(root, "packages", dir)
    const packing = run("pnpm", ["pack", "--pack-destination", tarballs, "--json"], { cwd, capture: true })
    const packed = JSON.parse(packing.stdout)
    packages.push({ name: manifest.name, dir, library, tarball: packed.filename })
    const kind = library ? "library: effect is a peer" : "application"
    console.log(`  ${manifest.name} (${kind}) -> ${path.basename(packed.filename)}`)
  }
  if (packages.length === 0) fail("no public package under packages/")

  step("check what each tarball holds")
  for (const pkg of packages) {
    console.log(`\n  ${pkg.name}`)
    const extracted = path.join(work, "extracted", pkg.dir)
    fs.mkdirSync(extracted, { recursive: true })
    run("tar", ["xzf", pkg.tarball, "-C", extracted, "--strip-components=1"], { capture: true })
    checkTarball(pkg, pkg.tarball, extracted)
  }

  step("the lowest and newest versions the peer ranges allow")
  const libraries = packages.filter((pkg) => pkg.library)
  const ranges = new Map()
  for (const pkg of libraries) {
    for (const [name, range] of Object.entries(pkg.manifest.peerDependencies)) {
      if (name.startsWith("@chime-rooms/")) {
        const local = packages.find((other) => other.name === name)
        if (!local) fail(`${pkg.name} needs ${name}, which is not a package of the workspace`)
        continue
      }
      if (!ranges.has(name)) ranges.set(name, new Set())
      ranges.get(name).add(range)
    }
  }
  const lowest = {}
  const newest = {}
  const effectFirst = ([a], [b]) => (a === "effect" ? -1 : b === "effect" ? 1 : a.localeCompare(b))
  for (const [name, declared] of [...ranges].sort(effectFirst)) {
    let candidates
    for (const range of declared) {
      const matching = versionsMatching(name, range)
      candidates = candidates === undefined ? matching : candidates.filter((version) => matching.includes(version))
    }
    candidates.sort(compareVersions)
    if (candidates.length === 0) fail(`no published ${name} satisfies ${[...declared].join(" and ")}`)
    lowest[name] = candidates[0]
    newest[name] = candidates[candidates.length - 1]
    const found = `${candidates.length} versions, lowest ${lowest[name]}, newest ${newest[name]}`
    console.log(`  ${name} ${[...declared].join(" and ")}: ${found}`)
  }
  if (lowest.effect === undefined) fail("no library declares effect as a peer")

  for (const [variant, pins] of [["lowest", lowest], ["newest", newest]]) {
    step(`install into a fresh project, ${variant} versions`)
    installAndRun(work, variant, pins, libraries)
  }

  for (const application of packages.filter((pkg) => !pkg.library)) {
    step(`install ${application.name} alone, as npm i -g would`)
    installApplication(work, application, libraries)
  }
  timings.push({ title: "end", at: Date.now() })
  console.log("\n== times")
  for (let i = 0; i + 1 < timings.length; i++) {
    console.log(`  ${((timings[i + 1].at - timings[i].at) / 1000).toFixed(1).padStart(6)} s  ${timings[i].title}`)
  }
  if (process.env.PACK_TEST_KEEP === "1") console.log(`  kept ${work}`)
  else fs.rmSync(work, { recursive: true, force: true })
  console.log(`\npack test: ${checks} checks passed in ${((Date.now() - started) / 1000).toFixed(1)} s`)
}

try {
  main()
} catch (error) {
  if (!(error instanceof CheckFailed)) throw error
  console.error(`\npack test FAILED: ${error.message}`)
  console.error("(the temporary directory is kept for inspection: see \"working in\" above)")
  process.exitCode = 1
}
