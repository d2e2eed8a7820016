/**
 * The database side of an export: the tables (migrated when the layer is built), the lease an
 * export holds on its account, and the one writer of the database.
 *
 * Every write of every export on the same `RoomStore` goes through one fiber, one transaction at a
 * time (SQLite allows one writer; on PostgreSQL it spares the pool and keeps pages in order). Pages
 * queued while a transaction runs are committed together in the next one: a page's rooms and the
 * token that follows it are always in the same transaction, so the checkpoint never runs ahead of
 * the rooms nor behind them.
 *
 * @since 0.3.0
 */
import type { ChimeRoomsStream } from "@chime-rooms/stream"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { isBusy, isBusyCode, storeError } from "./internal/errors.js"
import { isAlive, owners, self } from "./internal/owner.js"
import { columnsOf, namesOf, type RoomRow, rowsOf, scrub } from "./internal/rows.js"
import * as Migrations from "./Migrations.js"
import { ExportBusyError, ExportLeaseLostError, ExportStoreError, type SqlExportError } from "./SqlExportError.js"

/**
 * An account's checkpoint, as committed.
 *
 * @category models
 * @since 0.3.0
 */
export interface Checkpoint {
  readonly accountId: string
  /** 1 for the first export of the account, one more for each export started after one finished. */
  readonly snapshot: number
  /** `done` once the last page of the snapshot is committed. */
  readonly status: "running" | "done"
  /** The token to resume the listing from; absent at the start of a snapshot and once it is done. */
  readonly nextToken?: string
  /** Pages committed in this snapshot. */
  readonly pages: number
  /** Rooms committed in this snapshot (a room listed twice counts twice). */
  readonly rooms: number
  /** Rooms of this snapshot that had no `RoomId`: counted, not stored (they cannot be keyed). */
  readonly unkeyed: number
  readonly startedAt: Date
  readonly updatedAt: Date
  readonly finishedAt?: Date
}

/**
 * An account held by an export, from `claim`: where its listing goes on from.
 *
 * @category models
 * @since 0.3.0
 */
export interface Session {
  readonly accountId: string
  readonly snapshot: number
  /** The token to list from (`NextToken`); absent: from the first page. */
  readonly nextToken: string | undefined
  /** Whether the snapshot was under way (some pages committed by an export that stopped). */
  readonly resumed: boolean
  /** The checkpoint when the session began. */
  readonly checkpoint: Checkpoint
}

/**
 * How `claim` takes an account.
 *
 * @category models
 * @since 0.3.0
 */
export interface ClaimOptions {
  /**
   * When another export holds the account: `"fail"` (default) with `ExportBusyError`, or `"wait"`
   * until it is released, its lease expires, or its process is seen dead on this host.
   */
  readonly onBusy?: "fail" | "wait"
  /** Called once when the claim starts to wait, with who holds the account. */
  readonly onWait?: (busy: ExportBusyError) => Effect.Effect<void>
  /**
   * How long the account stays held without a write from its export (renewed at a third of it
   * while the session lasts); default 30 seconds. A process killed on this host is seen dead at
   * once; one on another host holds the account until its lease runs out.
   */
  readonly lease?: Duration.DurationInput
}

/**
 * The store's service.
 *
 * @category models
 * @since 0.3.0
 */
export interface RoomStore {
  /**
   * Takes `accountId` for this scope: resumes its unfinished snapshot or begins a new one. The
   * lease is renewed while the scope lasts and given back when it closes.
   */
  readonly claim: (
    accountId: string,
    options?: ClaimOptions
  ) => Effect.Effect<Session, ExportBusyError | ExportStoreError, Scope.Scope>
  /**
   * Queues a page of the session's listing for the writer (waits while the queue is full). A page
   * without `nextToken` is the last: its commit marks the snapshot done. Fails with the session's
   * failure once it has one.
   */
  readonly write: (session: Session, page: ChimeRoomsStream.RoomsPage) => Effect.Effect<void, SqlExportError>
  /** Waits until every page written so far is committed; the checkpoint after them. */
  readonly flush: (session: Session) => Effect.Effect<Checkpoint, SqlExportError>
  /** The committed checkpoint of an account, if it was ever exported. */
  readonly checkpoint: (accountId: string) => Effect.Effect<Option.Option<Checkpoint>, ExportStoreError>
  /** Rows of the account seen in `snapshot`, and rows last seen in an earlier one. */
  readonly census: (
    accountId: string,
    snapshot: number
  ) => Effect.Effect<{ readonly seen: number; readonly notSeen: number }, ExportStoreError>
}

