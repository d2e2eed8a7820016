import { SigV4 } from "@chime-rooms/http"
import { HttpClient, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted, Ref, TestClock } from "effect"

const credentials = Effect.succeed({
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: Redacted.make("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
  sessionToken: Redacted.make("token-1")
})

describe("SigV4", () => {
  it.effect("signs with the Clock plus the learned offset, and adds the session token", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2026-03-04T05:06:07.890Z"))
      const clockOffset = yield* Ref.make(60_000)
      const signed = yield* SigV4.sign(
        HttpClientRequest.get("https://chime.us-east-1.amazonaws.com/accounts/a%2Fb/rooms?max-results=5"),
        {
          credentials,
          region: "us-east-1",
          service: "chime",
          clockOffset
        }
      )
      expect(signed.headers["x-amz-date"]).toBe("20260304T050707Z")
      expect(signed.headers["x-amz-security-token"]).toBe("token-1")
      expect(signed.headers["authorization"]).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20260304\/us-east-1\/chime\/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/
      )
    }))

  it.effect("learns the server's clock from a 'Signature expired' refusal and retries once", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2026-03-04T05:00:00Z"))
      const serverTime = Date.parse("2026-03-04T05:10:00Z")
      const seen: Array<string> = []
      const client = HttpClient.make((request) =>
        Effect.sync(() => {
          const date = request.headers["x-amz-date"]!
          seen.push(date)
          const ok = date === "20260304T051000Z"
          return HttpClientResponse.fromWeb(
            request,
            ok
              ? new Response("{}", { status: 200 })
              : new Response(
                JSON.stringify({ message: "Signature expired: 20260304T050000Z is now earlier than ..." }),
                {
                  status: 403,
                  headers: { date: new Date(serverTime).toUTCString(), "x-amzn-errortype": "InvalidSignatureException" }
                }
              )
          )
        })
      )
      const clockOffset = yield* Ref.make(0)
      const signed = SigV4.withSigV4(client, { credentials, region: "us-east-1", service: "chime", clockOffset })
      const response = yield* signed.execute(HttpClientRequest.get("https://example.com/"))
      expect(response.status).toBe(200)
      expect(seen).toEqual(["20260304T050000Z", "20260304T051000Z"])
      expect(yield* Ref.get(clockOffset)).toBe(10 * 60_000)
      // Later requests keep the offset: accepted first time.
      yield* signed.execute(HttpClientRequest.get("https://example.com/"))
      expect(seen).toHaveLength(3)
    }))

  it.effect("is dual: piped onto a client, it signs as called with the client", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2026-03-04T05:06:07Z"))
      const authorizations: Array<string> = []
      const client = HttpClient.make((request) =>
        Effect.sync(() => {
          authorizations.push(request.headers["authorization"]!)
          return HttpClientResponse.fromWeb(request, new Response("{}", { status: 200 }))
        })
      )
      const options = { credentials, region: "us-east-1", service: "chime" }
      const request = HttpClientRequest.get("https://example.com/accounts/a/rooms")
      yield* SigV4.withSigV4(client, options).execute(request)
      yield* client.pipe(SigV4.withSigV4(options)).execute(request)
      expect(authorizations).toHaveLength(2)
      expect(authorizations[1]).toBe(authorizations[0])
      expect(authorizations[0]).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20260304\//)
    }))

  it.effect("does not retry a 403 that is not about the clock", () =>
    Effect.gen(function*() {
      let calls = 0
      const client = HttpClient.make((request) =>
        Effect.sync(() => {
          calls++
          return HttpClientResponse.fromWeb(
            request,
            new Response("{\"message\":\"no\"}", { status: 403, headers: { date: new Date(0).toUTCString() } })
          )
        })
      )
      const response = yield* SigV4.withSigV4(client, { credentials, region: "us-east-1", service: "chime" }).execute(
        HttpClientRequest.get("https://example.com/")
      )
      expect(response.status).toBe(403)
      expect(calls).toBe(1)
    }))
})
