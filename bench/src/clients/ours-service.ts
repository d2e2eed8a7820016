/**
 * A reference for finding where our time goes, not a row of the table: this library's
 * `HttpChimeRooms` (signing, validation, decoding, over the lean `UndiciHttpClient`) unfolded by a
 * bare `Stream.paginateChunkEffect`, as the Effect-Stream reference unfolds the floor's requests,
 * with no rate limiter, retries or metrics. Set beside `effect-stream.js` it prices the `http` and
 * `core` work per page; set beside `ours-undici.js`, the stream's resilience.
 *
 * @since 0.1.0
 */
import { ChimeRooms, type ListRoomsRequest } from "@chime-rooms/core"
import { Credentials, HttpChimeRooms, UndiciHttpClient } from "@chime-rooms/http"
import { Chunk, Effect, Layer, Option, Redacted, Stream } from "effect"
import { firstPage, runClient } from "./common.js"

await runClient(async (args, counts) => {
  const live = HttpChimeRooms.layer({ endpoint: args.endpoint }).pipe(
    Layer.provide(UndiciHttpClient.layer),
    Layer.provide(Credentials.layerStatic({ accessKeyId: args.accessKey, secretAccessKey: Redacted.make(args.secret) }))
  )
  const first: ListRoomsRequest.ListRoomsRequest = { AccountId: args.account, MaxResults: args.pageSize }
  const program = Effect.flatMap(ChimeRooms.ChimeRooms, (service) =>
    Stream.runForEachChunk(
      Stream.paginateChunkEffect(first, (request) =>
        Effect.map(service.listRooms(request), (page) => {
          counts.pages++
          const next = page.NextToken
          return [
            Chunk.unsafeFromArray(page.Rooms),
            next === undefined
              ? Option.none()
              : Option.some<ListRoomsRequest.ListRoomsRequest>({ ...first, NextToken: next })
          ] as const
        })),
      (chunk) => {
        firstPage(counts)
        counts.rooms += chunk.length
        return Effect.void
      }
    ))
  await Effect.runPromise(Effect.provide(program, live))
})