/**
 * The service tag.
 *
 * @category tags
 * @since 0.3.0
 */
export const RoomStore: Context.Tag<RoomStore, RoomStore> = Context.GenericTag<RoomStore>("@chime-rooms/sql/RoomStore")

/**
 * Options of {@link make} and {@link layer}.
 *
 * @category models
 * @since 0.3.0
 */
export interface RoomStoreOptions {
  /** Pages queued for the writer before `write` waits; default 64. */
  readonly queue?: number
  /**
   * How long a transaction is tried again while the database is busy (another process writes to the
   * same SQLite file; a PostgreSQL serialization failure); default 60 seconds.
   */
  readonly busyTimeout?: Duration.DurationInput
  /**
   * How long a transaction stays open for more pages; default 250 milliseconds. Pages taken
   * meanwhile share it (the checkpoint moves to the last of them), so the database sees a few
   * transactions rather than one per page. A killed export loses what was not committed: the open
   * transaction and the pages queued behind it, listed again when it resumes. A last page, a flush,
   * a release or a renewal of a lease commits at once.
   */
  readonly commitInterval?: Duration.DurationInput
}

/** An export's state, kept by the writer: the committed counts and the session's failure. */
interface State {
  readonly session: Session
  readonly owner: string
  readonly lease: number
  nextToken: string | undefined
  pages: number
  rooms: number
  unkeyed: number
  done: boolean
  released: boolean
  updatedAt: Date
  finishedAt: Date | undefined
  failure: SqlExportError | undefined
  readonly failed: Deferred.Deferred<never, SqlExportError>
}

type Job =
  | { readonly _tag: "page"; readonly state: State; readonly page: ChimeRoomsStream.RoomsPage }
  | { readonly _tag: "renew"; readonly state: State }
  | { readonly _tag: "release"; readonly state: State; readonly ack: Deferred.Deferred<void> }
  | { readonly _tag: "flush"; readonly state: State; readonly ack: Deferred.Deferred<Checkpoint, SqlExportError> }

/** What one transaction does for one export, applied to its state once committed. */
interface Work {
  readonly state: State
  pages: number
  keyed: number
  unkeyed: number
  nextToken: string | undefined
  done: boolean
  release: boolean
  /** Another export holds the account now: nothing of this one is written. */
  readonly lost: boolean
  /** When its checkpoint was written. */
  at?: Date
}

interface CheckpointRow {
  readonly account_id: string
  readonly snapshot: number | string
  readonly status: string
  readonly next_token: string | null
  readonly pages: number | string
  readonly rooms: number | string
  readonly unkeyed: number | string
  readonly started_at: string | Date
  readonly updated_at: string | Date
  readonly finished_at: string | Date | null
  readonly owner: string | null
  readonly owner_pid: number | string | null
  readonly owner_host: string | null
  readonly lease_until: number | string | null
}

const dateOf = (value: string | Date): Date => (value instanceof Date ? value : new Date(value))

const checkpointOf = (row: CheckpointRow): Checkpoint => ({
  accountId: row.account_id,
  snapshot: Number(row.snapshot),
  status: row.status === "done" ? "done" : "running",
  ...(row.next_token === null ? {} : { nextToken: row.next_token }),
  pages: Number(row.pages),
  rooms: Number(row.rooms),
  unkeyed: Number(row.unkeyed),
  startedAt: dateOf(row.started_at),
  updatedAt: dateOf(row.updated_at),
  ...(row.finished_at === null ? {} : { finishedAt: dateOf(row.finished_at) })
})

