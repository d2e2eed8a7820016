/**
 * "List every room" with this library over its lean `UndiciHttpClient`.
 *
 * @since 0.1.0
 */
import { UndiciHttpClient } from "@chime-rooms/http"
import { main } from "./program.js"

await main(UndiciHttpClient.layer)
