/**
 * The plugins of the root `eslint.config.mjs`, imported from here because they are devDependencies of this
 * package, beside the TypeScript 5 their parser needs, and not of the root, whose TypeScript (7) has no
 * compiler API.
 */
export * as effectEslint from "@effect/eslint-plugin"
export { default as js } from "@eslint/js"
export { default as tseslint } from "typescript-eslint"
