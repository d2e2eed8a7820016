/**
 * This library over `@effect/platform-node`'s `NodeHttpClient.layerUndici`.
 *
 * @since 0.1.0
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { runOurs } from "./ours.js"

await runOurs(NodeHttpClient.layerUndici)
