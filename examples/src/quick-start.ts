/**
 * The README's quick start, compiled with the rest so it cannot drift (`--live` use only: it
 * talks to the real service with your AWS credentials).
 */
import { CredentialsChain, HttpChimeRooms, UndiciHttpClient } from "@chime-rooms/http"
import { ChimeRoomsStream, Resilience } from "@chime-rooms/stream"
import { Console, Effect, Layer, Stream } from "effect"

// ChimeRooms over HTTP: endpoint and region read as the AWS SDK reads them, default credential chain.
const ChimeLive = HttpChimeRooms.layerConfig().pipe(
  Layer.provide(CredentialsChain.layer()),
  Layer.provide(UndiciHttpClient.layer)
)

// Every room of the account: paged, retried, rate-limited; one page in memory at a time.
const program = ChimeRoomsStream.rooms({ AccountId: process.env.CHIME_ACCOUNT_ID ?? "" }).pipe(
  Stream.tap((room) => Console.log(room.RoomId, room.Name)),
  Stream.runCount,
  Effect.provide(Resilience.layer()), // adaptive rate limiter + retry budget, shared by every stream
  Effect.provide(ChimeLive)
)

Effect.runPromise(program).then((count) => console.log(`${count} rooms`))
