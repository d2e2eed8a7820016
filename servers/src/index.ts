/**
 * Real servers for the tests and the benchmarks (private to the workspace). Each module checks at
 * import that its server is here (and throws under `CI=true` when it is not): import
 * `@chime-rooms/servers/Redis` or `@chime-rooms/servers/Postgres` to check only the one you need.
 *
 * @since 0.3.0
 */
/**
 * PostgreSQL 15: `available`, `skipMessage`, `start`, `createDatabase`.
 *
 * @since 0.3.0
 */
export * as Postgres from "./Postgres.js"
/**
 * `redis-server`: `available`, `skipMessage`, `start`.
 *
 * @since 0.3.0
 */
export * as Redis from "./Redis.js"
