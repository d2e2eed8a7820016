/**
 * Opaque, tamper-evident `NextToken`s shared by the in-memory layer and the emulator.
 *
 * A token is base64url of `[version:1][position:6][mac:16]`. The MAC is HMAC-SHA256 (truncated to
 * 128 bits) with a per-instance secret over the version, the dataset generation, the account, the
 * member filter and the position. Account and member filter are bound by the MAC rather than
 * carried, so the token stays short and says nothing about the request; the price is that a token
 * from another generation, account or filter cannot be told apart from a forged one: all three are
 * a `"BadSignature"`.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto"

const VERSION = 1
const POSITION_BYTES = 6
const MAC_BYTES = 16
const TOKEN_BYTES = 1 + POSITION_BYTES + MAC_BYTES
/** base64url of 23 bytes, without padding. */
const TOKEN_CHARS = Math.ceil((TOKEN_BYTES * 4) / 3)
const BASE64URL = /^[A-Za-z0-9_-]+$/

/** What a token is valid for: anything else presenting it is refused. */
export interface TokenScope {
  /** The dataset's generation: a re-seeded or replaced dataset invalidates every earlier token. */
  readonly generation: string
  readonly accountId: string
  /** The `MemberId` filter; `undefined` (or `""`) for none. */
  readonly memberId: string | undefined
}

/** Why a token was refused. */
export type TokenRejection =
  /** Not a token this codec could have written (wrong length, alphabet or version). */
  | "Malformed"
  /** Well-formed but not signed for this scope by this secret: forged, modified, stale or foreign. */
  | "BadSignature"

/** The outcome of {@link decodeToken}. */
export type DecodedToken =
  | { readonly _tag: "Position"; readonly position: number }
  | { readonly _tag: "Rejected"; readonly reason: TokenRejection }

/** A fresh random 256-bit secret: each fake instance gets its own, so tokens never cross instances. */
export const makeTokenSecret = (): Uint8Array => new Uint8Array(randomBytes(32))

/** A secret from text, for callers that want tokens stable across restarts (for example `--token-secret`). */
export const tokenSecretFromString = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "utf8"))

/** Length-prefixes each part so that no two different scopes produce the same MAC input. */
const field = (value: string): string => `${value.length}:${value}`

const mac = (secret: Uint8Array, scope: TokenScope, position: number): Buffer =>
  createHmac("sha256", secret)
    .update(
      `chime-rooms-token|v${VERSION}|${field(scope.generation)}|${field(scope.accountId)}|` +
        `${scope.memberId === undefined || scope.memberId === "" ? "-" : field(scope.memberId)}|${position}`
    )
    .digest()
    .subarray(0, MAC_BYTES)

/** The largest position a token can carry (48 bits). */
export const MAX_POSITION = 2 ** (8 * POSITION_BYTES) - 1

/**
 * Writes the token that resumes a listing of `scope` at `position` (an offset into the listed
 * sequence). Deterministic: the same secret, scope and position always give the same token.
 */
export const encodeToken = (secret: Uint8Array, scope: TokenScope, position: number): string => {
  const bytes = Buffer.allocUnsafe(TOKEN_BYTES)
  bytes[0] = VERSION
  bytes.writeUIntBE(position, 1, POSITION_BYTES)
  mac(secret, scope, position).copy(bytes, 1 + POSITION_BYTES)
  return bytes.toString("base64url")
}

/** Reads a token back, checking its MAC against `scope` in constant time. */
export const decodeToken = (secret: Uint8Array, scope: TokenScope, token: string): DecodedToken => {
  if (token.length !== TOKEN_CHARS || !BASE64URL.test(token)) return { _tag: "Rejected", reason: "Malformed" }
  const bytes = Buffer.from(token, "base64url")
  // Non-canonical encodings (different trailing bits) decode to the same bytes; refusing them keeps
  // "one token, one spelling", so a modified character is never silently accepted.
  if (bytes.length !== TOKEN_BYTES || bytes.toString("base64url") !== token || bytes[0] !== VERSION) {
    return { _tag: "Rejected", reason: "Malformed" }
  }
  const position = bytes.readUIntBE(1, POSITION_BYTES)
  const expected = mac(secret, scope, position)
  const given = bytes.subarray(1 + POSITION_BYTES)
  return timingSafeEqual(expected, given)
    ? { _tag: "Position", position }
    : { _tag: "Rejected", reason: "BadSignature" }
}
