import { Dataset } from "@chime-rooms/testing"
import { describe, expect, it } from "@effect/vitest"
import {
  decodeToken,
  encodeToken,
  makeTokenSecret,
  type TokenScope,
  tokenSecretFromString
} from "../src/internal/pageToken.js"
import { DEFAULT_PAGE_SIZE, makePagingState, type Page, type PageError, pageOf } from "../src/internal/paging.js"

const scope: TokenScope = { generation: "gen-1", accountId: "acc-1", memberId: undefined }

/** Flips one bit of the decoded token and re-encodes it, so the result is still well-formed base64url. */
const flipByte = (token: string, index: number): string => {
  const bytes = Buffer.from(token, "base64url")
  bytes[index] = bytes[index]! ^ 0x01
  return bytes.toString("base64url")
}

describe("page tokens", () => {
  it("round-trip a position, deterministically for one secret", () => {
    const secret = makeTokenSecret()
    for (const position of [0, 1, 99, 100_000, 2 ** 40]) {
      const token = encodeToken(secret, scope, position)
      expect(token).toMatch(/^[A-Za-z0-9_-]{31}$/)
      expect(encodeToken(secret, scope, position)).toBe(token)
      expect(decodeToken(secret, scope, token)).toEqual({ _tag: "Position", position })
    }
  })

  it("do not show the position, account or member in clear", () => {
    const secret = makeTokenSecret()
    const t1 = encodeToken(secret, scope, 10)
    const t2 = encodeToken(secret, scope, 20)
    expect(t1).not.toContain("acc-1")
    // Positions differ only in a few bytes, but the MACs make the tokens differ widely.
    const differing = [...t1].filter((c, i) => c !== t2[i]).length
    expect(differing).toBeGreaterThan(15)
  })

  it("reject every single modified byte", () => {
    const secret = makeTokenSecret()
    const token = encodeToken(secret, scope, 30)
    for (let i = 0; i < 23; i++) {
      const tampered = flipByte(token, i)
      expect(tampered).not.toBe(token)
      expect(decodeToken(secret, scope, tampered)._tag).toBe("Rejected")
    }
  })

  it("reject a forged token (right shape, made without the secret)", () => {
    const secret = makeTokenSecret()
    const forged = encodeToken(makeTokenSecret(), scope, 30)
    expect(decodeToken(secret, scope, forged)).toEqual({ _tag: "Rejected", reason: "BadSignature" })
    // A bare index or a guessed blob is malformed.
    for (const guess of ["30", "", "AAAA", "a".repeat(31) + "=", "!".repeat(31), encodeToken(secret, scope, 1) + "A"]) {
      expect(decodeToken(secret, scope, guess)).toEqual({ _tag: "Rejected", reason: "Malformed" })
    }
  })

  it("reject a token of another generation, account, member filter or secret", () => {
    const secret = tokenSecretFromString("fixed")
    const token = encodeToken(secret, scope, 30)
    expect(decodeToken(tokenSecretFromString("fixed"), scope, token)._tag).toBe("Position")
    const others: ReadonlyArray<TokenScope> = [
      { ...scope, generation: "gen-2" },
      { ...scope, accountId: "acc-2" },
      { ...scope, memberId: "u-1" }
    ]
    for (const other of others) {
      expect(decodeToken(secret, other, token)).toEqual({ _tag: "Rejected", reason: "BadSignature" })
    }
    expect(decodeToken(tokenSecretFromString("other"), scope, token)._tag).toBe("Rejected")
    // A member-filtered token is not valid unfiltered, nor for another member.
    const filtered = encodeToken(secret, { ...scope, memberId: "u-1" }, 5)
    expect(decodeToken(secret, scope, filtered)._tag).toBe("Rejected")
    expect(decodeToken(secret, { ...scope, memberId: "u-2" }, filtered)._tag).toBe("Rejected")
    expect(decodeToken(secret, { ...scope, memberId: "u-1" }, filtered)).toEqual({ _tag: "Position", position: 5 })
  })

  it("reject non-canonical spellings of a valid token", () => {
    const secret = makeTokenSecret()
    const token = encodeToken(secret, scope, 30)
    // The last base64url character carries 4 unused bits; changing them decodes to the same bytes.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    const last = alphabet.indexOf(token[token.length - 1]!)
    const twin = token.slice(0, -1) + alphabet[last ^ 1]
    expect(Buffer.from(twin, "base64url")).toEqual(Buffer.from(token, "base64url"))
    expect(decodeToken(secret, scope, twin)).toEqual({ _tag: "Rejected", reason: "Malformed" })
  })
})

const expectPage = (result: Page | PageError): Page => {
  if (result._tag !== "Page") throw new Error(`expected a page, got ${result.name}: ${result.message}`)
  return result
}

