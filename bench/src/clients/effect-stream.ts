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
import { firstPage, runClient } from "./common.js"

interface Page {
  readonly NextToken?: string | null
  readonly Rooms?: ReadonlyArray<unknown>
}

await runClient(async (args, counts) => {
  const url = new URL(args.endpoint)
  const client = new Client(url.origin, { pipelining: 1 })
  const base = `${url.pathname.replace(/\/$/, "")}/accounts/${encodeURIComponent(args.account)}/rooms?max-results=${args.pageSize}`
  const get = (token: string | undefined) =>
    Effect.promise(async () => {
      const { body } = await client.request({
        method: "GET",
        path: token === undefined ? base : `${base}&next-token=${encodeURIComponent(token)}`
      })
      return JSON.parse(await body.text()) as Page
    })
  const rooms = Stream.paginateChunkEffect(undefined as string | undefined, (token) =>
    Effect.map(get(token), (page) => {
      counts.pages++
      const next = page.NextToken ?? undefined
      return [
        Chunk.unsafeFromArray(page.Rooms ?? []),
        next === undefined || next === "" ? Option.none() : Option.some(next)
      ] as const
    }))
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
