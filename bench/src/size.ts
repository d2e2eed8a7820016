/**
 * Bundle size of a "list every room" program: esbuild-minified, then gzipped. Used by the bench's
 * size section and by `pnpm test:size` (`sizeCheck.ts`), which fails when a target is missed.
 *
 * @since 0.1.0
 */
import { build, type Metafile, type Plugin } from "esbuild"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { gzipSync } from "node:zlib"

/**
 * Which program a row bundles.
 *
 * @since 0.1.0
 */
export type SizeKind = "ours" | "ours-undici" | "plain-effect" | "sdk"

/**
 * One bundled program.
 *
 * @since 0.1.0
 */
export interface SizeResult {
  readonly label: string
  readonly kind: SizeKind
  /** `true` for the variant whose `effect` imports were rewritten to module paths. */
  readonly modulePaths: boolean
  readonly minifiedBytes: number
  readonly gzippedBytes: number
  /** Where the bundle was written (so it can be run). */
  readonly file: string
  /** Bytes in the minified output per package (`effect`, `@smithy/core`, `packages/http`…), largest first. */
  readonly packages: ReadonlyArray<readonly [string, number]>
  /** Bytes in the minified output per input file (paths as esbuild gives them), largest first. */
  readonly files: ReadonlyArray<readonly [string, number]>
}

/**
 * The settings every row is bundled with, as the issue that set the target states them.
 *
 * @since 0.1.0
 */
export const settings = {
  bundle: true,
  minify: true,
  platform: "node",
  format: "esm",
  target: "node20",
  mainFields: ["module", "main"]
} as const

/**
 * How much more than plain Effect doing the same job our FetchHttpClient program may weigh, gzipped.
 *
 * @since 0.1.0
 */
export const overPlainEffectTarget = 30 * 1024

/** The programs, compiled by tsc into `dist/size/`. */
const programs = [
  { label: "chime-rooms (http + stream, FetchHttpClient, Credentials.layerEnv)", kind: "ours", entry: "ours-fetch.js" },
  { label: "chime-rooms (http + stream, UndiciHttpClient + undici)", kind: "ours-undici", entry: "ours-undici.js" },
  {
    label: "plain Effect + FetchHttpClient, the same job by hand (Schema decode, Stream pagination, retries, SigV4)",
    kind: "plain-effect",
    entry: "plain-effect.js"
  },
  { label: "@aws-sdk/client-chime (ChimeClient + paginateListRooms)", kind: "sdk", entry: "sdk.js" }
] as const

/** The programs measured a second time with their own `effect` imports by module path. */
const modulePathKinds: ReadonlySet<SizeKind> = new Set(["ours", "plain-effect"])

/**
 * Rewrites the programs' own `import { A, B } from "effect"` into `import * as A from "effect/A"`
 * (what Effect's own packages write). esbuild keeps every member of an `export * as` namespace a
 * program touches, so the index form keeps all of `Effect`, `Stream`, `Schema`…; the module-path
 * form keeps only what is used. Only the files under `dist/size/` are rewritten: the libraries
 * are bundled as they are published.
 */
const modulePathImports = (sizeDir: string): Plugin => ({
  name: "effect-module-paths",
  setup(b) {
    const escaped = sizeDir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    b.onLoad({ filter: new RegExp(`^${escaped}[\\\\/][^\\\\/]+\\.js$`) }, (args) => {
      const source = readFileSync(args.path, "utf8")
      const contents = source.replace(
        /import \{([^}]+)\} from "effect";/g,
        (_, names: string) =>
          names.split(",").map((n) => n.trim()).filter((n) => n !== "").map((n) =>
            `import * as ${n} from "effect/${n}";`
          )
            .join("\n")
      )
      return { contents, loader: "js" }
    })
  }
})

/** Bytes in the output per package, from esbuild's metafile. */
const byPackage = (metafile: Metafile): Array<readonly [string, number]> => {
  const totals = new Map<string, number>()
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const dependency = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(path)
      const workspace = /(packages\/[^/]+|bench)\//.exec(path)
      const key = dependency?.[1] ?? workspace?.[1] ?? path
      totals.set(key, (totals.get(key) ?? 0) + bytesInOutput)
    }
  }
  return [...totals].sort((a, b) => b[1] - a[1])
}

/**
 * Bundles every program whose entry exists and measures it; bundles are written to `outDir`.
 *
 * @since 0.1.0
 */
export const measureSizes = async (distDir: string, outDir: string): Promise<Array<SizeResult>> => {
  mkdirSync(outDir, { recursive: true })
  const sizeDir = join(distDir, "size")
  const results: Array<SizeResult> = []
  for (const modulePaths of [false, true]) {
    for (const program of programs) {
      const entry = join(sizeDir, program.entry)
      if (!existsSync(entry) || (modulePaths && !modulePathKinds.has(program.kind))) continue
      const out = await build({
        ...settings,
        mainFields: [...settings.mainFields],
        entryPoints: [entry],
        plugins: modulePaths ? [modulePathImports(sizeDir)] : [],
        metafile: true,
        write: false,
        logLevel: "silent"
      })
      const code = out.outputFiles[0]!.contents
      const file = join(
        outDir,
        program.entry.replace(/\.js$/, modulePaths ? ".module-paths.bundle.mjs" : ".bundle.mjs")
      )
      writeFileSync(file, code)
      results.push({
        label: program.label,
        kind: program.kind,
        modulePaths,
        minifiedBytes: code.byteLength,
        gzippedBytes: gzipSync(code, { level: 9 }).byteLength,
        file,
        packages: byPackage(out.metafile),
        files: Object.values(out.metafile.outputs).flatMap((o) =>
          Object.entries(o.inputs).map(([path, { bytesInOutput }]) => [path, bytesInOutput] as const)
        ).filter(([, bytes]) => bytes > 0).sort((a, b) => b[1] - a[1])
      })
    }
  }
  return results
}

/**
 * The target of a row: ours over FetchHttpClient against plain Effect in the same import style.
 * `undefined` for rows held to none.
 *
 * @since 0.1.0
 */
export const targetOf = (
  result: SizeResult,
  results: ReadonlyArray<SizeResult>
): { readonly limit: number; readonly pass: boolean } | undefined => {
  if (result.kind !== "ours") return undefined
  const plain = results.find((r) => r.kind === "plain-effect" && r.modulePaths === result.modulePaths)
  if (plain === undefined) return undefined
  const limit = plain.gzippedBytes + overPlainEffectTarget
  return { limit, pass: result.gzippedBytes <= limit }
}
