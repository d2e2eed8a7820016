/**
 * "List every room" with this library over `FetchHttpClient`.
 *
 * @since 0.1.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { main } from "./program.js"

await main(FetchHttpClient.layer)
