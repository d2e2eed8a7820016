/**
 * The adaptive limiter's default model (`mode: "model"`) on its own: a learned model of the
 * server's token bucket that a caller drives with its own clock, and that can be written out and
 * read back exactly. `@chime-rooms/redis` keeps one in Redis, so that every worker of an account
 * feeds one model and paces by it.
 *
 * Times are seconds on any clock that only moves forward (the Redis server's `TIME` there).
 *
 * @since 0.2.0
 */
import * as Option from "effect/Option"
import type { AdaptiveOptions } from "./ChimeRateLimiter.js"
import { type ModelParameters, modelParameters, ModelState } from "./internal/adaptive/serverModel.js"

/**
 * A model of the server's token bucket, as `ChimeRateLimiter.makeAdaptive()` uses it.
 *
 * @category models
 * @since 0.2.0
 */
export interface ServerModel {
  /** Permits per second now in force; `undefined` while unlimited. */
  readonly rate: number | undefined
  /** Books a permit at `now` (seconds); returns how long (seconds) to wait before sending. */
  reserve(now: number): number
  /** Gives back a permit booked by `reserve` that will not be used. */
  refund(): void
  /** Feeds back one response at `now` (seconds): throttled or not. */
  update(now: number, throttled: boolean): void
  /**
   * Bumped when a throttle withdraws the reservations of the callers still waiting: a caller whose
   * wait ends under another epoch than it booked in books again with `rebook`, at the new pace.
   */
  readonly epoch: number
  /** Whether a caller woken at `now` for a reservation due at `due` is more than one interval late. */
  overdue(due: number, now: number): boolean
  /** Books again (seconds to wait) for a caller whose reservation was withdrawn or is overdue. */
  rebook(now: number): number
  /** Forgets a withdrawn reservation whose caller stopped waiting. */
  forget(): void
}

/**
 * The model's parameters from the adaptive limiter's options, as `makeAdaptive` reads them: every
 * parameter the options set, the default for the others.
 */
const parametersOf = (options: AdaptiveOptions | undefined): ModelParameters => {
  const params: Record<string, unknown> = { ...modelParameters }
  if (options !== undefined) {
    for (const key of Object.keys(modelParameters)) {
      const value = (options as Record<string, unknown>)[key]
      if (value !== undefined) params[key] = value
    }
  }
  return params as unknown as ModelParameters
}

/**
 * A fresh model, started at `now` (seconds); `options` as `ChimeRateLimiter.makeAdaptive`'s (its
 * `mode` is ignored: this is the model mode).
 *
 * @example
 * ```ts
 * import { ServerModel } from "@chime-rooms/stream"
 *
 * const model = ServerModel.make({ initialRate: 10 }, 0)
 * model.reserve(0) // 0: send at once
 * model.reserve(0) // 0.1: wait 100 ms
 * ```
 *
 * @category constructors
 * @since 0.2.0
 */
export const make = (options: AdaptiveOptions | undefined, now: number): ServerModel =>
  new ModelState(parametersOf(options), now)

/** The version of the encoding; a text of another version decodes to nothing. */
const VERSION = 1

const typedArrays = {
  Float64Array: { make: (n: number) => new Float64Array(n), size: 8 },
  Float32Array: { make: (n: number) => new Float32Array(n), size: 4 },
  Int32Array: { make: (n: number) => new Int32Array(n), size: 4 },
  Uint32Array: { make: (n: number) => new Uint32Array(n), size: 4 },
  Int16Array: { make: (n: number) => new Int16Array(n), size: 2 },
  Uint16Array: { make: (n: number) => new Uint16Array(n), size: 2 },
  Int8Array: { make: (n: number) => new Int8Array(n), size: 1 },
  Uint8Array: { make: (n: number) => new Uint8Array(n), size: 1 }
} as const

type TypedArrayName = keyof typeof typedArrays

const typedArrayName = (value: object): TypedArrayName | undefined => {
  const name = value.constructor?.name
  return name !== undefined && Object.hasOwn(typedArrays, name) &&
      value instanceof (globalThis as unknown as Record<string, new() => object>)[name]!
    ? name as TypedArrayName
    : undefined
}

/** Node's `Buffer` where there is one: its base64 is some ten times faster than `btoa`'s. */
const NodeBuffer = (globalThis as {
  readonly Buffer?: {
    from(bytes: Uint8Array): { toString(encoding: "base64"): string }
    from(text: string, encoding: "base64"): Uint8Array
  }
}).Buffer

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

const toBase64 = (bytes: Uint8Array): string => {
  if (NodeBuffer !== undefined) return NodeBuffer.from(bytes).toString("base64")
  let binary = ""
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  }
  return btoa(binary)
}

const fromBase64 = (base64: string): Uint8Array => {
  if (NodeBuffer !== undefined) return NodeBuffer.from(base64, "base64")
  const binary = atob(base64)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

/** Little-endian bytes, whatever the platform's order, in base64. */
const bytesOf = (array: ArrayLike<number>, name: TypedArrayName): string => {
  if (littleEndian) {
    const typed = array as unknown as Uint8Array
    return toBase64(new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength))
  }
  const { size } = typedArrays[name]
  const view = new DataView(new ArrayBuffer(array.length * size))
  for (let i = 0; i < array.length; i++) {
    const x = array[i]!
    const at = i * size
    switch (name) {
      case "Float64Array":
        view.setFloat64(at, x, true)
        break
      case "Float32Array":
        view.setFloat32(at, x, true)
        break
      case "Int32Array":
        view.setInt32(at, x, true)
        break
      case "Uint32Array":
        view.setUint32(at, x, true)
        break
      case "Int16Array":
        view.setInt16(at, x, true)
        break
      case "Uint16Array":
        view.setUint16(at, x, true)
        break
      case "Int8Array":
        view.setInt8(at, x)
        break
      case "Uint8Array":
        view.setUint8(at, x)
        break
    }
  }
  return toBase64(new Uint8Array(view.buffer))
}

