import { fileURLToPath } from "node:url"

const pkg = (name: string) => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url))

/** Tests run against the sources: workspace imports resolve to `src/`, not to the built `dist/`. */
export const alias = {
  "@chime-rooms/core": pkg("core"),
  "@chime-rooms/http": pkg("http"),
  "@chime-rooms/stream": pkg("stream"),
  "@chime-rooms/testing": pkg("testing"),
  "@chime-rooms/redis": pkg("redis"),
  "@chime-rooms/sql": pkg("sql"),
  "@chime-rooms/cli": pkg("cli"),
  "@chime-rooms/servers": fileURLToPath(new URL("./servers/src/index.ts", import.meta.url))
}

export const projects = ["core", "http", "stream", "redis", "sql", "testing", "cli"].map((name) => `packages/${name}`)
  .concat([
    "examples"
  ])
