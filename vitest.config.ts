import { defineConfig } from "vitest/config"
import { alias, projects } from "./vitest.shared.js"

export default defineConfig({
  resolve: { alias },
  test: {
    // In CI a JSON report as well, from which .ci/run prints its closing "N passed, N failed" line.
    reporters: process.env.CI ? ["default", ["json", { outputFile: ".ci-results/unit.json" }]] : ["default"],
    projects: projects.map((root) => ({
      extends: true,
      test: { name: root.split("/").pop()!, root, include: ["test/**/*.test.ts"] }
    }))
  }
})
