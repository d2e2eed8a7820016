/**
 * Small, fast, deterministic 32-bit hashing for the generated dataset and the seeded fault rates.
 * Not cryptographic: it only has to be stable across runs and platforms and spread bits well.
 */

/** MurmurHash3's finaliser: a good avalanche on 32 bits. */
const fmix = (input: number): number => {
  let h = input
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** Folds one more 32-bit word into a running hash. */
const step = (h: number, word: number): number => {
  let k = Math.imul(word | 0, 0xcc9e2d51)
  k = (k << 15) | (k >>> 17)
  k = Math.imul(k, 0x1b873593)
  const x = h ^ k
  return (Math.imul((x << 13) | (x >>> 19), 5) + 0xe6546b64) | 0
}

/** Hash of two words. */
export const hash2 = (a: number, b: number): number => fmix(step(step(0x2545f491, a), b))

/** Hash of three words. */
export const hash3 = (a: number, b: number, c: number): number => fmix(step(step(step(0x2545f491, a), b), c))

/** Hash of four words. */
export const hash4 = (a: number, b: number, c: number, d: number): number =>
  fmix(step(step(step(step(0x2545f491, a), b), c), d))

/** Hash of five words. */
export const hash5 = (a: number, b: number, c: number, d: number, e: number): number =>
  fmix(step(step(step(step(step(0x2545f491, a), b), c), d), e))

/** Hash of a string (UTF-16 code units), for seeding from text. */
export const hashString = (text: string): number => {
  let h = 0x2545f491
  for (let i = 0; i < text.length; i++) h = step(h, text.charCodeAt(i))
  return fmix(step(h, text.length))
}

/** A hash as a fraction in [0, 1). */
export const unit = (h: number): number => h / 4294967296

/**
 * A cheap follow-on word from a base hash: one finaliser round per word instead of a full hash, for
 * callers that need several words per key (`derive(base, 0)`, `derive(base, 1)`, …).
 */
export const derive = (base: number, k: number): number => fmix((base + Math.imul(k + 1, 0x9e3779b9)) | 0)

/** Eight lowercase hex digits. */
export const hex8 = (h: number): string => (h >>> 0).toString(16).padStart(8, "0")

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

const hex4hi = (w: number): string => HEX[w >>> 24]! + HEX[(w >>> 16) & 255]!
const hex4lo = (w: number): string => HEX[(w >>> 8) & 255]! + HEX[w & 255]!

/**
 * A version-4-shaped UUID from four hash words: the same words always give the same id. Built from
 * a byte table because the emulator formats one per room it serves.
 */
export const uuidOf = (w0: number, w1: number, w2: number, w3: number): string => {
  const variant = "89ab"[(w2 >>> 28) & 3]!
  return (
    hex4hi(w0) + hex4lo(w0) + "-" + hex4hi(w1) + "-4" + HEX[(w1 >>> 8) & 15]!.charAt(1) + HEX[w1 & 255]! + "-" +
    variant + HEX[(w2 >>> 24) & 15]!.charAt(1) + HEX[(w2 >>> 16) & 255]! + "-" + hex4lo(w2) + hex4hi(w3) + hex4lo(w3)
  )
}
