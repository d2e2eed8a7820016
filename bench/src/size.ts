/**
 * Bundle size of a "list every room" program: esbuild-minified, then gzipped.
 *
 * @since 0.1.0
 */
import { build } from "esbuild"
import { existsSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { gzipSync } from "node:zlib"

/** One bundled program. */
export interface SizeResult {
  readonly label: string
  readonly kind: "ours" | "ours-undici" | "sdk"
  readonly minifiedBytes: number
  readonly gzippedBytes: number
  /** Where the bundle was written (so it can be run). */
  readonly file: string
}

/** The programs, compiled by tsc into `dist/size/`. */
const programs = [
  { label: "chime-rooms (http + stream, FetchHttpClient)", kind: "ours", entry: "ours-fetch.js" },
  { label: "chime-rooms (http + stream, UndiciHttpClient + undici)", kind: "ours-undici", entry: "ours-undici.js" },
  { label: "@aws-sdk/client-chime (ChimeClient + paginateListRooms)", kind: "sdk", entry: "sdk.js" }
] as const

/** Bundles every program whose entry exists and measures it; bundles are written to `outDir`. */
export const measureSizes = async (distDir: string, outDir: string): Promise<Array<SizeResult>> => {
  mkdirSync(outDir, { recursive: true })
  const results: Array<SizeResult> = []
  for (const program of programs) {
    const entry = join(distDir, "size", program.entry)
    if (!existsSync(entry)) continue
    const out = await build({
      entryPoints: [entry],
      bundle: true,
      minify: true,
      platform: "node",
      format: "esm",
      target: "node20",
      write: false,
      logLevel: "silent"
    })
    const code = out.outputFiles[0]!.contents
    const file = join(outDir, program.entry.replace(/\.js$/, ".bundle.mjs"))
    writeFileSync(file, code)
    results.push({
      label: program.label,
      kind: program.kind,
      minifiedBytes: code.byteLength,
      gzippedBytes: gzipSync(code, { level: 9 }).byteLength,
      file
    })
  }
  return results
}
