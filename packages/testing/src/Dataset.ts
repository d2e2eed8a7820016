/**
 * The rooms a fake Chime serves: generated from a seed (cheap even for 100,000+ rooms per
 * account) or written by hand. Shared by the in-memory layer and the emulator.
 *
 * @since 0.1.0
 */
import { type Room, Timestamp } from "@chime-rooms/core"
import { createHash } from "node:crypto"
import { derive, hash3, hash4, hash5, uuidOf } from "./internal/hash.js"

/**
 * A read-only view of the rooms of some accounts. Rooms are addressed by their index in the
 * account's listing order (`0 .. roomCount - 1`); implementations may compute them on demand.
 *
 * @category models
 * @since 0.1.0
 */
export interface Dataset {
  /** The account ids, in a stable order. */
  readonly accounts: ReadonlyArray<string>
  /**
   * Identifies this data: page tokens are bound to it, so tokens of a re-seeded or replaced dataset
   * are refused as stale.
   */
  readonly generation: string
  /** How many rooms the account has; `undefined` for an unknown account. */
  roomCount(accountId: string): number | undefined
  /** Room `index` of the account, in wire form (ISO timestamp strings). The account must exist and `index` be in range. */
  room(accountId: string, index: number): Room.RoomEncoded
  /**
   * The sorted room indices `memberId` belongs to, or `undefined` for a member the account does not
   * know (callers treat that as "no rooms").
   */
  memberRooms(accountId: string, memberId: string): ReadonlyArray<number> | undefined
  /** The member ids of the account (empty for an unknown account). */
  members(accountId: string): ReadonlyArray<string>
  /** The JSON text of room `index`; optional fast path behind {@link Dataset.roomJson}. */
  roomJson?(accountId: string, index: number): string
}

/**
 * Options of {@link Dataset.generate}.
 *
 * @category models
 * @since 0.1.0
 */
export interface GenerateOptions {
  /** The seed: the same seed and sizes give the same data. Default `1`. */
  readonly seed?: number
  /** How many accounts. Default `1`. */
  readonly accounts?: number
  /** Rooms in each account. Default `100`. */
  readonly roomsPerAccount?: number
  /** Members in each account. Default `20`. */
  readonly membersPerAccount?: number
  /**
   * The chance that a given member belongs to a given room. Default `min(1, 3 / membersPerAccount)`,
   * about three members per room.
   */
  readonly membershipRate?: number
}

/**
 * One account of a hand-written fixture: its rooms in listing order, and which rooms (by `RoomId`)
 * each member belongs to. Member entries naming an unknown `RoomId` are ignored.
 *
 * @category models
 * @since 0.1.0
 */
export interface FixtureAccount {
  readonly rooms: ReadonlyArray<Room.RoomEncoded>
  readonly members?: { readonly [memberId: string]: ReadonlyArray<string> }
}

// --- generation ----------------------------------------------------------------------------

const ADJECTIVES = [
  "Amber",
  "Bright",
  "Calm",
  "Daring",
  "Eager",
  "Fuzzy",
  "Gentle",
  "Hidden",
  "Icy",
  "Jolly",
  "Keen",
  "Lively",
  "Misty",
  "Noble",
  "Olive",
  "Proud",
  "Quiet",
  "Rapid",
  "Silver",
  "Tidy",
  "Urban",
  "Vivid",
  "Warm",
  "Young"
] as const
const NOUNS = [
  "Harbor",
  "Summit",
  "Garden",
  "Canyon",
  "Meadow",
  "Lantern",
  "Falcon",
  "Orchard",
  "Beacon",
  "Glacier",
  "Island",
  "Forest",
  "Comet",
  "Delta",
  "Prairie",
  "Reef",
  "Atlas",
  "Ember",
  "Willow",
  "Quarry",
  "Voyage",
  "Studio"
] as const
const FIRST = [
  "alice",
  "bruno",
  "chen",
  "dana",
  "emeka",
  "fatima",
  "goran",
  "hana",
  "ivan",
  "jia",
  "kofi",
  "lena"
] as const
const LAST = ["adams", "baker", "costa", "diaz", "evans", "fischer", "garcia", "haddad", "ito", "jensen"] as const

