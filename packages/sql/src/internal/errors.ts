import type { SqlError } from "@effect/sql/SqlError"
import { ExportStoreError } from "../SqlExportError.js"
import { scrub } from "./rows.js"

const fieldOf = (value: unknown, field: string): unknown =>
  typeof value === "object" && value !== null && field in value ? (value as Record<string, unknown>)[field] : undefined

/** The database's own code of a driver error: PostgreSQL's SQLSTATE, SQLite's `SQLITE_…`. */
export const codeOf = (error: SqlError): string | undefined => {
  const code = fieldOf(error.cause, "code")
  return typeof code === "string" ? code : undefined
}

/**
 * Whether a failure is the database saying "not now": SQLite's lock held by another connection
 * or process, PostgreSQL's serialization failures, deadlocks and lock timeouts. The transaction
 * changed nothing; running it again is safe.
 */
export const isBusy = (error: SqlError): boolean =>
  // libsql begins a transaction while holding its client's lock, and a failure there keeps the
  // lock: every later statement of that client would wait for good, so it is not tried again.
  error.message !== "Failed to begin transaction" && isBusyCode(codeOf(error))

/** {@link isBusy} of a database's error code. */
export const isBusyCode = (code: string | undefined): boolean =>
  code !== undefined && /^(SQLITE_BUSY|SQLITE_LOCKED|40001$|40P01$|55P03$)/.test(code)

/**
 * An `ExportStoreError` made of the safe parts of a driver's error: its code and primary message
 * with every one of `names` replaced. The driver's error object is dropped, and with it any detail
 * (PostgreSQL's "Failing row contains (…)" repeats the row, `Name` included).
 */
export const storeError = (
  operation: ExportStoreError["operation"],
  names: ReadonlyArray<string> = []
) =>
(error: SqlError): ExportStoreError => {
  const inner = fieldOf(error.cause, "message")
  const code = codeOf(error)
  const message = typeof inner === "string" && inner !== "" ? `${error.message}: ${inner}` : error.message
  return new ExportStoreError({
    operation,
    ...(code === undefined ? {} : { code }),
    message: scrub(message, names)
  })
}