describe("pageOf", () => {
  const data = Dataset.generate({ seed: 5, accounts: 2, roomsPerAccount: 95, membersPerAccount: 6 })
  const account = data.accounts[0]!

  it("pages through every room once, in order, with the default page size and no token on the last page", () => {
    const state = makePagingState({ dataset: data })
    const seen: Array<number> = []
    let token: string | undefined
    let pages = 0
    do {
      const page = expectPage(
        pageOf(state, token === undefined ? { AccountId: account } : { AccountId: account, NextToken: token })
      )
      pages++
      expect(page.indices.length).toBe(page.nextToken === undefined ? 95 - seen.length : DEFAULT_PAGE_SIZE)
      for (const i of page.indices) seen.push(i)
      token = page.nextToken
    } while (token !== undefined)
    expect(pages).toBe(10)
    expect(seen).toEqual(Array.from({ length: 95 }, (_, i) => i))
  })

  it("honours MaxResults, and the state's page size when it is absent", () => {
    const state = makePagingState({ dataset: data, pageSize: 40 })
    expect(expectPage(pageOf(state, { AccountId: account })).indices).toHaveLength(40)
    const first = expectPage(pageOf(state, { AccountId: account, MaxResults: 99 }))
    expect(first.indices).toHaveLength(95)
    expect(first.nextToken).toBeUndefined()
    const one = expectPage(pageOf(state, { AccountId: account, MaxResults: 1 }))
    expect(one.indices).toEqual([0])
    // MaxResults may change between pages.
    const next = expectPage(pageOf(state, { AccountId: account, MaxResults: 3, NextToken: one.nextToken! }))
    expect(next.indices).toEqual([1, 2, 3])
  })

  it("refuses MaxResults outside 1..99 with BadRequestException", () => {
    const state = makePagingState({ dataset: data })
    for (const max of [0, 100, -1, 1.5, Number.NaN]) {
      const result = pageOf(state, { AccountId: account, MaxResults: max })
      expect(result).toMatchObject({ _tag: "Error", name: "BadRequestException" })
    }
  })

  it("answers NotFoundException for an unknown account", () => {
    const state = makePagingState({ dataset: data })
    expect(pageOf(state, { AccountId: "nope" })).toMatchObject({ _tag: "Error", name: "NotFoundException" })
  })

  it("filters by member, and an unknown member has no rooms", () => {
    const state = makePagingState({ dataset: data, pageSize: 4 })
    const member = data.members(account)[2]!
    const expected = data.memberRooms(account, member)!
    expect(expected.length).toBeGreaterThan(4)
    const seen: Array<number> = []
    let token: string | undefined
    do {
      const page = expectPage(
        pageOf(state, { AccountId: account, MemberId: member, ...(token === undefined ? {} : { NextToken: token }) })
      )
      for (const i of page.indices) seen.push(i)
      token = page.nextToken
    } while (token !== undefined)
    expect(seen).toEqual(expected)
    const none = expectPage(pageOf(state, { AccountId: account, MemberId: "stranger" }))
    expect(none.indices).toEqual([])
    expect(none.nextToken).toBeUndefined()
  })

  it("refuses tokens of another account, member filter, instance or generation", () => {
    const state = makePagingState({ dataset: data, pageSize: 5 })
    const member = data.members(account)[0]!
    const token = expectPage(pageOf(state, { AccountId: account })).nextToken!
    const memberToken = expectPage(pageOf(state, { AccountId: account, MemberId: member, MaxResults: 1 })).nextToken!
    const bad = { _tag: "Error", name: "BadRequestException" }
    expect(pageOf(state, { AccountId: data.accounts[1]!, NextToken: token })).toMatchObject(bad)
    expect(pageOf(state, { AccountId: account, MemberId: member, NextToken: token })).toMatchObject(bad)
    expect(pageOf(state, { AccountId: account, NextToken: memberToken })).toMatchObject(bad)
    expect(pageOf(makePagingState({ dataset: data, pageSize: 5 }), { AccountId: account, NextToken: token }))
      .toMatchObject(bad)
    const reseeded = makePagingState({
      dataset: Dataset.generate({ seed: 6, accounts: 2, roomsPerAccount: 95 }),
      secret: state.secret
    })
    const reseededAccount = reseeded.dataset.accounts[0]!
    expect(pageOf(reseeded, { AccountId: reseededAccount, NextToken: token })).toMatchObject(bad)
    // Same secret, same generation: the token is honoured (what a restarted emulator with a pinned secret does).
    const twin = makePagingState({
      dataset: Dataset.generate({ seed: 5, accounts: 2, roomsPerAccount: 95, membersPerAccount: 6 }),
      pageSize: 5,
      secret: state.secret
    })
    expect(expectPage(pageOf(twin, { AccountId: account, NextToken: token })).indices).toEqual([5, 6, 7, 8, 9])
  })

  it("repeatToken answers with a token that leads back to the same page", () => {
    const state = makePagingState({ dataset: data, pageSize: 10 })
    const first = expectPage(pageOf(state, { AccountId: account }))
    const second = expectPage(pageOf(state, { AccountId: account, NextToken: first.nextToken! }, { repeatToken: true }))
    expect(second.indices).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19])
    expect(second.nextToken).toBe(first.nextToken)
    // Even on the last page, and even on the first.
    const last = expectPage(pageOf(state, { AccountId: account, MaxResults: 99 }, { repeatToken: true }))
    expect(last.nextToken).toBeDefined()
    expect(expectPage(pageOf(state, { AccountId: account, MaxResults: 99, NextToken: last.nextToken! })).indices)
      .toEqual(last.indices)
  })

  it("builds only the page's indices for a 100,000-room account", () => {
    const big = Dataset.generate({ seed: 1, roomsPerAccount: 100_000 })
    const state = makePagingState({ dataset: big })
    const bigAccount = big.accounts[0]!
    let token = expectPage(pageOf(state, { AccountId: bigAccount, MaxResults: 99 })).nextToken!
    const started = performance.now()
    let pages = 1
    let lastIndex = -1
    while (token !== undefined) {
      const page = expectPage(pageOf(state, { AccountId: bigAccount, MaxResults: 99, NextToken: token }))
      lastIndex = page.indices[page.indices.length - 1] ?? lastIndex
      pages++
      if (page.nextToken === undefined) break
      token = page.nextToken
    }
    expect(pages).toBe(Math.ceil(100_000 / 99))
    expect(lastIndex).toBe(99_999)
    expect(performance.now() - started).toBeLessThan(2000)
  })
})
