/**
 * The spans and metrics an operator gets through the OpenTelemetry SDK, wired as a user wires it
 * (`@effect/opentelemetry`'s `NodeSdk.layer`), read back from the SDK's own in-memory exporters:
 * a span per page and per attempt with what is needed to act on it, the `chime_rooms_*` metrics
 * with the listing's numbers, and, over every kind of fault and every `HttpClient`, no secret key,
 * session token, signature or room `Name` in anything exported.
 */
import type { ChimeError } from "@chime-rooms/core"
import { ChimeMetrics, ChimeRoomsStream, Resilience } from "@chime-rooms/stream"
import { Dataset, Emulator, Fault, FaultScript } from "@chime-rooms/testing"
import { NodeSdk } from "@effect/opentelemetry"
import { assert, describe, it } from "@effect/vitest"
import { SpanStatusCode } from "@opentelemetry/api"
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  type MetricData,
  PeriodicExportingMetricReader,
  type ResourceMetrics
} from "@opentelemetry/sdk-metrics"
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Cause, Effect, Exit, Metric, Option, Stream } from "effect"
import { inspect } from "node:util"
import { chimeOver, clients, quickRetries, secretCredentials, secrets } from "./hostile.js"

/** Ours (on its general path: spans need a fiber), ours with its own spans, and the platform's. */
const traced = ["UndiciHttpClient", "UndiciHttpClient with spans", "NodeHttpClient.layerUndici", "FetchHttpClient"]

/**
 * Every kind of fault, one page each, then a page whose retries run out (quickRetries: 8 attempts).
 * Call numbers are the emulator's; with no prefetch the listing sends one request at a time.
 */
const faults = FaultScript.make({
  rules: [
    { calls: [2], fault: Fault.throttled("1 second") },
    { calls: [3], fault: Fault.unavailable() },
    { calls: [5], fault: Fault.reset },
    { calls: [6], fault: Fault.truncatedJson },
    { calls: [8], fault: Fault.serviceError("ServiceFailureException", { message: "failed for Name=secret-room" }) },
    { calls: [15, 16, 17, 18, 19, 20, 21, 22], fault: Fault.unavailable() }
  ]
})

/** What each attempt span must say, call by call: page, attempt, HTTP status, error tag. */
type Attempt = readonly [page: number, attempt: number, status: number | undefined, error?: string]

const expectedAttempts: ReadonlyArray<Attempt> = [
  [1, 1, 200],
  [2, 1, 429, "ThrottledClientException"],
  [2, 2, 503, "ServiceUnavailableException"],
  [2, 3, 200],
  [3, 1, undefined, "TransportError"],
  [3, 2, 200, "ResponseDecodeError"],
  [3, 3, 200],
  [4, 1, 500, "ServiceFailureException"],
  [4, 2, 200],
  [5, 1, 200],
  [6, 1, 200],
  [7, 1, 200],
  [8, 1, 200],
  [9, 1, 200],
  ...Array.from({ length: 8 }, (_, i) => [10, i + 1, 503, "ServiceUnavailableException"] as const)
]

const hrMillis = ([seconds, nanos]: readonly [number, number]): number => seconds * 1000 + nanos / 1e6

/** Everything an exporter reads of a span. */
const spanText = (span: ReadableSpan): string =>
  [
    span.name,
    JSON.stringify(span.attributes),
    inspect(span.attributes, { depth: 10 }),
    JSON.stringify(span.status),
    ...span.events.map((event) => `${event.name} ${JSON.stringify(event.attributes ?? {})}`),
    ...span.links.map((link) => JSON.stringify(link.attributes ?? {})),
    JSON.stringify(span.resource.attributes),
    JSON.stringify(span.instrumentationScope)
  ].join("\n")

/** Everything an exporter reads of a collection of metrics. */
const metricsText = (collected: ResourceMetrics): string =>
  [
    JSON.stringify(collected.resource.attributes),
    ...collected.scopeMetrics.flatMap((scope) => [
      JSON.stringify(scope.scope),
      ...scope.metrics.map((metric) => JSON.stringify({ descriptor: metric.descriptor, dataPoints: metric.dataPoints }))
    ])
  ].join("\n")

const metricNamed = (collected: ResourceMetrics, name: string): MetricData | undefined =>
  collected.scopeMetrics.flatMap((scope) => scope.metrics).find((metric) => metric.descriptor.name === name)

