/**
 * "List every room" with `@aws-sdk/client-chime`, for the bundle-size table. Reads
 * `AWS_ENDPOINT_URL_CHIME`, `CHIME_ACCOUNT_ID` and the usual credential variables.
 *
 * @since 0.1.0
 */
import { ChimeClient, paginateListRooms } from "@aws-sdk/client-chime"

const client = new ChimeClient({ region: "us-east-1" })
let rooms = 0
for await (
  const page of paginateListRooms({ client, pageSize: 99 }, { AccountId: process.env["CHIME_ACCOUNT_ID"] ?? "" })
) {
  rooms += page.Rooms?.length ?? 0
}
process.stdout.write(`${rooms} rooms\n`)
