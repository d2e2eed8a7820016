import { Dataset, Emulator, Fault, FaultScript } from "@chime-rooms/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"

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

describe("Emulator slow bodies", () => {
  it.live(
    "a body that trickles arrives whole and in order, however busy the server (2,000 slow answers)",
    () =>
      Effect.scoped(Effect.gen(function*() {
        const emulator = yield* Emulator.make({
          dataset,
          verifySignatures: false,
          tokenSecret: "slow-bodies",
          faults: FaultScript.make({ rules: [{ always: true, fault: Fault.slow("7 millis") }] })
        })
        const account = emulator.accounts[0]!
        const url = `${emulator.endpoint}/accounts/${encodeURIComponent(account)}/rooms?max-results=10`
        const bodies = yield* Effect.forEach(
          Array.from({ length: 2000 }),
          () => Effect.promise(() => fetch(url).then((response) => response.text())),
          { concurrency: 50 }
        )
        // Every answer is the same page, byte for byte (the token is the same for the same position).
        const first = bodies[0]!
        expect(JSON.parse(first).Rooms).toHaveLength(10)
        expect(bodies.filter((body) => body !== first)).toHaveLength(0)
      })),
    60_000
  )
})
