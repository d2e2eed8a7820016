/**
 * Loaded with `node --import` into a benchmark client by `pagetimes.js`: timestamps every exchange
 * on undici's `Client` (every client here, the floor's and ours through the `Agent`, ends there)
 * and, at exit, writes them to the file named by `PAGETIMES_OUT` as JSON. Per exchange: when it
 * was dispatched, when its bytes went to the socket, and when its response head arrived.
 *
 * It wraps two methods and reads no request or response content.
 *
 * @since 0.1.0
 */
import { writeFileSync } from "node:fs"
import { Socket } from "node:net"
import { Client, type Dispatcher } from "undici"

/** One exchange, in `performance.now()` milliseconds. */
export interface Exchange {
  readonly dispatched: number
  written?: number
  head?: number
}

const out = process.env["PAGETIMES_OUT"]
const exchanges: Array<Exchange> = []
let current: Exchange | undefined

const dispatch = Client.prototype.dispatch
Client.prototype.dispatch = function(
  this: Client,
  options: Dispatcher.DispatchOptions,
  handler: Dispatcher.DispatchHandler
) {
  const exchange: Exchange = { dispatched: performance.now() }
  exchanges.push(exchange)
  current = exchange
  const onHeaders = handler.onHeaders
  if (onHeaders !== undefined) {
    handler.onHeaders = function(this: unknown, ...args: Parameters<typeof onHeaders>) {
      exchange.head ??= performance.now()
      return onHeaders.apply(this, args)
    }
  }
  return dispatch.call(this, options, handler)
}

const write = Socket.prototype.write
Socket.prototype.write = function(this: Socket, ...args: Array<unknown>) {
  // One connection, one request at a time: the first write after a dispatch carries its head.
  if (current !== undefined && current.written === undefined) current.written = performance.now()
  return (write as (...a: Array<unknown>) => boolean).apply(this, args)
} as typeof Socket.prototype.write

process.on("exit", () => {
  if (out !== undefined) writeFileSync(out, JSON.stringify(exchanges))
})