const checkpointOfState = (state: State): Checkpoint => {
  const { nextToken: _, ...began } = state.session.checkpoint
  return {
    ...began,
    status: state.done ? "done" : "running",
    ...(state.nextToken === undefined ? {} : { nextToken: state.nextToken }),
    pages: state.pages,
    rooms: state.rooms,
    unkeyed: state.unkeyed,
    updatedAt: state.updatedAt,
    ...(state.finishedAt === undefined ? {} : { finishedAt: state.finishedAt })
  }
}

/** Tries again after 5 ms, doubling up to a quarter of a second, for at most `limit`. */
const busySchedule = (limit: Duration.Duration) =>
  Schedule.exponential("5 millis", 2).pipe(
    Schedule.union(Schedule.spaced("250 millis")),
    Schedule.jittered,
    Schedule.upTo(limit)
  )

/** Rows per `INSERT` (their JSON is one parameter). */
const rowsPerStatement = 1000

/**
 * A store on the current `SqlClient`: migrates the tables, then starts the writer for this scope.
 *
 * @category constructors
 * @since 0.3.0
 */
export const make = (
  options: RoomStoreOptions = {}
): Effect.Effect<RoomStore, ExportStoreError, SqlClient.SqlClient | Scope.Scope> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const busyFor = Duration.decode(options.busyTimeout ?? "60 seconds")
    // Another process migrating the same database at once: SQLite's lock held a moment, or on
    // PostgreSQL the migrations table that both found absent and both create. Tried again.
    yield* Migrations.run.pipe(
      Effect.retry({
        while: (error) =>
          // (Not a transaction that failed to begin: see `isBusy`.)
          !error.message.startsWith("Failed to begin transaction") &&
          (isBusyCode(error.code) || ["42P07", "42710", "23505"].includes(error.code ?? "")),
        schedule: busySchedule(busyFor)
      })
    )
    const capacity = Math.max(1, options.queue ?? 64)
    const queue = yield* Effect.acquireRelease(Queue.bounded<Job>(capacity), Queue.shutdown)
    const interval = Duration.toMillis(Duration.decode(options.commitInterval ?? "250 millis"))
    // Opened by every job queued, for a writer waiting for the next one.
    const arrived = yield* Effect.makeLatch(false)
    const forUpdate = sql.onDialectOrElse({ pg: () => sql` FOR UPDATE`, orElse: () => sql`` })

    /** A transaction, tried again while the database is busy. */
    const transaction = <A, R>(
      effect: Effect.Effect<A, SqlError, R>
    ): Effect.Effect<A, SqlError, R> =>
      sql.withTransaction(effect).pipe(
        Effect.retry({ while: isBusy, schedule: busySchedule(busyFor) })
      )

    /**
     * Inserts or updates rows, all of them as one JSON parameter: one short statement the database
     * parses once, whatever the number of rows (measured on SQLite: 40 % less time than a
     * parameter per column).
     */
    const upsert = (rows: ReadonlyArray<RoomRow>) =>
      sql.onDialectOrElse({
        pg: () =>
          sql`INSERT INTO rooms SELECT * FROM json_to_recordset(${JSON.stringify(rows)}::json) AS r(
  account_id text, room_id text, name text, created_by text, created_timestamp timestamptz,
  updated_timestamp timestamptz, snapshot integer, last_seen timestamptz
)${onConflict}`,
        orElse: () =>
          sql`INSERT INTO rooms SELECT
  value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7
FROM json_each(${JSON.stringify(rows.map(columnsOf))}) WHERE true${onConflict}`
      })
    const onConflict = sql`
ON CONFLICT (account_id, room_id) DO UPDATE SET
  name = excluded.name,
  created_by = excluded.created_by,
  created_timestamp = excluded.created_timestamp,
  updated_timestamp = excluded.updated_timestamp,
  snapshot = excluded.snapshot,
  last_seen = excluded.last_seen`

    const selectCheckpoint = (accountId: string) =>
      sql<CheckpointRow>`SELECT * FROM room_exports WHERE account_id = ${accountId}${forUpdate}`

    // === the writer

    /** Whether a transaction commits after this job: only a page that is not the last waits for more. */
    const commitsAfter = (job: Job) => job._tag !== "page" || job.page.nextToken === undefined
    /**
     * Whether a job writes anything: not a flush, nothing for an export that let its account go,
     * and only the release for one that failed.
     */
    const writes = (job: Job) =>
      !job.state.released && (job._tag === "release" || (job._tag !== "flush" && job.state.failure === undefined))

    /** The next job, if one comes before the transaction's time is up (`expired`, which opens `arrived`). */
    const nextJob = (expired: () => boolean): Effect.Effect<Job | undefined> =>
      Effect.gen(function*() {
        while (true) {
          const polled = yield* Queue.poll(queue)
          if (Option.isSome(polled)) return polled.value
          if (expired()) return undefined
          yield* arrived.close
          if ((yield* Queue.size(queue)) === 0 && !expired()) yield* arrived.await
        }
      })

    /**
     * One transaction: the jobs taken so far (again, when the transaction is tried again), then more
     * as they come, one page at a time, until `interval` has passed or a job that is not a page
     * comes (or the last page); then each
     * export's checkpoint. A page is written as soon as it is taken, so that the database works
     * while the next page is on the wire (with a synchronous driver such as libsql, a transaction
     * of many pages at once would hold the listing up for all of its time).
     */
    const transactionOf = (jobs: Array<Job>) =>
      Effect.gen(function*() {
        let timeUp = false
        // One timer for the transaction (not one per wait): it ends the wait for the next job.
        const timer = yield* Effect.fork(
          Effect.zipRight(Effect.sleep(Duration.millis(interval)), Effect.suspend(() => (timeUp = true, arrived.open)))
        )
        return yield* Effect.ensuring(
          Effect.gen(function*() {
            const works = new Map<State, Work>()
            for (let i = 0;; i++) {
              if (i === jobs.length) {
                if (commitsAfter(jobs[i - 1]!)) break
                const next = yield* nextJob(() => timeUp)
                if (next === undefined) break
                jobs.push(next)
              }
              yield* apply(works, jobs[i]!)
            }
            for (const work of works.values()) if (!work.lost) yield* updateCheckpoint(work)
            return works
          }),
          Fiber.interrupt(timer)
        )
      })

    /** A job's part of the transaction. */
    const apply = (works: Map<State, Work>, job: Job) =>
      Effect.gen(function*() {
        if (!writes(job)) return
        const { state } = job
        const accountId = state.session.accountId
        let work = works.get(state)
        if (work === undefined) {
          const [row] = yield* selectCheckpoint(accountId)
          work = {
            state,
            pages: 0,
            keyed: 0,
            unkeyed: 0,
            nextToken: state.nextToken,
            done: false,
            release: false,
            lost: row === undefined || row.owner !== state.owner || Number(row.snapshot) !== state.session.snapshot
          }
          works.set(state, work)
        }
        if (work.lost || work.done || work.release) return
        if (job._tag === "release") work.release = true
        if (job._tag !== "page") return
        const now = new Date(yield* Clock.currentTimeMillis).toISOString()
        const { keyed, rows, unkeyed } = rowsOf(accountId, [job.page], state.session.snapshot, now)
        for (let i = 0; i < rows.length; i += rowsPerStatement) yield* upsert(rows.slice(i, i + rowsPerStatement))
        work.pages++
        work.keyed += keyed
        work.unkeyed += unkeyed
        work.nextToken = job.page.nextToken
        work.done = job.page.nextToken === undefined
      })

    /** The checkpoint after an export's part of the transaction; its lease renewed or given back. */
    const updateCheckpoint = (work: Work) =>
      Effect.gen(function*() {
        const { state } = work
        const now = yield* Clock.currentTimeMillis
        const nowText = new Date(now).toISOString()
        const release = work.done || work.release
        yield* sql`UPDATE room_exports SET ${
          sql.update({
            next_token: work.nextToken ?? null,
            pages: state.pages + work.pages,
            rooms: state.rooms + work.keyed,
            unkeyed: state.unkeyed + work.unkeyed,
            updated_at: nowText,
            ...(work.done ? { status: "done", finished_at: nowText } : {}),
            ...(release
              ? { owner: null, owner_pid: null, owner_host: null, lease_until: null }
              : { lease_until: now + state.lease })
          })
        } WHERE account_id = ${state.session.accountId} AND owner = ${state.owner}`
        work.at = new Date(now)
      })

    /** What a committed transaction did to an export's state. */
    const committed = (work: Work) =>
      Effect.suspend(() => {
        const { state } = work
        if (work.lost) return fail(state, new ExportLeaseLostError({ accountId: state.session.accountId }))
        state.nextToken = work.nextToken
        state.pages += work.pages
        state.rooms += work.keyed
        state.unkeyed += work.unkeyed
        if (work.at !== undefined) state.updatedAt = work.at
        if (work.done) {
          state.done = true
          state.finishedAt = work.at
        }
        if (work.done || work.release) state.released = true
        return Effect.void
      })

    const fail = (state: State, error: SqlExportError) =>
      Effect.suspend(() => {
        if (state.failure === undefined) state.failure = error
        return Deferred.fail(state.failed, state.failure)
      })

    const acknowledge = (job: Job) => {
      if (job._tag === "release") return Deferred.succeed(job.ack, undefined)
      if (job._tag !== "flush") return Effect.void
      return job.state.failure === undefined
        ? Deferred.succeed(job.ack, checkpointOfState(job.state))
        : Deferred.fail(job.ack, job.state.failure)
    }

    const writer = Effect.gen(function*() {
      while (true) {
        const first = yield* Queue.take(queue)
        if (!writes(first)) {
          // Everything before it is committed: the writer takes jobs in order.
          yield* acknowledge(first)
          continue
        }
        const jobs: Array<Job> = [first]
        // The Names a failure's message may repeat: those of the pages taken, found only on failure.
        const scrubbed = () => namesOf(jobs.flatMap((job) => (job._tag === "page" ? [job.page] : [])))
        const outcome = yield* Effect.exit(
          transaction(Effect.suspend(() => transactionOf(jobs))).pipe(
            // The driver's spans would record its error as it is, and a database may repeat a row
            // in it ("Failing row contains (…)", a trigger naming the value it refuses): the
            // writes are traced by this span alone, which sees the error with every Name replaced.
            Effect.withTracerEnabled(false),
            Effect.mapError((error) => storeError("commit", scrubbed())(error)),
            // A defect (a driver that throws) fails these exports, not the writer of all of them.
            Effect.catchAllDefect((defect) =>
              Effect.fail(
                new ExportStoreError({
                  operation: "commit",
                  message: scrub(
                    `The driver failed: ${defect instanceof Error ? defect.message : String(defect)}`,
                    scrubbed()
                  )
                })
              )
            ),
            Effect.withSpan("RoomStore.commit", { kind: "client" })
          )
        )
        if (Exit.isSuccess(outcome)) {
          for (const work of outcome.value.values()) yield* committed(work)
        } else {
          const error = Cause.failureOption(outcome.cause)
          if (error._tag === "None") return yield* outcome
          for (const job of jobs) if (writes(job)) yield* fail(job.state, error.value)
        }
        for (const job of jobs) yield* acknowledge(job)
      }
    })
    yield* Effect.forkScoped(writer)

    const offer = (job: Job) => Effect.zipRight(Queue.offer(queue, job), arrived.open)

    // === claiming an account

    /** One try: the session, or who holds the account. */
    const tryClaim = (accountId: string, lease: number, owner: string) =>
      transaction(Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const nowText = new Date(now).toISOString()
        // A first export of the account starts from a finished snapshot 0, so that every claim is
        // one of the two cases below.
        yield* sql`INSERT INTO room_exports ${
          sql.insert({
            account_id: accountId,
            snapshot: 0,
            status: "done",
            next_token: null,
            pages: 0,
            rooms: 0,
            unkeyed: 0,
            started_at: nowText,
            updated_at: nowText
          })
        } ON CONFLICT (account_id) DO NOTHING`
        const [row] = yield* selectCheckpoint(accountId)
        const holder = row!
        const leaseUntil = holder.lease_until === null ? undefined : Number(holder.lease_until)
        if (
          holder.owner !== null && leaseUntil !== undefined && leaseUntil > now &&
          isAlive(holder.owner, holder.owner_host, holder.owner_pid === null ? undefined : Number(holder.owner_pid))
        ) {
          return new ExportBusyError({
            accountId,
            leaseUntil: new Date(leaseUntil),
            ...(holder.owner_pid === null ? {} : { pid: Number(holder.owner_pid) }),
            ...(holder.owner_host === null ? {} : { host: holder.owner_host })
          })
        }
        const previous = checkpointOf(holder)
        const fresh = previous.status === "done"
        const me = self()
        const checkpoint: Checkpoint = fresh
          ? {
            accountId,
            snapshot: previous.snapshot + 1,
            status: "running",
            pages: 0,
            rooms: 0,
            unkeyed: 0,
            startedAt: new Date(now),
            updatedAt: new Date(now)
          }
          : { ...previous, updatedAt: new Date(now) }
        yield* sql`UPDATE room_exports SET ${
          sql.update({
            ...(fresh
              ? {
                snapshot: checkpoint.snapshot,
                status: "running",
                next_token: null,
                pages: 0,
                rooms: 0,
                unkeyed: 0,
                started_at: nowText,
                finished_at: null
              }
              : {}),
            updated_at: nowText,
            owner,
            owner_pid: me.pid ?? null,
            owner_host: me.host ?? null,
            lease_until: now + lease
          })
        } WHERE account_id = ${accountId}`
        const session: Session = {
          accountId,
          snapshot: checkpoint.snapshot,
          nextToken: checkpoint.nextToken,
          resumed: !fresh && checkpoint.pages > 0,
          checkpoint
        }
        const state: State = {
          session,
          owner,
          lease,
          nextToken: checkpoint.nextToken,
          pages: checkpoint.pages,
          rooms: checkpoint.rooms,
          unkeyed: checkpoint.unkeyed,
          done: false,
          released: false,
          updatedAt: checkpoint.updatedAt,
          finishedAt: undefined,
          failure: undefined,
          failed: yield* Deferred.make<never, SqlExportError>()
        }
        return state
      })).pipe(Effect.mapError(storeError("claim")))

    const states = new WeakMap<Session, State>()
    const stateOf = (session: Session): State => {
      const state = states.get(session)
      if (state === undefined) throw new Error("RoomStore: a session of another store")
      return state
    }

    const claim = (accountId: string, claimOptions: ClaimOptions = {}) =>
      Effect.gen(function*() {
        const lease = Math.max(1, Duration.toMillis(Duration.decode(claimOptions.lease ?? "30 seconds")))
        let waiting = false
        while (true) {
          // Known as this process's before the claim commits: a session of this process that
          // finds it in the meantime must not take it for a dead one's.
          const owner = crypto.randomUUID()
          const outcome = yield* Effect.acquireRelease(
            Effect.sync(() => owners.add(owner)).pipe(
              Effect.zipRight(tryClaim(accountId, lease, owner)),
              Effect.tapError(() => Effect.sync(() => owners.delete(owner)))
            ),
            (outcome) =>
              outcome instanceof ExportBusyError
                ? Effect.void
                : Effect.flatMap(Deferred.make<void>(), (ack) =>
                  offer({ _tag: "release", state: outcome, ack }).pipe(
                    Effect.zipRight(Deferred.await(ack)),
                    // A writer that cannot finish in time leaves the lease to expire.
                    Effect.timeoutOption("10 seconds")
                  )).pipe(Effect.ensuring(Effect.sync(() => owners.delete(owner))))
          )
          if (!(outcome instanceof ExportBusyError)) {
            const state = outcome
            yield* Effect.forkScoped(
              Effect.repeat(offer({ _tag: "renew", state }), Schedule.spaced(Duration.millis(lease / 3))).pipe(
                Effect.delay(Duration.millis(lease / 3))
              )
            )
            states.set(state.session, state)
            return state.session
          }
          owners.delete(owner)
          if (claimOptions.onBusy !== "wait") return yield* outcome
          if (!waiting && claimOptions.onWait !== undefined) yield* claimOptions.onWait(outcome)
          waiting = true
          const untilExpiry = outcome.leaseUntil.getTime() - (yield* Clock.currentTimeMillis)
          yield* Effect.sleep(Duration.millis(Math.min(1000, Math.max(10, untilExpiry))))
        }
      })

    const write = (session: Session, page: ChimeRoomsStream.RoomsPage) =>
      Effect.suspend(() => {
        const state = stateOf(session)
        return state.failure === undefined ? offer({ _tag: "page", state, page }) : Effect.fail(state.failure)
      })

    const flush = (session: Session) =>
      Effect.suspend(() => {
        const state = stateOf(session)
        return Effect.flatMap(
          Deferred.make<Checkpoint, SqlExportError>(),
          (ack) => Effect.zipRight(offer({ _tag: "flush", state, ack }), Deferred.await(ack))
        )
      })

    const checkpoint = (accountId: string) =>
      sql<CheckpointRow>`SELECT * FROM room_exports WHERE account_id = ${accountId}`.pipe(
        Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), checkpointOf)),
        Effect.map(Option.filter((checkpoint) => checkpoint.snapshot > 0)),
        Effect.mapError(storeError("summary"))
      )

    const count = (rows: Effect.Effect<ReadonlyArray<{ readonly n: number | string }>, SqlError>) =>
      Effect.map(rows, ([row]) => Number(row?.n ?? 0))

    // Every row of an account is of its current snapshot or an earlier one. The total counts the
    // primary key's entries alone; the rows of earlier snapshots are read only when there can be
    // some (not in a first snapshot).
    const census = (accountId: string, snapshot: number) =>
      Effect.all([
        count(sql`SELECT count(*) AS n FROM rooms WHERE account_id = ${accountId}`),
        snapshot <= 1
          ? Effect.succeed(0)
          : count(sql`SELECT count(*) AS n FROM rooms WHERE account_id = ${accountId} AND snapshot < ${snapshot}`)
      ]).pipe(
        Effect.map(([total, notSeen]) => ({ seen: total - notSeen, notSeen })),
        Effect.mapError(storeError("summary"))
      )

    return RoomStore.of({ claim, write, flush, checkpoint, census })
  })

/**
 * The store as a layer on the current `SqlClient`: one writer for everything that uses it.
 *
 * @example
 * ```ts
 * import { RoomStore } from "@chime-rooms/sql"
 * import { LibsqlClient } from "@effect/sql-libsql"
 * import { Layer } from "effect"
 *
 * const store = RoomStore.layer().pipe(Layer.provide(LibsqlClient.layer({ url: "file:rooms.db" })))
 * ```
 *
 * @category layers
 * @since 0.3.0
 */
export const layer = (options?: RoomStoreOptions): Layer.Layer<RoomStore, ExportStoreError, SqlClient.SqlClient> =>
  Layer.scoped(RoomStore, make(options))
