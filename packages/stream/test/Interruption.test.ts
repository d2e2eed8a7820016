/**
 * Interruption leaves nothing behind (issue 15, item 8). A listing over `UndiciHttpClient` is
 * interrupted at a random moment of one of four states — waiting for a rate-limiter permit, in the
 * middle of a trickling body, in a retry's sleep (a 503 with a long Retry-After), with a request
 * sent ahead of the consumer in flight — and afterwards:
 *
 * - every fiber the listing started is done (a supervisor tracks them);
 * - while the client layer lives, the server is answering no request: every connection left is
 *   an idle one in the keep-alive pool; once the layer is released, none is left;
 * - once the emulator is closed too, the process holds no more timers, immediates or sockets than
 *   before the run;
 * - and, in a child process running the built packages, the process exits by itself.
 *
 * Long server-side waits (30 s trickles, delays and Retry-After) make any leak outlast the bounds.
 */
import { Credentials, HttpChimeRooms, UndiciHttpClient } from "@chime-rooms/http"
import { ChimeRateLimiter, ChimeRoomsStream, Resilience } from "@chime-rooms/stream"
import { Dataset, Emulator, Fault, FaultScript } from "@chime-rooms/testing"
import { assert, describe, it } from "@effect/vitest"
import {
  Duration,
  Effect,
  Exit,
  FastCheck,
  Fiber,
  Layer,
  Redacted,
  Runtime,
  Schedule,
  Scope,
  Stream,
  Supervisor
} from "effect"
import { execFileSync, spawn } from "node:child_process"
import { stat } from "node:fs/promises"
import { fileURLToPath } from "node:url"
import { beforeAll } from "vitest"
import { envNumber } from "./liveness.js"

const SEED = envNumber("LIVENESS_SEED") ?? 15
const RUNS = envNumber("INTERRUPTION_RUNS") ?? 3
/** Three child processes per run (a few seconds each, mostly loading the packages): fewer runs. */
const CHILD_RUNS = Math.max(1, Math.floor(RUNS / 3))

/** The states a listing is interrupted in. */
interface Scenario {
  readonly name: string
  readonly prefetch: { readonly min: number; readonly max: number }
  readonly rules: ReadonlyArray<FaultScript.FaultRule>
  /** A fixed limiter's rate (burst 1), or none. */
  readonly rate: number | undefined
  /** The listing is in the state once the server saw this; interrupted up to `jitterMillis` later. */
  readonly reached: (emulator: Emulator.EmulatorService) => boolean
  readonly jitterMillis: number
  /** Whether the listing forks fibers (the general path): shows that the supervisor sees them. */
  readonly forks: boolean
}

/** Whether the server answered call number `call` (with `status`, if given). */
const answered = (emulator: Emulator.EmulatorService, call: number, status?: number) =>
  emulator.received().some((r) =>
    r.call === call && r.outcome !== undefined && (status === undefined || r.outcome.status === status)
  )

const scenarios: ReadonlyArray<Scenario> = [
  {
    // Two requests a second: after the first page, the next one waits ~500 ms for its permit.
    name: "waiting for a permit",
    prefetch: { min: 0, max: 5 },
    rules: [],
    rate: 2,
    reached: (emulator) => answered(emulator, 1),
    jitterMillis: 300,
    forks: true
  },
  {
    // The second page's body trickles out over 30 s.
    name: "in the middle of a body",
    prefetch: { min: 0, max: 5 },
    rules: [{ calls: [2], fault: Fault.slow("30 seconds") }],
    rate: undefined,
    reached: (emulator) => answered(emulator, 2),
    jitterMillis: 200,
    forks: false
  },
  {
    // The second page gets a 503 with `Retry-After: 30`: its retry sleeps 20 s (the policy's cap).
    name: "in a retry's sleep",
    prefetch: { min: 0, max: 5 },
    rules: [{ calls: [2], fault: Fault.unavailable("30 seconds") }],
    rate: undefined,
    reached: (emulator) => answered(emulator, 2, 503),
    jitterMillis: 100,
    forks: true
  },
  {
    // Pages requested ahead of the consumer: with 2 or more, the third page's request leaves as
    // soon as the second's token is read, and the server holds it for 30 s.
    name: "with a request sent ahead in flight",
    prefetch: { min: 2, max: 5 },
    rules: [{ calls: [3], fault: Fault.delay("30 seconds") }],
    rate: undefined,
    reached: (emulator) => emulator.received().some((r) => r.call === 3),
    jitterMillis: 150,
    forks: false
  }
]

