/**
 * The main job's command line: a pure parser, so every argument error is tested without a process.
 */
import type { ListRoomsRequest } from "@chime-rooms/core"
import { HttpChimeRooms } from "@chime-rooms/http"
import { Either } from "effect"

/** What `pnpm start` was asked to do. */
export interface Options {
  readonly help: boolean
  readonly json: boolean
  readonly live: boolean
  readonly account?: string
  readonly memberId?: string
  readonly maxResults?: number
  readonly rate?: number
  readonly endpoint?: string
  readonly region?: string
  readonly nextToken?: string
}

/** A command line that cannot be run; the CLI prints `message` and exits with code 2. */
export class UsageError {
  readonly _tag = "UsageError"
  constructor(readonly message: string) {}
}

/** The `--help` text: every option, one line each. */
export const usage = `Usage: pnpm start [-- options]

Lists every room of an Amazon Chime account as a stream. Without --live it starts an embedded
emulator (seeded rooms, a server-side rate limit and a few injected 503s) and lists from it.

Options:
  --account ID       the account to list (default: the emulator's first account; required with --live)
  --member-id ID     only rooms this user or bot belongs to
  --max-results N    page size asked of the service, an integer from 1 to 99
  --next-token T     resume a listing from this token (printed when a listing fails)
  --rate R           fixed rate limit in requests per second (default: adaptive)
  --json             one room per line on stdout, in the service's field names; nothing else on stdout
  --live             use the real service, with the AWS default credential chain (environment first)
  --endpoint URL     with --live: a custom endpoint (for example a separately started \`pnpm emulator\`)
  --region REGION    with --live: the region (default: AWS_REGION or the AWS profile's, else us-east-1)
  -h, --help         show this help

Exit codes: 0 done, 1 a service error survived the retries, 2 bad arguments or configuration, 130 interrupted.`

const valued = new Set(["--account", "--member-id", "--max-results", "--next-token", "--rate", "--endpoint", "--region"])

const fail = (message: string) => Either.left(new UsageError(message))

/**
 * Parses `argv` (without `node` and the script). Accepts `--flag value` and `--flag=value`; a lone
 * `--` (as pnpm passes it) is skipped.
 */
export const parseArgs = (argv: ReadonlyArray<string>): Either.Either<Options, UsageError> => {
  const values = new Map<string, string>()
  const flags = new Set<string>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === "--") continue
    const eq = arg.indexOf("=")
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg
    if (valued.has(name)) {
      const value = eq > 0 && arg.startsWith("--") ? arg.slice(eq + 1) : argv[++i]
      if (value === undefined || (eq < 0 && value.startsWith("--"))) return fail(`${name} needs a value`)
      if (values.has(name)) return fail(`${name} given twice`)
      values.set(name, value)
    } else if (name === "--json" || name === "--live" || name === "--help" || name === "-h") {
      flags.add(name === "-h" ? "--help" : name)
    } else {
      return fail(`unknown argument: ${arg}`)
    }
  }

  const integer = (name: string, min: number, max: number): Either.Either<number | undefined, UsageError> => {
    const raw = values.get(name)
    if (raw === undefined) return Either.right(undefined)
    const n = Number(raw)
    return /^\d+$/.test(raw) && n >= min && n <= max
      ? Either.right(n)
      : fail(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`)
  }
  const maxResults = integer("--max-results", 1, 99)
  if (Either.isLeft(maxResults)) return Either.left(maxResults.left)
  const rawRate = values.get("--rate")
  const rate = rawRate === undefined ? undefined : Number(rawRate)
  if (rate !== undefined && !(Number.isFinite(rate) && rate > 0 && /^\d*\.?\d+$/.test(rawRate!))) {
    return fail(`--rate must be a positive number of requests per second, got ${JSON.stringify(rawRate)}`)
  }
  const live = flags.has("--live")
  const endpoint = values.get("--endpoint")
  if (endpoint !== undefined) {
    if (!live) return fail("--endpoint needs --live (without it the embedded emulator is used)")
    if (!URL.canParse(endpoint) || !/^https?:$/.test(new URL(endpoint).protocol)) {
      return fail(`--endpoint must be an http(s) URL, got ${JSON.stringify(endpoint)}`)
    }
  }
  if (values.has("--region") && !live) return fail("--region needs --live")
  const account = values.get("--account")
  if (account !== undefined && !/\S/.test(account)) return fail("--account must contain a non-space character")
  if (live && account === undefined && !flags.has("--help")) return fail("--live needs --account ID")
  // On the wire an empty token is no token: the listing would start over, not resume.
  if (values.get("--next-token") === "") {
    return fail("--next-token must not be empty (leave it out to list from the start)")
  }

  const options: { -readonly [K in keyof Options]: Options[K] } = {
    help: flags.has("--help"),
    json: flags.has("--json"),
    live
  }
  if (account !== undefined) options.account = account
  const memberId = values.get("--member-id")
  if (memberId !== undefined) options.memberId = memberId
  if (maxResults.right !== undefined) options.maxResults = maxResults.right
  if (rate !== undefined) options.rate = rate
  if (endpoint !== undefined) options.endpoint = endpoint
  const region = values.get("--region")
  if (region !== undefined) options.region = region
  const nextToken = values.get("--next-token")
  if (nextToken !== undefined) options.nextToken = nextToken
  return Either.right(options)
}

/** The option each request member comes from, to name it in a refusal. */
const flagOf: Record<string, string> = {
  AccountId: "--account",
  MaxResults: "--max-results",
  MemberId: "--member-id",
  NextToken: "--next-token"
}

/**
 * The request `options` ask for on `account`, checked as the client checks it before sending
 * (`HttpChimeRooms.validateSendable`: the service's rules, and what a URL cannot carry such as an
 * account `.` or `..`), so that a request that could never be sent is a usage error naming its
 * option, before any request.
 */
export const requestOf = (options: Options, account: string): Either.Either<ListRoomsRequest, UsageError> =>
  Either.mapLeft(
    HttpChimeRooms.validateSendable({
      AccountId: account,
      ...(options.maxResults === undefined ? {} : { MaxResults: options.maxResults }),
      ...(options.memberId === undefined ? {} : { MemberId: options.memberId }),
      ...(options.nextToken === undefined ? {} : { NextToken: options.nextToken })
    }),
    (error) => new UsageError(`${flagOf[error.field] ?? error.field} ${error.rule}`)
  )