const fromBytes = (base64: string, name: TypedArrayName): ArrayLike<number> & object => {
  const bytes = fromBase64(base64)
  const { make, size } = typedArrays[name]
  if (bytes.length % size !== 0) throw new Error("bad length")
  const array = make(bytes.length / size)
  if (littleEndian) {
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(bytes)
    return array
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let i = 0; i < array.length; i++) {
    const at = i * size
    switch (name) {
      case "Float64Array":
        array[i] = view.getFloat64(at, true)
        break
      case "Float32Array":
        array[i] = view.getFloat32(at, true)
        break
      case "Int32Array":
        array[i] = view.getInt32(at, true)
        break
      case "Uint32Array":
        array[i] = view.getUint32(at, true)
        break
      case "Int16Array":
        array[i] = view.getInt16(at, true)
        break
      case "Uint16Array":
        array[i] = view.getUint16(at, true)
        break
      case "Int8Array":
        array[i] = view.getInt8(at)
        break
      case "Uint8Array":
        array[i] = view.getUint8(at)
        break
    }
  }
  return array
}

/**
 * A value as JSON that reads back exactly: numbers JSON cannot hold (`Infinity`, `NaN`, `-0`),
 * `undefined`, typed arrays and nested objects are tagged. Anything else (a `Map`, a class) is a
 * field the encoding does not know: a defect, caught by the round-trip test.
 */
const encodeValue = (value: unknown, path: string): unknown => {
  switch (typeof value) {
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0)
        ? value
        : { $n: String(Object.is(value, -0) ? "-0" : value) }
    case "string":
    case "boolean":
      return value
    case "undefined":
      return { $u: 1 }
    case "object": {
      if (value === null) return null
      if (Array.isArray(value)) return value.map((item, i) => encodeValue(item, `${path}[${i}]`))
      const name = typedArrayName(value)
      if (name !== undefined) return { $t: name, b: bytesOf(value as unknown as ArrayLike<number>, name) }
      if (Object.getPrototypeOf(value) === Object.prototype) {
        const fields: Record<string, unknown> = {}
        for (const [key, field] of Object.entries(value)) fields[key] = encodeValue(field, `${path}.${key}`)
        return { $o: fields }
      }
    }
  }
  throw new Error(`ServerModel.encode: ${path} holds a value the encoding does not know`)
}

const decodeValue = (json: unknown): unknown => {
  if (json === null || typeof json !== "object") return json
  if (Array.isArray(json)) return json.map(decodeValue)
  const tagged = json as Record<string, unknown>
  if (typeof tagged.$n === "string") return tagged.$n === "-0" ? -0 : Number(tagged.$n)
  if (tagged.$u === 1) return undefined
  if (typeof tagged.$t === "string" && typeof tagged.b === "string" && Object.hasOwn(typedArrays, tagged.$t)) {
    return fromBytes(tagged.b, tagged.$t as TypedArrayName)
  }
  if (typeof tagged.$o === "object" && tagged.$o !== null) {
    const fields: Record<string, unknown> = {}
    for (const [key, field] of Object.entries(tagged.$o)) fields[key] = decodeValue(field)
    return fields
  }
  throw new Error("unknown tag")
}

/**
 * The model's state as text: every field but its parameters (which come from the options), so a
 * field the model gains later is carried without a change here. `decode` reads it back exactly.
 *
 * @category encoding
 * @since 0.2.0
 */
export const encode = (model: ServerModel): string => {
  if (!(model instanceof ModelState)) throw new TypeError("ServerModel.encode: not a model made by ServerModel.make")
  const fields: Record<string, unknown> = {}
  for (const key of Object.keys(model)) {
    if (key === "params") continue
    fields[key] = encodeValue((model as unknown as Record<string, unknown>)[key], key)
  }
  return JSON.stringify({ v: VERSION, f: fields })
}

const kindOf = (value: unknown): string =>
  value === undefined || value === null
    ? "empty"
    : typeof value === "object"
    ? typedArrayName(value) ?? (Array.isArray(value) ? "array" : "object")
    : typeof value

/**
 * A model from the text `encode` wrote, with the parameters of `options`; `None` when the text is
 * not such a model (another version of the encoding, a field of another kind): start afresh then.
 *
 * @category encoding
 * @since 0.2.0
 */
export const decode = (text: string, options?: AdaptiveOptions): Option.Option<ServerModel> => {
  try {
    const json = JSON.parse(text) as { v?: unknown; f?: unknown }
    if (json.v !== VERSION || typeof json.f !== "object" || json.f === null) return Option.none()
    const model = new ModelState(parametersOf(options), 0)
    const target = model as unknown as Record<string, unknown>
    for (const [key, field] of Object.entries(json.f as Record<string, unknown>)) {
      // A field this version of the model no longer has is dropped; one it gained keeps its start value.
      if (key === "params" || !Object.hasOwn(target, key)) continue
      const value = decodeValue(field)
      const before = kindOf(target[key])
      const after = kindOf(value)
      if (before !== after && before !== "empty" && after !== "empty") return Option.none()
      target[key] = value
    }
    return Option.some(model)
  } catch {
    return Option.none()
  }
}