const dataset = Dataset.generate({ seed: 8, roomsPerAccount: 200 })
const MAX_RESULTS = 5

/** Every fiber started under it, and those not yet done. */
class FiberTracker extends Supervisor.AbstractSupervisor<void> {
  started = 0
  readonly alive = new Set<Fiber.RuntimeFiber<unknown, unknown>>()
  get value(): Effect.Effect<void> {
    return Effect.void
  }
  override onStart<A, E, R>(
    _context: unknown,
    _effect: Effect.Effect<A, E, R>,
    _parent: unknown,
    fiber: Fiber.RuntimeFiber<A, E>
  ): void {
    this.started++
    this.alive.add(fiber)
  }
  override onEnd<A, E>(_exit: Exit.Exit<A, E>, fiber: Fiber.RuntimeFiber<A, E>): void {
    this.alive.delete(fiber)
  }
}

const RESOURCES = ["Timeout", "Immediate", "TCPSocketWrap", "TCPServerWrap"] as const
type Resources = Record<(typeof RESOURCES)[number], number>

/** What keeps this process's event loop alive, by kind (unref'd timers and sockets do not). */
const resources = (): Resources => {
  const counts: Resources = { Timeout: 0, Immediate: 0, TCPSocketWrap: 0, TCPServerWrap: 0 }
  for (const kind of process.getActiveResourcesInfo()) if (kind in counts) counts[kind as keyof Resources]++
  return counts
}

/** Succeeds once `holds` does, polling for up to `within`; else fails saying `what` and what it saw. */
const eventually = (
  what: string,
  holds: () => boolean,
  seen: () => unknown,
  within: Duration.Duration = Duration.seconds(1)
) =>
  Effect.suspend(() => (holds() ? Effect.void : Effect.fail(undefined))).pipe(
    Effect.retry(Schedule.spaced("5 millis").pipe(Schedule.upTo(within))),
    Effect.catchAll(() =>
      Effect.fail(new Error(`${what} (after ${Duration.format(within)}: ${JSON.stringify(seen())})`))
    )
  )

const live = (emulator: Emulator.EmulatorService, rate: number | undefined) =>
  Layer.mergeAll(
    HttpChimeRooms.layer({ endpoint: emulator.endpoint }).pipe(
      Layer.provide(UndiciHttpClient.layer),
      Layer.provide(Credentials.layerStatic(emulator.credentials))
    ),
    Resilience.layer({
      rateLimiter: rate === undefined
        ? ChimeRateLimiter.layerUnlimited
        : ChimeRateLimiter.layerFixed({ rate, burst: 1 })
    })
  )

interface Run {
  readonly prefetch: number
  readonly jitter: number
}

const runArbitrary = (scenario: Scenario): FastCheck.Arbitrary<Run> =>
  FastCheck.record({
    prefetch: FastCheck.integer(scenario.prefetch),
    jitter: FastCheck.integer({ min: 0, max: scenario.jitterMillis })
  })

/** A scope closed when the enclosing one is, if not closed before (closing twice does nothing). */
const subScope = Effect.acquireRelease(Scope.make(), (scope, exit) => Scope.close(scope, exit))