/** Salts that keep the hash streams of ids, memberships and fields apart. */
const SALT = {
  account: 0x41434354,
  awsAccount: 0x41575341,
  creator: 0x43524541,
  room: 0x524f4f4d,
  member: 0x4d454d42,
  membership: 0x4d534850
} as const

/** Rooms are created between 2019-01-01 and 2024-01-01 (about 5 years). */
const EPOCH = Date.UTC(2019, 0, 1)
const SPAN = Date.UTC(2024, 0, 1) - EPOCH
const NINETY_DAYS = 90 * 24 * 3600 * 1000
const CREATORS_PER_ACCOUNT = 8
/** Materialised member lists kept at once; each is O(rooms), so the cache is bounded. */
const MEMBER_CACHE = 64

const pick = <A>(list: ReadonlyArray<A>, h: number): A => list[h % list.length]!

const digits6 = (h: number): string => String(h % 1_000_000).padStart(6, "0")

interface GeneratedAccount {
  readonly id: string
  readonly index: number
  /** The IAM user ARNs rooms of this account are created by. */
  readonly creators: ReadonlyArray<string>
  readonly members: ReadonlyArray<string>
  readonly memberIndex: ReadonlyMap<string, number>
}

class GeneratedDataset implements Dataset {
  readonly accounts: ReadonlyArray<string>
  readonly generation: string
  private readonly byId: ReadonlyMap<string, GeneratedAccount>
  private readonly memberCache = new Map<string, ReadonlyArray<number>>()
  private readonly threshold: number

  constructor(
    private readonly seed: number,
    accountCount: number,
    private readonly rooms: number,
    membersPerAccount: number,
    membershipRate: number
  ) {
    this.threshold = Math.floor(Math.min(1, Math.max(0, membershipRate)) * 4294967296)
    const byId = new Map<string, GeneratedAccount>()
    for (let a = 0; a < accountCount; a++) {
      const w = (k: number) => hash4(seed, SALT.account, a, k)
      const id = uuidOf(w(0), w(1), w(2), w(3))
      const members: Array<string> = []
      const memberIndex = new Map<string, number>()
      for (let m = 0; m < membersPerAccount; m++) {
        const mw = (k: number) => hash5(seed, SALT.member, a, m, k)
        const memberId = uuidOf(mw(0), mw(1), mw(2), mw(3))
        members.push(memberId)
        memberIndex.set(memberId, m)
      }
      const awsAccount = digits6(hash3(seed, SALT.awsAccount, a)) + digits6(hash4(seed, SALT.awsAccount, a, 1))
      const creators = Array.from({ length: CREATORS_PER_ACCOUNT }, (_, c) => {
        const h = hash4(seed, SALT.creator, a, c)
        return `arn:aws:iam::${awsAccount}:user/${pick(FIRST, h)}.${pick(LAST, h >>> 8)}`
      })
      byId.set(id, { id, index: a, creators, members, memberIndex })
    }
    this.byId = byId
    this.accounts = [...byId.keys()]
    this.generation = `generated:v2:${seed}:${accountCount}:${rooms}:${membersPerAccount}:${this.threshold}`
  }

  roomCount(accountId: string): number | undefined {
    return this.byId.has(accountId) ? this.rooms : undefined
  }

  members(accountId: string): ReadonlyArray<string> {
    return this.byId.get(accountId)?.members ?? []
  }

  private account(accountId: string): GeneratedAccount {
    const account = this.byId.get(accountId)
    if (account === undefined) throw new RangeError("Dataset.room: unknown account")
    return account
  }

