/**
 * Secrets never leave: with a recording tracer and logger installed, over every `HttpClient` a user
 * can provide and a matrix of faults, no span name, attribute or event, no log line, and no error's
 * message, `String`, `JSON.stringify` or `util.inspect` carries the secret key, the session token,
 * a signature or a room `Name`; nor does a request logged on its way through the client.
 */
import type { ChimeError } from "@chime-rooms/core"
import { Credentials, HttpChimeRooms } from "@chime-rooms/http"
import { ChimeRoomsStream, Resilience } from "@chime-rooms/stream"
import { Dataset, Emulator, Fault, FaultScript } from "@chime-rooms/testing"
import { HttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Logger, LogLevel, Option, Stream, Tracer } from "effect"
import { inspect } from "node:util"
import { clients, quickRetries, secretCredentials, secrets } from "./hostile.js"

/** A tracer that records every span it opens (the native one does the work). */
const recordingTracer = () => {
  const spans: Array<Tracer.Span> = []
  const native = Effect.runSync(Effect.tracer)
  const tracer = Tracer.make({
    span: (...args) => {
      const span = native.span(...args)
      spans.push(span)
      return span
    },
    context: native.context
  })
  return { spans, tracer }
}

/** Everything a span shows an exporter: name, attributes, events and their attributes. */
const spanText = (span: Tracer.Span): string => {
  const native = span as Tracer.Span & {
    readonly events?: ReadonlyArray<readonly [string, bigint, Record<string, unknown>]>
  }
  const parts: Array<string> = [span.name]
  for (const [key, value] of span.attributes) parts.push(`${key}=${String(value)}`, inspect(value))
  for (const [name, , attributes] of native.events ?? []) parts.push(name, inspect(attributes))
  return parts.join("\n")
}

/** Every way an error is shown. */
const errorText = (error: unknown): string =>
  [String(error), JSON.stringify(error), inspect(error, { depth: 10 }), (error as Error).message ?? ""].join("\n")

const faults = FaultScript.make({
  seed: 9,
  rules: [
    { calls: [2], fault: Fault.throttled() },
    { calls: [3], fault: Fault.unavailable() },
    { calls: [5], fault: Fault.reset },
    { calls: [6], fault: Fault.truncatedJson },
    { calls: [9], fault: Fault.html502 },
    { calls: [11], fault: Fault.transport },
    { calls: [13], fault: Fault.serviceError("ServiceFailureException", { message: "failed for Name=secret-room" }) },
    // Retries run out on a page, which ends the listing with an error carrying its resume token.
    { calls: [15, 16, 17, 18, 19, 20, 21, 22], fault: Fault.unavailable() }
  ]
})

describe("secrets and room names never leave", () => {
  for (const [name, client] of clients) {
    it.live(
      `${name}: spans, logs, errors and inspected requests across the fault matrix`,
      () =>
        Effect.scoped(Effect.gen(function*() {
          const dataset = Dataset.generate({ seed: 21, roomsPerAccount: 200 })
          const emulator = yield* Emulator.make({
            dataset,
            faults,
            credentials: [secretCredentials]
          })
          const account = emulator.accounts[0]!
          const names = Dataset.allRooms(dataset, account).map((room) => room.Name!).filter((n) => n.length >= 4)
          assert.isAbove(names.length, 100)
          const forbidden = [
            secrets.secretAccessKey,
            secrets.sessionToken,
            encodeURIComponent(secrets.sessionToken),
            ...names
          ]

          const { spans, tracer } = recordingTracer()
          const logs: Array<string> = []
          // A logger shows what it logs in every form: `util.inspect`, `toJSON`, `String`.
          const logger = Logger.make(({ annotations, cause, message }) => {
            logs.push(
              inspect(message, { depth: 10 }),
              JSON.stringify(message),
              String(message),
              inspect(annotations, { depth: 10 }),
              Cause.pretty(cause)
            )
          })
          // A user's middleware that logs every request on its way (the redaction of `authorization`
          // applies there, as in spans).
          const looking = name === "UndiciHttpClient" ? client : Layer.effect(
            HttpClient.HttpClient,
            Effect.map(HttpClient.HttpClient, HttpClient.tapRequest((request) => Effect.logDebug(request)))
          ).pipe(Layer.provide(client))
          const chime = HttpChimeRooms.layer({ endpoint: emulator.endpoint }).pipe(
            Layer.provide(looking),
            Layer.provide(Credentials.layerStatic({
              accessKeyId: secrets.accessKeyId,
              secretAccessKey: secrets.secretAccessKey,
              sessionToken: secrets.sessionToken
            }))
          )
          const errors: Array<unknown> = []
          const exit = yield* ChimeRoomsStream.rooms({ AccountId: account, MaxResults: 10 }, {
            prefetch: 2,
            retry: quickRetries
          }).pipe(
            Stream.runDrain,
            Effect.tapErrorCause((cause) =>
              Effect.sync(() => {
                for (const e of [...Cause.failures(cause), ...Cause.defects(cause)]) errors.push(e)
              })
            ),
            Effect.timeout("20 seconds"),
            Effect.exit,
            Effect.provide(Layer.mergeAll(chime, Resilience.layer())),
            Effect.withTracer(tracer),
            Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
            Logger.withMinimumLogLevel(LogLevel.Debug)
          )
          const error = Exit.isFailure(exit)
            ? Option.getOrUndefined(Cause.failureOption(exit.cause)) as ChimeError.ChimeError | undefined
            : undefined
          assert.strictEqual(
            error?._tag,
            "ServiceUnavailableException",
            `the listing ends with the page whose retries ran out: ${exit}`
          )
          assert.isDefined(error?.resumeToken)
          assert.isAbove(spans.length, 20, "spans were recorded")
          if (name !== "UndiciHttpClient") {
            const logged = logs.filter((l) => l.includes("x-amz-security-token"))
            assert.isAbove(logged.length, 20, "requests were logged, with their token header")
            for (const l of logged) assert.notInclude(l, "AWS4-HMAC-SHA256", "authorization is redacted too")
          }
          // Clients built on `HttpClient.make` record request headers in their spans: the token is there, redacted.
          if (name.includes("spans") || name.startsWith("Node") || name.startsWith("Fetch")) {
            const withToken = spans.filter((s) => s.attributes.has("http.request.header.x-amz-security-token"))
            assert.isAbove(withToken.length, 0, "the client's spans record the token header")
            for (const s of withToken) {
              assert.strictEqual(String(s.attributes.get("http.request.header.x-amz-security-token")), "<redacted>")
            }
          }

          const seen: ReadonlyArray<readonly [string, string]> = [
            ...spans.map((s) => [`span ${s.name}`, spanText(s)] as const),
            ...logs.map((l) => ["log", l] as const),
            ...errors.map((e) => ["error", errorText(e)] as const)
          ]
          for (const [where, text] of seen) {
            for (const secret of forbidden) {
              if (text.includes(secret)) assert.fail(`a secret or a room name in a ${where}`)
            }
            if (/Signature=[0-9a-f]{64}/.test(text)) assert.fail(`a signature in a ${where}`)
          }
        })),
      40_000
    )
  }
})