/** One interrupted listing and every check after it. */
const interruptOnce = (scenario: Scenario, run: Run) =>
  Effect.gen(function*() {
    const label = `${scenario.name}, prefetch ${run.prefetch}, interrupted ${run.jitter} ms in (seed ${SEED})`
    const before = resources()
    const tracker = new FiberTracker()
    const emulatorScope = yield* subScope
    const faults = FaultScript.make({ rules: scenario.rules })
    const emulator = yield* Scope.extend(Emulator.make({ dataset, faults }), emulatorScope)
    const clientScope = yield* subScope
    const context = yield* Layer.buildWithScope(live(emulator, scenario.rate), clientScope)

    let pages = 0
    const request = { AccountId: emulator.accounts[0]!, MaxResults: MAX_RESULTS }
    const listing = ChimeRoomsStream.rooms(request, { prefetch: run.prefetch }).pipe(
      Stream.runForEachChunk(() =>
        Effect.promise(() => stat(".")).pipe(Effect.zipRight(Effect.sync(() => {
          pages++
        })))
      ),
      Effect.provide(context)
    )
    const fiber = yield* Effect.supervised(Effect.fork(listing), tracker)
    const reached = () => scenario.reached(emulator)
    yield* eventually(`${label}: the listing reaches the state`, reached, () => ({ pages }), Duration.seconds(5))
    yield* Effect.sleep(Duration.millis(run.jitter))
    assert.isNull(fiber.unsafePoll(), `${label}: the listing is still running when interrupted`)

    const interrupted = yield* Fiber.interrupt(fiber).pipe(
      Effect.disconnect,
      Effect.timeout("2 seconds"),
      Effect.option
    )
    assert.isTrue(interrupted._tag === "Some", `${label}: the interruption completes`)
    if (scenario.forks) assert.isAbove(tracker.started, 0, `${label}: the supervisor saw the listing's fibers`)
    yield* eventually(`${label}: every fiber of the listing is done`, () => tracker.alive.size === 0, () => ({
      alive: tracker.alive.size
    }))
    // The client layer still lives: its pool may keep idle connections, but none mid-request.
    yield* eventually(
      `${label}: no request left being answered while the client lives`,
      () => emulator.connections().answering === 0,
      emulator.connections
    )
    yield* Scope.close(clientScope, Exit.void)
    yield* eventually(
      `${label}: no connection left once the client is released`,
      () => emulator.connections().open === 0,
      emulator.connections
    )
    yield* Scope.close(emulatorScope, Exit.void)
    yield* eventually(
      `${label}: no timer, immediate or socket left`,
      () => RESOURCES.every((kind) => resources()[kind] <= before[kind]),
      () => ({ before, after: resources() })
    )
  }).pipe(Effect.scoped)

const runs = (scenario: Scenario, run: (r: Run) => Effect.Effect<void, unknown>) =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<never>()
    yield* Effect.tryPromise({
      try: () =>
        FastCheck.assert(
          FastCheck.asyncProperty(runArbitrary(scenario), (r) => Runtime.runPromise(runtime)(run(r))),
          { seed: SEED, numRuns: RUNS, endOnFailure: true }
        ),
      catch: (error) => error
    })
  })

describe("interruption leaves nothing behind (issue 15)", () => {
  for (const scenario of scenarios) {
    it.live(
      `${scenario.name}: no fiber, request, connection or timer left`,
      () => runs(scenario, (r) => interruptOnce(scenario, r)),
      60_000
    )
  }
})

// --- the process exits by itself ----------------------------------------------------------------

const root = fileURLToPath(new URL("../../..", import.meta.url))
const script = fileURLToPath(new URL("./fixtures/interrupt-listing.mjs", import.meta.url))
/**
 * What the child interrupts: the listing, its layer then released; the listing, its layer never
 * released (idle keep-alive sockets are unref'd by undici, a socket mid-request is not); or the
 * whole program, layer included.
 */
type Mode = "listing" | "listing, layer kept" | "program"
const modes: ReadonlyArray<Mode> = ["listing", "listing, layer kept", "program"]

/** From its start to the listing's reaching the state: mostly loading the packages. */
const START_BOUND = Duration.seconds(30)
/** From the interruption to the exit. */
const EXIT_BOUND = Duration.seconds(5)

interface Exited {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  readonly timedOut: boolean
}

/**
 * Runs the fixture against `emulator`; once the scenario's state is reached (plus the jitter),
 * tells it to interrupt, and waits up to `EXIT_BOUND_MILLIS` for it to exit (then kills it).
 */
