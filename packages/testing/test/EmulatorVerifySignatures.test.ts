import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Dataset, Emulator } from "@chime-rooms/testing"

const dataset = Dataset.generate({ seed: 3, roomsPerAccount: 30 })

const unsignedGet = (endpoint: string, accountId: string) =>
  Effect.promise(async () => {
    const response = await fetch(`${endpoint}/accounts/${encodeURIComponent(accountId)}/rooms?max-results=20`)
    return { status: response.status, body: (await response.json()) as { NextToken?: string; Rooms?: Array<unknown> } }
  })

describe("Emulator verifySignatures", () => {
  it.scoped("refuses an unsigned request by default", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ dataset })
      const { status } = yield* unsignedGet(emulator.endpoint, emulator.accounts[0]!)
      expect(status).toBe(403)
    }))

  it.scoped("with verifySignatures: false serves an unsigned request", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ dataset, verifySignatures: false })
      const { body, status } = yield* unsignedGet(emulator.endpoint, emulator.accounts[0]!)
      expect(status).toBe(200)
      expect(body.Rooms).toHaveLength(20)
      expect(typeof body.NextToken).toBe("string")
    }))
})
