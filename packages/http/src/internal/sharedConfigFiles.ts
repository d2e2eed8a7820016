/**
 * The AWS shared config files (`~/.aws/config`, `~/.aws/credentials`) read as `@smithy/core`'s
 * `loadSharedConfigFiles` and `parseIni` read them, for `ChimeConfig.loadInput`.
 *
 * Node's modules are imported when the files are read, not when this module loads: a program
 * that never reads them (no `layerConfig`) runs where there is no file system, and bundles none
 * of this (`sideEffects: false`).
 */
import * as Effect from "effect/Effect"

/** Sections by name, keys by name; a sub-section's keys read `sub.key`. */
export type IniData = Record<string, Record<string, string>>

/** What `loadSharedConfigFiles` returns: profiles by name (and `services.NAME` sections) of each file. */
export interface SharedConfigFiles {
  readonly configFile: IniData
  readonly credentialsFile: IniData
}

const SECTION_TYPES = ["profile", "sso-session", "services"]
const PREFIXED_SECTION = /^([\w-]+)\s(["'])?([\w-@+.%:/]+)\2$/
const BLOCKED_SECTIONS = ["__proto__", "profile __proto__"]

/** `parseIni` of `@smithy/core`: comments after `;`/`#`, `[type name]` sections, indented sub-sections. */
export const parseIni = (text: string): IniData => {
  const map: IniData = {}
  let section: string | undefined
  let subSection: string | undefined
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.split(/(^|\s)[;#]/)[0]!.trim()
    if (trimmed[0] === "[" && trimmed[trimmed.length - 1] === "]") {
      section = undefined
      subSection = undefined
      const name = trimmed.slice(1, -1)
      const prefixed = PREFIXED_SECTION.exec(name)
      if (prefixed !== null) {
        if (SECTION_TYPES.includes(prefixed[1]!)) section = `${prefixed[1]}.${prefixed[3]}`
      } else {
        section = name
      }
      if (BLOCKED_SECTIONS.includes(name)) throw new Error(`Found invalid profile name "${name}"`)
    } else if (section !== undefined) {
      const eq = trimmed.indexOf("=")
      if (eq > 0) {
        const key = trimmed.slice(0, eq).trim()
        const value = trimmed.slice(eq + 1).trim()
        if (value === "") {
          subSection = key
        } else {
          if (subSection !== undefined && line.trimStart() === line) subSection = undefined
          const values = Object.hasOwn(map, section) ? map[section]! : (map[section] = {})
          values[subSection === undefined ? key : `${subSection}.${key}`] = value
        }
      }
    }
  }
  return map
}

/**
 * The config file's sections as `getConfigData` keys them: `[profile NAME]` as `NAME`, `[default]`
 * as `default`, `[services NAME]` as `services.NAME`; other sections dropped.
 */
export const configData = (data: IniData): IniData => {
  const out: IniData = {}
  if (Object.hasOwn(data, "default")) out["default"] = data["default"]!
  for (const [key, value] of Object.entries(data)) {
    const dot = key.indexOf(".")
    if (dot === -1 || !SECTION_TYPES.includes(key.slice(0, dot))) continue
    out[key.slice(0, dot) === "profile" ? key.slice(dot + 1) : key] = value
  }
  return out
}

/** Where the files are and who the user is: the environment variables the SDK reads for them. */
export interface FileEnv {
  readonly AWS_CONFIG_FILE?: string | undefined
  readonly AWS_SHARED_CREDENTIALS_FILE?: string | undefined
  readonly HOME?: string | undefined
  readonly USERPROFILE?: string | undefined
  readonly HOMEPATH?: string | undefined
  readonly HOMEDRIVE?: string | undefined
}

/**
 * Reads and parses both files as `loadSharedConfigFiles` does: a missing, unreadable or
 * unparsable file counts as empty; `~/` at the start of a path is the home directory.
 */
export const loadSharedConfigFiles = (env: FileEnv): Effect.Effect<SharedConfigFiles> =>
  Effect.promise(async () => {
    let modules
    try {
      modules = await Promise.all([import("node:fs/promises"), import("node:os"), import("node:path")])
    } catch {
      // No Node file system (a browser, a worker): no files, as for a machine without them.
      return { configFile: {}, credentialsFile: {} }
    }
    const [fs, os, path] = modules
    const home = env.HOME || env.USERPROFILE ||
      (env.HOMEPATH ? `${env.HOMEDRIVE ?? `C:${path.sep}`}${env.HOMEPATH}` : os.homedir())
    const resolve = (file: string) => (file.startsWith("~/") ? path.join(home, file.slice(2)) : file)
    const read = (file: string) => fs.readFile(resolve(file), "utf8").then(parseIni).catch((): IniData => ({}))
    const [configFile, credentialsFile] = await Promise.all([
      read(env.AWS_CONFIG_FILE || path.join(home, ".aws", "config")).then(configData),
      read(env.AWS_SHARED_CREDENTIALS_FILE || path.join(home, ".aws", "credentials"))
    ])
    return { configFile, credentialsFile }
  })