const runChild = (emulator: Emulator.EmulatorService, scenario: Scenario, run: Run, mode: Mode) =>
  Effect.gen(function*() {
    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        spawn(process.execPath, [script], {
          cwd: root,
          stdio: ["pipe", "pipe", "pipe"],
          env: {
            ...process.env,
            CHIME_ENDPOINT: emulator.endpoint,
            CHIME_ACCESS_KEY_ID: emulator.credentials.accessKeyId,
            // Handed to the child only, never printed.
            CHIME_SECRET_ACCESS_KEY: Redacted.value(emulator.credentials.secretAccessKey),
            CHIME_ACCOUNT: emulator.accounts[0]!,
            MAX_RESULTS: String(MAX_RESULTS),
            PREFETCH: String(run.prefetch),
            RATE: scenario.rate === undefined ? "" : String(scenario.rate),
            MODE: mode
          }
        })
      ),
      (child) => Effect.sync(() => child.kill("SIGKILL"))
    )
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    // A child that died early closes its stdin: the write fails, and `early` below says why.
    child.stdin.on("error", () => {})
    let signalled = false
    const exited = Effect.async<number | null>((resume) => {
      child.on("close", (code) => resume(Effect.succeed(code)))
    })
    const reached = () => scenario.reached(emulator)
    const signal = eventually("the listing reaches the state", reached, () => stdout, START_BOUND).pipe(
      Effect.zipRight(Effect.sleep(Duration.millis(run.jitter))),
      Effect.zipRight(Effect.sync(() => {
        signalled = true
        child.stdin.end("interrupt\n")
      }))
    )
    // Loading the packages may take seconds on a loaded machine: the exit is timed from the signal.
    const timed = Effect.zipRight(
      signal,
      Effect.timeoutTo(exited, {
        duration: EXIT_BOUND,
        onSuccess: (code) => ({ code, timedOut: false }),
        onTimeout: () => ({ code: null, timedOut: true })
      })
    )
    const early = Effect.flatMap(exited, (code) =>
      signalled
        ? Effect.never
        : Effect.fail(new Error(`the child exited (${code}) before the interruption: ${stdout.trim()}`)))
    const outcome = yield* Effect.raceFirst(timed, early)
    return { ...outcome, stdout, stderr } satisfies Exited
  })

describe("an interrupted listing lets the process exit by itself (issue 15)", () => {
  beforeAll(() => {
    // The child runs the built packages, as a user's program does.
    const tsc = fileURLToPath(new URL("../../../node_modules/typescript/bin/tsc", import.meta.url))
    execFileSync(process.execPath, [tsc, "-b", "packages/stream", "packages/http"], { cwd: root })
  }, 120_000)

  for (const scenario of scenarios) {
    it.live(`${scenario.name}: the process exits by itself (${modes.join("; ")})`, () =>
      Effect.gen(function*() {
        const runtime = yield* Effect.runtime<never>()
        const once = (mode: Mode, run: Run) =>
          Effect.gen(function*() {
            const label =
              `${scenario.name}, prefetch ${run.prefetch}, interrupting the ${mode} ${run.jitter} ms in (seed ${SEED})`
            const emulator = yield* Emulator.make({ dataset, faults: FaultScript.make({ rules: scenario.rules }) })
            const child = yield* runChild(emulator, scenario, run, mode)
            assert.isFalse(
              child.timedOut,
              `${label}: the process did not exit within ${Duration.format(EXIT_BOUND)} of the interruption; ` +
                child.stdout.trim()
            )
            assert.strictEqual(child.stderr, "", `${label}: nothing on stderr`)
            assert.strictEqual(child.code, 0, `${label}: exit code`)
            assert.match(child.stdout, /^interrupted after \d+ pages$/m, `${label}: ${child.stdout.trim()}`)
          }).pipe(Effect.scoped)
        // All at once: most of a child's time is loading the packages.
        const all = (runs: Record<Mode, Run>) =>
          Effect.all(modes.map((mode) => once(mode, runs[mode])), { concurrency: "unbounded", discard: true })
        yield* Effect.tryPromise({
          try: () =>
            FastCheck.assert(
              FastCheck.asyncProperty(
                FastCheck.record({
                  listing: runArbitrary(scenario),
                  "listing, layer kept": runArbitrary(scenario),
                  program: runArbitrary(scenario)
                }),
                (runs) => Runtime.runPromise(runtime)(all(runs))
              ),
              { seed: SEED, numRuns: CHILD_RUNS, endOnFailure: true }
            ),
          catch: (error) => error
        })
      }), 120_000)
  }
})
