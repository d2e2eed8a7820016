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

/** Eight lowercase hex digits. */
export const hex8 = (h: number): string => (h >>> 0).toString(16).padStart(8, "0")

/**
 * A version-4-shaped UUID from four hash words: the same words always give the same id.
 */
export const uuidOf = (w0: number, w1: number, w2: number, w3: number): string => {
  const a = hex8(w0)
  const b = hex8(w1)
  const c = hex8(w2)
  const d = hex8(w3)
  const variant = "89ab"[(w2 >>> 28) & 3]
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-${variant}${c.slice(1, 4)}-${c.slice(4, 8)}${d}`
}
