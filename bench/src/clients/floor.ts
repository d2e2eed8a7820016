/**
 * The floor: the least work that can list every room. Undici requests on one keep-alive
 * connection, `JSON.parse`, no signing, no validation. Any status but 200 fails the run, except:
 * with `--mode retry` a 429 is retried naively after its `Retry-After` (or 20 ms when absent); with
 * `--mode paced` (the throttling table) requests are also spaced at the known `--rate`, the least
 * work that respects a limit it is told.
 *
 * @since 0.1.0
 */
import { setTimeout as sleep } from "node:timers/promises"
import { Client } from "undici"
import { firstPage, pagePaths, type RawPage, runClient, work } from "./common.js"

await runClient(async (args, counts) => {
  const url = new URL(args.endpoint)
  const client = new Client(url.origin, { pipelining: 1 })
  const pathFor = pagePaths(args.endpoint, args.account, args.pageSize)
  const paced = args.mode === "paced"
  const retry = paced || args.mode === "retry"
  const interval = 1000 / args.rate
  let slot = performance.now()
  counts.requests = 0
  counts.throttled = 0
  let token: string | undefined
  try {
    for (;;) {
      const path = pathFor(token)
      if (paced) {
        const now = performance.now()
        if (slot > now) await sleep(slot - now)
        slot = Math.max(slot, now) + interval
      }
      counts.requests++
      const { statusCode, headers, body } = await client.request({ method: "GET", path })
      if (statusCode === 429 && retry) {
        counts.throttled++
        await body.dump()
        const after = Number(headers["retry-after"])
        await sleep(Number.isFinite(after) && after > 0 ? after * 1000 : 20)
        continue
      }
      if (statusCode !== 200) {
        await body.dump()
        throw Object.assign(new Error("unexpected status"), { name: "HttpStatus", status: statusCode })
      }
      const page = JSON.parse(await body.text()) as RawPage
      firstPage(counts)
      counts.pages++
      counts.rooms += page.Rooms?.length ?? 0
      work(args.workMs)
      token = page.NextToken ?? undefined
      if (token === undefined || token === "" || (args.limit > 0 && counts.rooms >= args.limit)) break
    }
  } finally {
    await client.close()
  }
})
