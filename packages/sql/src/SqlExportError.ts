/**
 * The failures of an export that are not the service's: the database refused or failed, another
 * export holds the account, or this export lost its hold on it.
 *
 * No error here holds a room `Name`: a database's message is kept only with every `Name` of the
 * rooms being written replaced, its detail (PostgreSQL's "Failing row contains (…)") and the
 * driver's error object are dropped.
 *
 * @since 0.3.0
 */
import * as Schema from "effect/Schema"

/**
 * A statement or transaction of the export failed in the database (or the schema could not be
 * migrated). `code` is the database's own (PostgreSQL's SQLSTATE, SQLite's `SQLITE_…`) when it
 * gave one. The checkpoint holds the last page committed: running the export again resumes there.
 *
 * @category errors
 * @since 0.3.0
 */
export class ExportStoreError extends Schema.TaggedError<ExportStoreError>()("ExportStoreError", {
  /**
   * What the export was doing: `migrate`, `claim`, `commit` (a transaction of pages, lease
   * renewals and releases) or `summary`.
   */
  operation: Schema.Literal("migrate", "claim", "commit", "summary"),
  /** The database's error code, when it gave one. */
  code: Schema.optional(Schema.String),
  message: Schema.String
}) {}

/**
 * Another export of the same account holds it (its lease has not expired and its process is not
 * known to be dead), and the export was asked not to wait (`onBusy: "fail"`).
 *
 * @category errors
 * @since 0.3.0
 */
export class ExportBusyError extends Schema.TaggedError<ExportBusyError>()("ExportBusyError", {
  accountId: Schema.String,
  /** The process that holds it, as it recorded itself. */
  pid: Schema.optional(Schema.Number),
  host: Schema.optional(Schema.String),
  /** When its lease ends unless renewed. */
  leaseUntil: Schema.DateFromSelf
}) {
  override get message(): string {
    const who = this.pid === undefined ? "another process" : `process ${this.pid} on ${this.host ?? "an unknown host"}`
    return `Account ${JSON.stringify(this.accountId)} is being exported by ${who} ` +
      `(its lease runs to ${this.leaseUntil.toISOString()} unless renewed)`
  }
}

/**
 * This export no longer holds its account: its lease expired (the process was paused past it) and
 * another export took the account over. Nothing of this export was committed after that.
 *
 * @category errors
 * @since 0.3.0
 */
export class ExportLeaseLostError extends Schema.TaggedError<ExportLeaseLostError>()("ExportLeaseLostError", {
  accountId: Schema.String
}) {
  override get message(): string {
    return `The export of account ${JSON.stringify(this.accountId)} lost its lease to another export`
  }
}

/**
 * Every failure of an export besides the service's `ChimeError`.
 *
 * @category errors
 * @since 0.3.0
 */
export type SqlExportError = ExportStoreError | ExportBusyError | ExportLeaseLostError
