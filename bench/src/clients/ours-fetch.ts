/**
 * This library over `@effect/platform`'s `FetchHttpClient` (Node's global `fetch`).
 *
 * @since 0.1.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { runOurs } from "./ours.js"

await runOurs(FetchHttpClient.layer)