  /**
   * The six fields of a room, computed from (seed, account, index) alone: one full hash, then cheap
   * derived words, because the emulator computes every room it serves.
   */
  private fields(account: GeneratedAccount, index: number) {
    const base = hash4(this.seed, SALT.room, account.index, index)
    const w0 = derive(base, 0)
    const w1 = derive(base, 1)
    const w2 = derive(base, 2)
    const w3 = derive(base, 3)
    const t0 = derive(base, 4)
    const t1 = derive(base, 5)
    // 53-bit-safe: t0 * 2^21 < 2^53.
    const created = EPOCH + ((t0 * 2097152 + (t1 >>> 11)) % SPAN)
    const updated = (t1 & 3) === 0 ? created : created + (derive(base, 6) % NINETY_DAYS)
    return {
      createdBy: account.creators[(w2 >>> 4) % CREATORS_PER_ACCOUNT]!,
      created: Timestamp.formatIsoMillis(created),
      name: `${pick(ADJECTIVES, w0 >>> 3)} ${pick(NOUNS, w1 >>> 5)} ${index + 1}`,
      roomId: uuidOf(w0, w1, w2, w3),
      updated: Timestamp.formatIsoMillis(updated)
    }
  }

  room(accountId: string, index: number): Room.RoomEncoded {
    const account = this.account(accountId)
    const f = this.fields(account, index)
    return {
      AccountId: account.id,
      CreatedBy: f.createdBy,
      CreatedTimestamp: f.created,
      Name: f.name,
      RoomId: f.roomId,
      UpdatedTimestamp: f.updated
    }
  }

  roomJson(accountId: string, index: number): string {
    const account = this.account(accountId)
    const f = this.fields(account, index)
    // Every generated field is drawn from [A-Za-z0-9 .:/-], so none needs JSON escaping.
    return (
      `{"AccountId":"${account.id}","CreatedBy":"${f.createdBy}","CreatedTimestamp":"${f.created}",` +
      `"Name":"${f.name}","RoomId":"${f.roomId}","UpdatedTimestamp":"${f.updated}"}`
    )
  }

  memberRooms(accountId: string, memberId: string): ReadonlyArray<number> | undefined {
    const account = this.byId.get(accountId)
    const m = account?.memberIndex.get(memberId)
    if (account === undefined || m === undefined) return undefined
    const key = `${account.index}:${m}`
    const cached = this.memberCache.get(key)
    if (cached !== undefined) {
      // Re-insert: Map iteration order then doubles as least-recently-used order.
      this.memberCache.delete(key)
      this.memberCache.set(key, cached)
      return cached
    }
    const indices: Array<number> = []
    const threshold = this.threshold
    const membershipSeed = hash3(this.seed, SALT.membership, account.index)
    for (let i = 0; i < this.rooms; i++) {
      if (hash3(membershipSeed, i, m) < threshold) indices.push(i)
    }
    if (this.memberCache.size >= MEMBER_CACHE) {
      const oldest = this.memberCache.keys().next()
      if (oldest.done !== true) this.memberCache.delete(oldest.value)
    }
    this.memberCache.set(key, indices)
    return indices
  }
}

// --- hand-written fixtures ------------------------------------------------------------------

interface FixtureState {
  readonly rooms: ReadonlyArray<Room.RoomEncoded>
  readonly members: ReadonlyMap<string, ReadonlyArray<number>>
}

class FixtureDataset implements Dataset {
  readonly accounts: ReadonlyArray<string>
  readonly generation: string
  private readonly byId: ReadonlyMap<string, FixtureState>

