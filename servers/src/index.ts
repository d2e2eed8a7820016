/**
 * Real servers for the tests and the benchmarks (private to the workspace).
 *
 * @since 0.3.0
 */
/**
 * PostgreSQL 15: `available`, `skipMessage`, `start`, `createDatabase`.
 *
 * @since 0.3.0
 */
export * as Postgres from "./Postgres.js"
