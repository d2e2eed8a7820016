/**
 * A reference, not a client of ours: the least an Effect `Stream` can do over undici. Pages are
 * unfolded with `Stream.paginateChunkEffect` around a raw undici `request` + `JSON.parse` on one
 * keep-alive connection, without signing, validation, retries or a limiter. Set beside the floor
 * (the same work without Effect), it prices the Effect runtime itself in a fresh process.
 *
 * @since 0.1.0
 */
import { Chunk, Effect, Option, Stream } from "effect"
import { Client } from "undici"
import { firstPage, pagePaths, type RawPage, runClient } from "./common.js"

await runClient(async (args, counts) => {
  const url = new URL(args.endpoint)
  const client = new Client(url.origin, { pipelining: 1 })
  const pathFor = pagePaths(args.endpoint, args.account, args.pageSize)
  const get = (token: string | undefined) =>
    Effect.promise(async () => {
      const { body } = await client.request({ method: "GET", path: pathFor(token) })
      return JSON.parse(await body.text()) as RawPage
    })
  const rooms = Stream.paginateChunkEffect(
    undefined as string | undefined,
    (token) =>
      Effect.map(get(token), (page) => {
        counts.pages++
        const next = page.NextToken ?? undefined
        return [
          Chunk.unsafeFromArray(page.Rooms ?? []),
          next === undefined || next === "" ? Option.none() : Option.some(next)
        ] as const
      })
  )
  try {
    await Effect.runPromise(Stream.runForEachChunk(rooms, (chunk) => {
      firstPage(counts)
      counts.rooms += chunk.length
      return Effect.void
    }))
  } finally {
    await client.close()
  }
})
