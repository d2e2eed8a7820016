/**
 * This library over its lean `UndiciHttpClient` (one keep-alive agent).
 *
 * @since 0.1.0
 */
import { UndiciHttpClient } from "@chime-rooms/http"
import { runOurs } from "./ours.js"

await runOurs(UndiciHttpClient.layer)
