import { defineConfig } from "vitest/config"
import { alias, projects } from "./vitest.shared.js"

/** The conformance suite reads `../shared/testdata` (outside the repository); run it with `pnpm test:conformance`. */
export default defineConfig({
  resolve: { alias },
  test: {
    reporters: process.env.CI ? ["default", ["json", { outputFile: ".ci-results/conformance.json" }]] : ["default"],
    projects: projects.map((root) => ({
      extends: true,
      test: { name: `${root.split("/").pop()!}:conformance`, root, include: ["test/**/*.conformance.ts"] }
    }))
  }
})