/** The single value of the metric called `name` (0 before it is first recorded). */
const valueOf = (collected: ResourceMetrics, name: string): number => {
  const metric = metricNamed(collected, name)
  if (metric === undefined) return 0
  assert.strictEqual(metric.dataPoints.length, 1, `${name} has one series`)
  return metric.dataPoints[0]!.value as number
}

const counters = {
  requests: "chime_rooms_requests_total",
  retries: "chime_rooms_retries_total",
  throttles: "chime_rooms_throttles_total",
  pages: "chime_rooms_pages_total",
  rooms: "chime_rooms_rooms_total"
} as const

describe("OpenTelemetry through NodeSdk.layer", () => {
  for (const [name, client] of clients.filter(([name]) => traced.includes(name))) {
    it.live(
      `${name}: spans per page and attempt, the chime_rooms_* metrics, and no secret or room name exported`,
      () =>
        Effect.scoped(Effect.gen(function*() {
          const dataset = Dataset.generate({ seed: 21, roomsPerAccount: 200 })
          const emulator = yield* Emulator.make({
            dataset,
            faults,
            credentials: [secretCredentials]
          })
          const account = emulator.accounts[0]!
          const names = Dataset.allRooms(dataset, account).map((room) => room.Name!)
          assert.isAbove(names.length, 100)
          const forbidden = [
            secrets.secretAccessKey,
            secrets.sessionToken,
            encodeURIComponent(secrets.sessionToken),
            ...names
          ]

          const spanExporter = new InMemorySpanExporter()
          const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
          // Exports only when flushed below: a user's reader exports on its interval, as an OTLP one would.
          const metricReader = new PeriodicExportingMetricReader({
            exporter: metricExporter,
            exportIntervalMillis: 3_600_000
          })
          const spanProcessor = new SimpleSpanProcessor(spanExporter)
          const collect = Effect.promise(async () => {
            await metricReader.forceFlush()
            return metricExporter.getMetrics().at(-1)!
          })

          // Read while the SDK runs: shutting it down empties the in-memory exporters.
          const { after, before, error, pages, rooms, spans } = yield* Effect.gen(function*() {
            const before = yield* collect
            let pages = 0
            let rooms = 0
            const listing = ChimeRoomsStream.pages({ AccountId: account, MaxResults: 10 }, { retry: quickRetries })
            const exit = yield* listing.pipe(
              Stream.runForEach((page) =>
                Effect.sync(() => {
                  pages++
                  rooms += page.rooms.length
                })
              ),
              Effect.timeout("20 seconds"),
              Effect.exit,
              Effect.provide(Resilience.layer()),
              Effect.provide(chimeOver(emulator.endpoint, client))
            )
            const error = Exit.isFailure(exit)
              ? Option.getOrUndefined(Cause.failureOption(exit.cause)) as ChimeError.ChimeError | undefined
              : undefined
            const after = yield* collect
            yield* Effect.promise(() => spanProcessor.forceFlush())
            return { before, after, error, pages, rooms, spans: spanExporter.getFinishedSpans() }
          }).pipe(
            Effect.provide(NodeSdk.layer(() => ({
              resource: { serviceName: "chime-rooms-test" },
              spanProcessor,
              metricReader
            })))
          )
          assert.strictEqual(error?._tag, "ServiceUnavailableException", "the listing ends where retries ran out")
          assert.strictEqual(pages, 9)
          assert.strictEqual(rooms, 90)
          assert.strictEqual(emulator.calls(), expectedAttempts.length)

          // Spans: one per page, one per attempt under its page, with what an operator acts on.
          const pageSpans = spans.filter((s) => s.name === "ChimeRoomsStream.page")
          const attemptSpans = spans.filter((s) => s.name === "ChimeRooms.listRooms.attempt")
            .sort((a, b) => hrMillis(a.startTime) - hrMillis(b.startTime))
          assert.deepStrictEqual(
            pageSpans.map((s) => s.attributes["chime.page"]).sort((a, b) => Number(a) - Number(b)),
            [
              1,
              2,
              3,
              4,
              5,
              6,
              7,
              8,
              9,
              10
            ]
          )
          for (const s of pageSpans) assert.strictEqual(s.attributes["chime.account"], account)
          const pageOf = new Map(pageSpans.map((s) => [s.spanContext().spanId, s.attributes["chime.page"]]))
          assert.deepStrictEqual(
            attemptSpans.map((s) => [
              pageOf.get(s.parentSpanContext?.spanId ?? ""),
              s.attributes["chime.attempt"],
              s.attributes["http.response.status_code"],
              s.attributes["error.type"]
            ]),
            expectedAttempts.map(([page, attempt, status, error]) => [page, attempt, status, error])
          )
          const requestIds = new Set<unknown>()
          attemptSpans.forEach((s, i) => {
            const [, , status, error] = expectedAttempts[i]!
            assert.strictEqual(s.attributes["chime.account"], account)
            assert.strictEqual(s.status.code, error === undefined ? SpanStatusCode.OK : SpanStatusCode.ERROR)
            // Every attempt got a response head, so each has its request id (a connection cut mid-body too).
            const requestId = s.attributes["aws.request_id"]
            assert.isString(requestId, `attempt ${i + 1} has its request id`)
            requestIds.add(requestId)
            // A failed attempt that is retried holds the delay chosen, and the next attempt waits it out.
            const delay = s.attributes["chime.retry_delay_ms"]
            const retried = error !== undefined && i + 1 < attemptSpans.length && expectedAttempts[i + 1]![1] > 1
            if (!retried) return assert.isUndefined(delay, `attempt ${i + 1} is not followed by a retry`)
            assert.isNumber(delay)
            // Retry-After (1 s) outweighs quickRetries' backoff (at most 20 ms); the backoff alone otherwise.
            if (status === 429) assert.strictEqual(delay, 1000)
            else assert.isAtMost(delay as number, 20)
            const gap = hrMillis(attemptSpans[i + 1]!.startTime) - hrMillis(s.endTime)
            // Node's timers count whole milliseconds from the event loop's cached time: a sleep of 1.98 ms
            // may end 1 ms after it was set, measured by the high-resolution clock the spans use.
            assert.isAtLeast(gap, Math.floor(delay as number) - 1, `attempt ${i + 2} starts after the delay`)
          })
          assert.strictEqual(requestIds.size, expectedAttempts.length, "one request id per request")

          // The client's own spans (the platform's, ours with spans) sit under the attempts, the token redacted.
          const httpSpans = spans.filter((s) => s.attributes["http.request.method"] !== undefined)
          if (name === "UndiciHttpClient") assert.strictEqual(httpSpans.length, 0)
          else {
            assert.strictEqual(httpSpans.length, expectedAttempts.length)
            const attemptIds = new Set(attemptSpans.map((s) => s.spanContext().spanId))
            for (const s of httpSpans) {
              assert.isTrue(attemptIds.has(s.parentSpanContext?.spanId ?? ""), "an HTTP span is a child of its attempt")
              assert.strictEqual(s.attributes["http.request.header.x-amz-security-token"], "<redacted>")
              assert.strictEqual(s.attributes["http.request.header.authorization"], "<redacted>")
            }
          }
          for (const s of spans) assert.strictEqual(s.resource.attributes["service.name"], "chime-rooms-test")

          // Metrics: the listing's numbers, as Effect's registry holds them.
          const delta = (metric: string) => valueOf(after, metric) - valueOf(before, metric)
          assert.deepStrictEqual(
            {
              requests: delta(counters.requests),
              retries: delta(counters.retries),
              throttles: delta(counters.throttles),
              pages: delta(counters.pages),
              rooms: delta(counters.rooms)
            },
            // Every request but the 9 pages' last and the final failure was followed by a retry.
            {
              requests: expectedAttempts.length,
              retries: expectedAttempts.length - 9 - 1,
              throttles: 1,
              pages: 9,
              rooms: 90
            }
          )
          for (const metricName of Object.values(counters)) {
            const metric = metricNamed(after, metricName)!
            assert.strictEqual(metric.dataPointType, DataPointType.SUM)
            assert.isTrue(
              metric.dataPointType === DataPointType.SUM && metric.isMonotonic,
              `${metricName} is a counter`
            )
            assert.isNotEmpty(metric.descriptor.description)
          }
          const gauge = metricNamed(after, "chime_rooms_rate_limit")!
          assert.strictEqual(gauge.dataPointType, DataPointType.GAUGE)
          const rate = (yield* Metric.value(ChimeMetrics.rateLimitGauge)).value
          assert.isAbove(rate, 0, "the adaptive limiter set a rate after the throttle")
          assert.strictEqual(valueOf(after, "chime_rooms_rate_limit"), rate)

          // Nothing exported holds a secret, a signature or a room name.
          const seen: ReadonlyArray<readonly [string, string]> = [
            ...spans.map((s) => [`span ${s.name}`, spanText(s)] as const),
            ["metrics", metricsText(after)]
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
