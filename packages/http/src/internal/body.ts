/**
 * Reading a response body with a cap, whichever `HttpClient` gave the response, and the errors of a
 * body refused for its size.
 */
import { ChimeError } from "@chime-rooms/core"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

/**
 * The cause of a response whose body is larger than its reader's cap (announced by its
 * `content-length`, or counted as it streams in); the request is aborted at once.
 */
export class BodyTooLargeError extends Error {
  readonly code = "ERR_BODY_TOO_LARGE"
  constructor(readonly maxBytes: number) {
    super(`the response body is larger than ${maxBytes} bytes`)
    this.name = "BodyTooLargeError"
  }
}

/** As undici's `body.text()`: UTF-8, a leading byte order mark dropped. */
export const decodeUtf8 = (body: Buffer): string => {
  const start = body.length > 2 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0
  return body.toString("utf8", start)
}

/** The error of a body refused for its size. */
export const tooLarge = (
  status: number,
  requestId: string | undefined,
  maxBytes: number
): ChimeError.ResponseDecodeError =>
  new ChimeError.ResponseDecodeError({
    reason: "TooLarge",
    message: `ListRooms response body is larger than ${maxBytes} bytes`,
    status,
    ...(requestId !== undefined ? { requestId } : {})
  })

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
      return decodeUtf8(
        only !== undefined ? Buffer.from(only.buffer, only.byteOffset, only.byteLength) : Buffer.concat(chunks, size)
      )
    }
  )
