/**
 * `@aws-sdk/client-chime`'s `paginateListRooms`, as a user would write it. `--mode standard`
 * (the SDK's default) or `--mode adaptive` picks the retry mode. A middleware in the `deserialize`
 * step (inside the retry loop, so it sees every attempt) counts requests and 429 answers.
 *
 * @since 0.1.0
 */
import { ChimeClient, paginateListRooms } from "@aws-sdk/client-chime"
import { firstPage, runClient, work } from "./common.js"

// The SDK warns about Node 20 on stderr; the warning says nothing about this measurement.
process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true"

await runClient(async (args, counts) => {
  const client = new ChimeClient({
    endpoint: args.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: args.accessKey, secretAccessKey: args.secret },
    retryMode: args.mode === "adaptive" ? "adaptive" : "standard"
  })
  // Counted live, so a run stopped by its deadline still reports them.
  let requests = 0
  let throttled = 0
  counts.requests = 0
  counts.throttled = 0
  client.middlewareStack.add(
    (next) => async (input) => {
      counts.requests = ++requests
      try {
        return await next(input)
      } catch (e) {
        const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
        if (status === 429) counts.throttled = ++throttled
        throw e
      }
    },
    { step: "deserialize", name: "benchCountRequests", priority: "high" }
  )
  try {
    for await (
      const page of paginateListRooms({ client, pageSize: args.pageSize }, {
        AccountId: args.account,
        MaxResults: args.pageSize
      })
    ) {
      firstPage(counts)
      counts.pages++
      counts.rooms += page.Rooms?.length ?? 0
      work(args.workMs)
      if (args.limit > 0 && counts.rooms >= args.limit) break
    }
  } finally {
    client.destroy()
  }
})
