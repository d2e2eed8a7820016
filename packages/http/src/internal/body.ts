/**
 * Reading a response body with a cap, whichever `HttpClient` gave the response.
 */
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { BodyTooLargeError, decodeUtf8 } from "./undici.js"

/**
 * The body as text, refused as soon as its bytes pass `maxBytes`: reading stops there, and
 * interrupting the body's stream drops the connection, whichever client it came from.
 */
export const boundedText = (
  response: HttpClientResponse.HttpClientResponse,
  maxBytes: number
): Effect.Effect<string, HttpClientError.ResponseError | BodyTooLargeError> =>
  Effect.map(
    Stream.runFoldEffect(response.stream, { chunks: [] as Array<Uint8Array>, size: 0 }, (read, chunk) => {
      read.size += chunk.length
      if (read.size > maxBytes) return Effect.fail(new BodyTooLargeError(maxBytes))
      read.chunks.push(chunk)
      return Effect.succeed(read)
    }),
    ({ chunks, size }) => {
      const only = chunks.length === 1 ? chunks[0]! : undefined
      return decodeUtf8(only !== undefined ? Buffer.from(only.buffer, only.byteOffset, only.byteLength) : Buffer.concat(chunks, size))
    }
  )
