import { defineConfig } from "vitest/config"
import { alias, projects } from "./vitest.shared.js"

export default defineConfig({
  resolve: { alias },
  test: {
    projects: projects.map((root) => ({
      extends: true,
      test: { name: root.split("/").pop()!, root, include: ["test/**/*.test.ts"] }
    }))
  }
})
