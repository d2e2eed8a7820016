/**
 * Medians and formatting for the result tables.
 *
 * @since 0.1.0
 */

/** The median of the numbers (the mean of the middle two for an even count); `NaN` when empty. */
export const median = (values: ReadonlyArray<number>): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** `1234.5` → `"1,235"`. */
export const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "—")

/** Fixed decimals, `—` for a missing value. */
export const fixed = (n: number, digits: number): string => (Number.isFinite(n) ? n.toFixed(digits) : "—")

/** Bytes as MB with one decimal. */
export const mb = (bytes: number): string => fixed(bytes / (1024 * 1024), 1)

/** A ratio such as `1.27×`. */
export const times = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}×` : "—")

/** A markdown table. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string =>
  [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...rows.map((row) => `| ${row.join(" | ")} |`)
  ].join("\n")

/** The mark beside a result held to a target. */
export const mark = (pass: boolean): string => (pass ? "✅ pass" : "❌ miss")