  constructor(input: { readonly [accountId: string]: FixtureAccount }) {
    const byId = new Map<string, FixtureState>()
    for (const [accountId, account] of Object.entries(input)) {
      const rooms = [...account.rooms]
      const position = new Map<string, number>()
      rooms.forEach((room, i) => {
        if (typeof room.RoomId === "string" && !position.has(room.RoomId)) position.set(room.RoomId, i)
      })
      const members = new Map<string, ReadonlyArray<number>>()
      for (const [memberId, roomIds] of Object.entries(account.members ?? {})) {
        const indices = new Set<number>()
        for (const roomId of roomIds) {
          const i = position.get(roomId)
          if (i !== undefined) indices.add(i)
        }
        members.set(memberId, [...indices].sort((x, y) => x - y))
      }
      byId.set(accountId, { rooms, members })
    }
    this.byId = byId
    this.accounts = [...byId.keys()]
    // Content-derived, so an edited fixture invalidates old tokens and an identical one does not.
    const digest = createHash("sha256")
    for (const [accountId, state] of byId) {
      digest.update(JSON.stringify([accountId, state.rooms, [...state.members]]))
    }
    this.generation = `fixture:${digest.digest("hex").slice(0, 24)}`
  }

  roomCount(accountId: string): number | undefined {
    return this.byId.get(accountId)?.rooms.length
  }

  room(accountId: string, index: number): Room.RoomEncoded {
    const room = this.byId.get(accountId)?.rooms[index]
    if (room === undefined) throw new RangeError("Dataset.room: unknown account or index out of range")
    return room
  }

  memberRooms(accountId: string, memberId: string): ReadonlyArray<number> | undefined {
    return this.byId.get(accountId)?.members.get(memberId)
  }

  members(accountId: string): ReadonlyArray<string> {
    const state = this.byId.get(accountId)
    return state === undefined ? [] : [...state.members.keys()]
  }
}

const positiveInt = (value: number | undefined, fallback: number, min: number): number =>
  value === undefined || !Number.isFinite(value) ? fallback : Math.max(min, Math.floor(value))

/**
 * A deterministic dataset computed on demand: room `i` of an account is a pure function of
 * (seed, account, i), so memory does not grow with the room count (only a bounded cache of
 * per-member room lists does). Ids are UUIDs, `CreatedBy` an IAM user ARN, timestamps ISO-8601
 * with milliseconds and `UpdatedTimestamp >= CreatedTimestamp`.
 *
 * @example
 * ```ts
 * import { Dataset } from "@chime-rooms/testing"
 *
 * const data = Dataset.generate({ seed: 7, accounts: 2, roomsPerAccount: 100_000 })
 * const first = data.room(data.accounts[0]!, 0)
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const generate = (options: GenerateOptions = {}): Dataset => {
  const members = positiveInt(options.membersPerAccount, 20, 0)
  return new GeneratedDataset(
    Math.floor(options.seed ?? 1) | 0,
    positiveInt(options.accounts, 1, 0),
    positiveInt(options.roomsPerAccount, 100, 0),
    members,
    options.membershipRate ?? (members === 0 ? 0 : Math.min(1, 3 / members))
  )
}

/**
 * A dataset from hand-written rooms.
 *
 * @example
 * ```ts
 * import { Dataset } from "@chime-rooms/testing"
 *
 * Dataset.fromRooms({ "acc-1": { rooms: [{ RoomId: "r-1", Name: "Ops" }], members: { "u-1": ["r-1"] } } })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromRooms = (accounts: { readonly [accountId: string]: FixtureAccount }): Dataset =>
  new FixtureDataset(accounts)

/**
 * The JSON text of one room, as the service would write it inside `Rooms`.
 *
 * @category getters
 * @since 0.1.0
 */
export const roomJson = (dataset: Dataset, accountId: string, index: number): string =>
  dataset.roomJson !== undefined ? dataset.roomJson(accountId, index) : JSON.stringify(dataset.room(accountId, index))

/**
 * Every room of an account, in listing order (materialises them: for tests and small fixtures).
 *
 * @category getters
 * @since 0.1.0
 */
export const allRooms = (dataset: Dataset, accountId: string): ReadonlyArray<Room.RoomEncoded> => {
  const count = dataset.roomCount(accountId) ?? 0
  const rooms: Array<Room.RoomEncoded> = new Array(count)
  for (let i = 0; i < count; i++) rooms[i] = dataset.room(accountId, i)
  return rooms
}
