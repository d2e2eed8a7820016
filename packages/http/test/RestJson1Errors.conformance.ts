import { RestJson1 } from "@chime-rooms/http"
import { describe, expect, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

const casesPath = fileURLToPath(new URL("../../../../shared/testdata/restjson1/errors.json", import.meta.url))

interface ErrorCase {
  readonly id: string
  readonly code: number
  readonly headers: Record<string, string>
  readonly body: string | null
  readonly expectedErrorName?: string
}

const file = JSON.parse(readFileSync(casesPath, "utf8")) as { readonly cases: ReadonlyArray<ErrorCase> }
const errorCases = file.cases.filter((c) => c.expectedErrorName !== undefined)

/** Header names as every platform client hands them over: lower case. */
const lower = (headers: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]))

describe("restJson1 error cases", () => {
  it("covers every error case", () => {
    expect(errorCases.length).toBe(14)
  })

  for (const c of errorCases) {
    it(c.id, () => {
      const headers = lower(c.headers)
      const body = c.body === null || c.body === "" ? undefined : JSON.parse(c.body)
      expect(RestJson1.resolveErrorName(headers, body)).toBe(c.expectedErrorName)
      // The full decoder keeps the name: as `errorName` when the status maps to no modelled
      // error, as `code` when the status picks one.
      const error = RestJson1.decodeError(c.code, headers, c.body ?? "", 0)
      const kept = error._tag === "UnknownServiceError" ? error.errorName : "code" in error ? error.code : undefined
      expect(kept).toBe(c.expectedErrorName)
      expect("status" in error ? error.status : undefined).toBe(c.code)
    })
  }
})
