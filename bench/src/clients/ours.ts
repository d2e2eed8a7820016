/**
 * This library's client, shared by the three transport entries (`ours-undici`, `ours-platform`,
 * `ours-fetch`): `ChimeRoomsStream.rooms` over `HttpChimeRooms` with static credentials and the
 * default `Resilience` layer (adaptive limiter), or with `--mode fixed` a fixed limiter of
 * `--rate` requests/s; `--prefetch N` sets the stream's `prefetch`; `--streams N` runs N listings
 * of the account at once on the one layer (one shared limiter). Requests and throttles come
 * from the layer's `ChimeMetrics`.
 *
 * @since 0.1.0
 */
import { Credentials, HttpChimeRooms } from "@chime-rooms/http"
import { ChimeMetrics, ChimeRateLimiter, ChimeRoomsStream, Resilience } from "@chime-rooms/stream"
import type { HttpClient } from "@effect/platform"
import { Effect, Layer, Redacted, Stream } from "effect"
import { firstPage, runClient, work } from "./common.js"

/** Lists with `httpClient` as the transport and prints the report. */
export const runOurs = (httpClient: Layer.Layer<HttpClient.HttpClient>): Promise<void> =>
  runClient(async (args, counts) => {
    const live = HttpChimeRooms.layer({ endpoint: args.endpoint }).pipe(
      Layer.provide(httpClient),
      Layer.provide(
        Credentials.layerStatic({ accessKeyId: args.accessKey, secretAccessKey: Redacted.make(args.secret) })
      )
    )
    const resilience = Resilience.layer(
      args.mode === "fixed" ? { rateLimiter: ChimeRateLimiter.layerFixed({ rate: args.rate }) } : {}
    )
    const all = ChimeRoomsStream.rooms({ AccountId: args.account, MaxResults: args.pageSize }, {
      prefetch: args.prefetch
    })
    const record = Effect.map(ChimeMetrics.snapshot, (stats) => {
      counts.pages = stats.pages
      counts.requests = stats.requests
      counts.throttled = stats.throttles
    })
    const listing = Stream.runForEachChunk(
      args.limit > 0 ? Stream.take(all, args.limit) : all,
      (chunk) => {
        firstPage(counts)
        counts.rooms += chunk.length
        work(args.workMs)
        // Under a deadline the counts must be current when it strikes; otherwise read them once.
        return args.deadlineMs > 0 ? record : Effect.void
      }
    )
    const program = Effect.gen(function*() {
      // `--streams N`: N listings at once under one provided layer, so they share its one limiter.
      yield* args.streams === 1
        ? listing
        : Effect.all(Array.from({ length: args.streams }, () => listing), { concurrency: "unbounded", discard: true })
      yield* record
    })
    const result = await Effect.runPromise(
      // Provided as the README does it, one `Effect.provide` each: a `Layer.merge` of the two
      // costs some 500 more effect operations to build, run cold before the first request.
      program.pipe(Effect.provide(resilience), Effect.provide(live), Effect.either)
    )
    if (result._tag === "Left") throw result.left
  })
