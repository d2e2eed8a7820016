import { fileURLToPath } from "node:url"

const pkg = (name: string) => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url))
const servers = (module: string) => fileURLToPath(new URL(`./servers/src/${module}.ts`, import.meta.url))

/** Tests run against the sources: workspace imports resolve to `src/`, not to the built `dist/`. */
export const alias = {
  "@chime-rooms/core": pkg("core"),
  "@chime-rooms/http": pkg("http"),
  "@chime-rooms/stream": pkg("stream"),
  "@chime-rooms/testing": pkg("testing"),
  "@chime-rooms/redis": pkg("redis"),
  "@chime-rooms/sql": pkg("sql"),
  "@chime-rooms/cli": pkg("cli"),
  // The modules before the index: an alias also matches the paths below its name, and the first one wins.
  "@chime-rooms/servers/Postgres": servers("Postgres"),
  "@chime-rooms/servers/Redis": servers("Redis"),
  "@chime-rooms/servers": servers("index")
}

export const projects = ["core", "http", "stream", "redis", "sql", "testing", "cli"].map((name) => `packages/${name}`)
  .concat(["servers", "examples"])
