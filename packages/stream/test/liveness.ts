/**
 * Shared by the liveness and interruption tests: the transports a listing can run over, consumers
 * that do real work between pages (timers, file-system I/O, bursts), retryable fault scripts, and
 * a listing that resumes from the token a typed failure carries.
 */
import type { ChimeError, ListRoomsRequest } from "@chime-rooms/core"
import { Credentials, HttpChimeRooms, UndiciHttpClient } from "@chime-rooms/http"
import { ChimeRateLimiter, ChimeRoomsStream, Resilience, RetryPolicy } from "@chime-rooms/stream"
import { Dataset, Emulator, Fault, FaultScript, InMemory } from "@chime-rooms/testing"
import type { HttpClient } from "@effect/platform"
import { FetchHttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Duration, Effect, Either, FastCheck, Layer, Stream } from "effect"
import type { Context, Scope } from "effect"
import { stat, writeFile } from "node:fs/promises"

/** An integer from the environment, when set. */
export const envNumber = (name: string): number | undefined => {
  const text = process.env[name]
  if (text === undefined || text === "") return undefined
  const n = Number(text)
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got ${JSON.stringify(text)}`)
  return n
}

// --- transports ----------------------------------------------------------------------------------

/** The `ChimeRooms` a listing runs over: HTTP through one of three clients, or the in-memory layer. */
export type ClientKind = "UndiciHttpClient" | "FetchHttpClient" | "NodeHttpClient.layerUndici" | "InMemory"

export const clientKinds: ReadonlyArray<ClientKind> = [
  "UndiciHttpClient",
  "FetchHttpClient",
  "NodeHttpClient.layerUndici",
  "InMemory"
]

export type HttpKind = Exclude<ClientKind, "InMemory">

export const httpClientLayers: Record<HttpKind, Layer.Layer<HttpClient.HttpClient>> = {
  UndiciHttpClient: UndiciHttpClient.layer,
  FetchHttpClient: FetchHttpClient.layer,
  "NodeHttpClient.layerUndici": NodeHttpClient.layerUndici
}

/** Each HTTP client built once, in the caller's scope: runs share its agent and connection pool. */
export type HttpClients = Record<HttpKind, Context.Context<HttpClient.HttpClient>>

export const buildHttpClients: Effect.Effect<HttpClients, never, Scope.Scope> = Effect.all({
  UndiciHttpClient: Layer.build(httpClientLayers.UndiciHttpClient),
  FetchHttpClient: Layer.build(httpClientLayers.FetchHttpClient),
  "NodeHttpClient.layerUndici": Layer.build(httpClientLayers["NodeHttpClient.layerUndici"])
})

/** The HTTP `ChimeRooms` pointed at `emulator`, over an already built client. */
export const httpChimeRooms = (emulator: Emulator.EmulatorService, client: Context.Context<HttpClient.HttpClient>) =>
  HttpChimeRooms.layer({ endpoint: emulator.endpoint }).pipe(
    Layer.provide(Layer.succeedContext(client)),
    Layer.provide(Credentials.layerStatic(emulator.credentials))
  )

// --- limiters and the retry policy ---------------------------------------------------------------

export type LimiterKind = "unlimited" | "fixed" | "adaptive"

/**
 * `fixed` is fast enough not to slow a run but makes some pages wait a few milliseconds for their
 * permit (the pump's general path); `adaptive` is the default limiter, kept from falling below
 * 200 req/s so that scripted 429s cannot make a run crawl.
 */
export const limiterLayer = (kind: LimiterKind): Layer.Layer<ChimeRateLimiter.ChimeRateLimiter> => {
  switch (kind) {
    case "unlimited":
      return ChimeRateLimiter.layerUnlimited
    case "fixed":
      return ChimeRateLimiter.layerFixed({ rate: 400, burst: 3 })
    case "adaptive":
      return ChimeRateLimiter.layerAdaptive({ minFillRate: 200 })
  }
}

/**
 * Milliseconds of backoff, and `Retry-After` capped at 50 ms: the emulator sends it in whole
 * seconds (a scripted 1–50 ms goes out as `Retry-After: 1`), which would make every run slow.
 * Four attempts: a run of four failing calls on one page exhausts them, and the listing must then
 * fail with the token to resume from.
 */
export const quickPolicy: RetryPolicy.RetryPolicy = RetryPolicy.make({
  baseDelay: "1 millis",
  throttlingBaseDelay: "2 millis",
  maxDelay: "20 millis",
  maxAttempts: 4,
  retryAfterCap: "50 millis"
})

// --- consumers -----------------------------------------------------------------------------------

/** What a consumer does after taking a page, before it asks for the next. */
export type Step =
  | { readonly _tag: "Sync" }
  | { readonly _tag: "Yield" }
  | { readonly _tag: "Timer"; readonly millis: number }
  | { readonly _tag: "Stat" }
  | { readonly _tag: "Write" }

export const Step = {
  sync: { _tag: "Sync" } as Step,
  yield: { _tag: "Yield" } as Step,
  timer: (millis: number): Step => ({ _tag: "Timer", millis }),
  stat: { _tag: "Stat" } as Step,
  write: { _tag: "Write" } as Step
} as const

export const describeStep = (step: Step): string =>
  step._tag === "Timer" ? `timer${step.millis}` : step._tag.toLowerCase()

/** A consumer: a name and the steps it cycles through, one per page. */
export interface Consumer {
  readonly style: string
  readonly steps: ReadonlyArray<Step>
}

export const describeConsumer = (consumer: Consumer): string =>
  `${consumer.style}[${consumer.steps.map(describeStep).join(",")}]`

/** Performs `step`; `file` is a scratch file of the run's own for `Stat` (it must exist) and `Write`. */
export const perform = (step: Step, file: string): Effect.Effect<void> => {
  switch (step._tag) {
    case "Sync":
      return Effect.void
    case "Yield":
      return Effect.yieldNow()
    case "Timer":
      return Effect.sleep(Duration.millis(step.millis))
    case "Stat":
      return Effect.asVoid(Effect.promise(() => stat(file)))
    case "Write":
      return Effect.promise(() => writeFile(file, "x"))
  }
}

const timerStep = FastCheck.integer({ min: 0, max: 3 }).map(Step.timer)
const ioStep = FastCheck.constantFrom(Step.stat, Step.write)
const anyStep = FastCheck.oneof(FastCheck.constant(Step.sync), FastCheck.constant(Step.yield), timerStep, ioStep)

/** Consumers that take pages synchronously, after a yield, after timers, after I/O, in bursts, or any mix. */
export const consumerArbitrary: FastCheck.Arbitrary<Consumer> = FastCheck.oneof(
  FastCheck.constant<Consumer>({ style: "sync", steps: [Step.sync] }),
  FastCheck.constant<Consumer>({ style: "yield", steps: [Step.yield] }),
  FastCheck.array(timerStep, { minLength: 1, maxLength: 6 }).map((steps): Consumer => ({ style: "timers", steps })),
  FastCheck.array(ioStep, { minLength: 1, maxLength: 4 }).map((steps): Consumer => ({ style: "io", steps })),
  // The reported consumer: file-system I/O and a 1 ms timer, alternately.
  FastCheck.constant<Consumer>({ style: "issue15", steps: [Step.stat, Step.timer(1)] }),
  FastCheck.record({ quick: FastCheck.integer({ min: 2, max: 6 }), pause: FastCheck.oneof(timerStep, ioStep) }).map((
    { pause, quick }
  ): Consumer => ({ style: "burst", steps: [...Array.from({ length: quick }, () => Step.sync), pause] })),
  FastCheck.array(anyStep, { minLength: 1, maxLength: 8 }).map((steps): Consumer => ({ style: "mixed", steps }))
)

// --- faults --------------------------------------------------------------------------------------

/** No Retry-After, `Retry-After: 0`, or 1–50 ms (`Retry-After: 1` on the wire, capped by {@link quickPolicy}). */
const retryAfter = FastCheck.oneof(
  FastCheck.constant(undefined),
  FastCheck.constant(0),
  FastCheck.integer({ min: 1, max: 50 })
)

/**
 * The faults a page may meet: 429 and 503 (with and without Retry-After), a connection reset
 * before the response, a reset mid-body, a truncated body, a body that trickles out, a delay.
 */
export const faultArbitrary: FastCheck.Arbitrary<Fault.Fault> = FastCheck.oneof(
  retryAfter.map((ms) => Fault.throttled(ms)),
  retryAfter.map((ms) => Fault.unavailable(ms)),
  FastCheck.constant(Fault.transport),
  FastCheck.constant(Fault.reset),
  FastCheck.constant(Fault.truncatedJson),
  FastCheck.integer({ min: 5, max: 30 }).map((ms) => Fault.slow(ms)),
  FastCheck.integer({ min: 1, max: 10 }).map((ms) => Fault.delay(ms))
)

export interface FaultRun {
  /** Calls before the run starts, after the previous one. */
  readonly gap: number
  /** Consecutive calls that get the fault. */
  readonly run: number
  readonly fault: Fault.Fault
}

/** Runs of faulty calls; a run of four failing calls on one page exhausts {@link quickPolicy}. */
export const faultRunsArbitrary: FastCheck.Arbitrary<ReadonlyArray<FaultRun>> = FastCheck.array(
  FastCheck.record({
    gap: FastCheck.integer({ min: 1, max: 15 }),
    run: FastCheck.integer({ min: 1, max: 4 }),
    fault: faultArbitrary
  }),
  { maxLength: 8 }
)

/** The rules of `runs`, by call number. */
export const rulesOf = (runs: ReadonlyArray<FaultRun>): ReadonlyArray<FaultScript.FaultRule> => {
  const rules: Array<FaultScript.FaultRule> = []
  let call = 1
  for (const { fault, gap, run } of runs) {
    call += gap - 1
    for (let i = 0; i < run; i++) rules.push({ calls: [call++], fault })
    call++
  }
  return rules
}

// --- one listing, resumed until it ends ----------------------------------------------------------

/** One randomized case. */
export interface Case {
  readonly client: ClientKind
  readonly prefetch: number
  readonly consumer: Consumer
  readonly limiter: LimiterKind
  readonly rooms: number
  readonly pageSize: number
  readonly datasetSeed: number
  readonly faults: ReadonlyArray<FaultRun>
}

export const caseArbitrary: FastCheck.Arbitrary<Case> = FastCheck.record({
  client: FastCheck.constantFrom(...clientKinds),
  prefetch: FastCheck.integer({ min: 0, max: 5 }),
  consumer: consumerArbitrary,
  limiter: FastCheck.constantFrom<LimiterKind>("unlimited", "fixed", "adaptive"),
  // Mostly long listings (a lost wake-up needs the right few pages in a row to show), some short
  // ones for the edges (empty, one page, a last page that is full).
  rooms: FastCheck.oneof(
    { arbitrary: FastCheck.integer({ min: 150, max: 500 }), weight: 3 },
    { arbitrary: FastCheck.integer({ min: 0, max: 30 }), weight: 1 }
  ),
  pageSize: FastCheck.integer({ min: 2, max: 12 }),
  datasetSeed: FastCheck.integer({ min: 1, max: 1_000_000 }),
  faults: faultRunsArbitrary
})

export const describeCase = (c: Case): string =>
  [
    c.client,
    `prefetch=${c.prefetch}`,
    `consumer=${describeConsumer(c.consumer)}`,
    `limiter=${c.limiter}`,
    `rooms=${c.rooms}`,
    `pageSize=${c.pageSize}`,
    `datasetSeed=${c.datasetSeed}`,
    `faults=[${rulesOf(c.faults).map(FaultScript.format).join(" ")}]`
  ].join(" ")

/** What a listing delivered so far, readable after a timeout. */
export interface Progress {
  readonly seen: Array<string>
  resumes: number
  expected: number
  calls: () => number
}

export const makeProgress = (): Progress => ({ seen: [], resumes: 0, expected: 0, calls: () => 0 })

/** More resumes than this means the faults never clear: they are finite, so it is a bug. */
const MAX_RESUMES = 40

/** What {@link listToEnd} lists, and how it takes the pages. */
export interface Listing {
  readonly accountId: string
  readonly pageSize: number
  readonly prefetch: number
  readonly consumer: Consumer
  /** The consumer's scratch file. */
  readonly file: string
  /** The `RoomId`s of the account, in service order. */
  readonly expected: ReadonlyArray<string>
}

/**
 * Lists every room of `accountId`, taking each page as `consumer` does, and on a typed failure
 * checks the promise of `resumeToken` (a whole number of pages arrived; absent only when nothing
 * did) and resumes from it. Returns the `RoomId`s received, also kept in `progress` as they come.
 */
export const listToEnd = (
  { accountId, consumer, expected, file, pageSize, prefetch }: Listing,
  progress: Progress
) =>
  Effect.gen(function*() {
    progress.expected = expected.length
    yield* perform(Step.write, file)
    let page = 0
    let token: string | undefined
    for (;;) {
      const request: ListRoomsRequest.ListRoomsRequest = token === undefined
        ? { AccountId: accountId, MaxResults: pageSize }
        : { AccountId: accountId, MaxResults: pageSize, NextToken: token }
      const result = yield* Effect.either(
        Stream.runForEachChunk(
          ChimeRoomsStream.rooms(request, { prefetch, retry: quickPolicy }),
          (chunk) =>
            Effect.suspend(() => {
              for (const room of chunk) progress.seen.push(room.RoomId!)
              const step = consumer.steps[page++ % consumer.steps.length]!
              return perform(step, file)
            })
        )
      )
      if (Either.isRight(result)) break
      const error: ChimeError.ChimeError = result.left
      const got = progress.seen.length
      if (error._tag === "PaginationLoopError") {
        return yield* Effect.fail(`unexpected PaginationLoopError after ${got} rooms`)
      }
      if (got % pageSize !== 0 && got !== expected.length) {
        return yield* Effect.fail(`${error._tag} after ${got} rooms: not a whole number of pages of ${pageSize}`)
      }
      if (error.resumeToken === undefined && got !== 0) {
        return yield* Effect.fail(`${error._tag} after ${got} rooms carries no resumeToken`)
      }
      if (++progress.resumes > MAX_RESUMES) {
        return yield* Effect.fail(`still failing after ${MAX_RESUMES} resumes: ${error._tag}`)
      }
      token = error.resumeToken
    }
    return progress.seen
  })

/** The `ChimeRooms` and resilience of a case, built in the current scope; the emulator's `calls` when over HTTP. */
export const buildCase = (c: Case, clients: HttpClients) =>
  Effect.gen(function*() {
    const dataset = Dataset.generate({ seed: c.datasetSeed, roomsPerAccount: c.rooms })
    const accountId = dataset.accounts[0]!
    const faults = FaultScript.make({ rules: rulesOf(c.faults) })
    const resilience = Resilience.layer({ rateLimiter: limiterLayer(c.limiter) })
    if (c.client === "InMemory") {
      const context = yield* Layer.build(Layer.mergeAll(InMemory.layer({ dataset, faults }), resilience))
      return { dataset, accountId, context, calls: () => 0 }
    }
    const emulator = yield* Emulator.make({ dataset, faults, recordLimit: 0 })
    const context = yield* Layer.build(Layer.mergeAll(httpChimeRooms(emulator, clients[c.client]), resilience))
    return { dataset, accountId, context, calls: emulator.calls }
  })
