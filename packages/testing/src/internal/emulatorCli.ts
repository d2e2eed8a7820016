/**
 * The `pnpm emulator` command line: parsing and the first line it prints. Kept apart from
 * `bin/emulator.ts` so that it is tested without spawning anything.
 */
import { Duration, Either } from "effect"
import * as FaultScript from "../FaultScript.js"

/** The parsed command line. */
export interface CliOptions {
  readonly help: boolean
  readonly port: number
  readonly accounts: number
  readonly rooms: number
  readonly members: number
  readonly pageSize: number
  readonly seed: number
  readonly rate: number | undefined
  readonly burst: number | undefined
  /** Whether the rate limit's 429s carry `Retry-After` (Chime's model has none). */
  readonly rateRetryAfter: boolean
  readonly faults: ReadonlyArray<string>
  /** Milliseconds; negative puts the emulator's clock behind. */
  readonly clockOffsetMillis: number
  readonly maxSkew: Duration.Duration
  readonly record: number
  /** The signing region requests must be scoped to. */
  readonly region: string
}

/** The usage text. */
export const usage = `Usage: pnpm emulator [options]

A local Amazon Chime ListRooms endpoint on 127.0.0.1 that verifies SigV4.
The first line on stdout is one JSON object: endpoint, region, accounts, credentials.
Runs until SIGINT or SIGTERM.

Options:
  --port N           TCP port (default 0: any free port)
  --accounts N       accounts to generate (default 1)
  --rooms N          rooms per account (default 1000)
  --members N        members per account, for member-id filtering (default 20)
  --page-size N      rooms per page when max-results is absent (default 10)
  --seed N           data and fault seed (default 1)
  --rate R           rate limit: R requests per second (429 ThrottledClientException past it)
  --burst B          rate limit burst (default: R rounded up, at least 1)
  --rate-retry-after the rate limit's 429s carry Retry-After (whole seconds, at least 1);
                     without it they carry none, as Chime's model defines them
  --fault SPEC       inject faults; repeatable. SPEC is FAULT[@WHEN][:OPTIONS], e.g.
                     429@5,6:retry-after=2   503@rate=0.05   reset@every=10   slow=200ms@3
  --clock-offset S   shift the emulator's clock by S seconds (may be negative)
  --max-skew S       accepted signature date skew in seconds (default 300)
  --record N         requests kept for inspection (default 1000)
  --region REGION    the signing region requests must be scoped to (default us-east-1)
  --help             print this text
`

const defaults: CliOptions = {
  help: false,
  port: 0,
  accounts: 1,
  rooms: 1000,
  members: 20,
  pageSize: 10,
  seed: 1,
  rate: undefined,
  burst: undefined,
  rateRetryAfter: false,
  faults: [],
  clockOffsetMillis: 0,
  maxSkew: Duration.minutes(5),
  record: 1000,
  region: "us-east-1"
}

const integer = (flag: string, text: string, min: number, max: number): Either.Either<number, string> => {
  const n = Number(text)
  return /^-?\d+$/.test(text) && Number.isSafeInteger(n) && n >= min && n <= max
    ? Either.right(n)
    : Either.left(`${flag} needs an integer from ${min} to ${max}, got ${JSON.stringify(text)}`)
}

const number = (flag: string, text: string, min: number): Either.Either<number, string> => {
  const n = Number(text)
  return /^-?\d+(\.\d+)?$/.test(text) && Number.isFinite(n) && n >= min
    ? Either.right(n)
    : Either.left(`${flag} needs a number >= ${min}, got ${JSON.stringify(text)}`)
}

const FLAGS_WITH_VALUE = new Set([
  "--port",
  "--accounts",
  "--rooms",
  "--members",
  "--page-size",
  "--seed",
  "--rate",
  "--burst",
  "--fault",
  "--clock-offset",
  "--max-skew",
  "--record",
  "--region"
])

/** Parses the arguments after the script name; a `Left` holds the message for stderr. */
export const parseArgs = (argv: ReadonlyArray<string>): Either.Either<CliOptions, string> => {
  const options = { ...defaults, faults: [] as Array<string> }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    // pnpm before v7 passed a literal `--` through; it separates nothing here.
    if (arg === "--") continue
    if (arg === "--help" || arg === "-h") {
      options.help = true
      continue
    }
    if (arg === "--rate-retry-after") {
      options.rateRetryAfter = true
      continue
    }
    const eq = arg.indexOf("=")
    const flag = arg.startsWith("--") && eq !== -1 ? arg.slice(0, eq) : arg
    if (!FLAGS_WITH_VALUE.has(flag)) return Either.left(`unknown argument ${JSON.stringify(arg)}`)
    let value: string
    if (flag !== arg) value = arg.slice(eq + 1)
    else {
      const next = argv[i + 1]
      if (next === undefined) return Either.left(`${flag} needs a value`)
      value = next
      i++
    }
    let parsed: Either.Either<unknown, string>
    switch (flag) {
      case "--port":
        parsed = Either.map(integer(flag, value, 0, 65535), (n) => (options.port = n))
        break
      case "--accounts":
        parsed = Either.map(integer(flag, value, 1, 10_000), (n) => (options.accounts = n))
        break
      case "--rooms":
        parsed = Either.map(integer(flag, value, 0, 100_000_000), (n) => (options.rooms = n))
        break
      case "--members":
        parsed = Either.map(integer(flag, value, 0, 100_000), (n) => (options.members = n))
        break
      case "--page-size":
        parsed = Either.map(integer(flag, value, 1, 1_000_000), (n) => (options.pageSize = n))
        break
      case "--seed":
        parsed = Either.map(integer(flag, value, -(2 ** 31), 2 ** 31 - 1), (n) => (options.seed = n))
        break
      case "--rate":
        parsed = Either.flatMap(number(flag, value, 0), (n) =>
          n > 0 ? Either.right((options.rate = n)) : Either.left("--rate must be greater than 0"))
        break
      case "--burst":
        parsed = Either.map(integer(flag, value, 1, 1_000_000), (n) => (options.burst = n))
        break
      case "--clock-offset":
        parsed = Either.map(integer(flag, value, -31_536_000, 31_536_000), (n) => (options.clockOffsetMillis = n * 1000))
        break
      case "--max-skew":
        parsed = Either.map(integer(flag, value, 1, 31_536_000), (n) => (options.maxSkew = Duration.seconds(n)))
        break
      case "--record":
        parsed = Either.map(integer(flag, value, 0, 1_000_000), (n) => (options.record = n))
        break
      case "--region":
        parsed = /^(?!.*-$)(?!-)[a-zA-Z0-9-]{1,63}$/.test(value)
          ? Either.right((options.region = value))
          : Either.left(`--region needs a region name (letters, digits, dashes), got ${JSON.stringify(value)}`)
        break
      default: {
        parsed = Either.map(
          Either.mapLeft(FaultScript.parse(value), (e) => e.message),
          () => options.faults.push(value)
        )
      }
    }
    if (Either.isLeft(parsed)) return Either.left(parsed.left)
  }
  if (options.burst !== undefined && options.rate === undefined) return Either.left("--burst needs --rate")
  if (options.rateRetryAfter && options.rate === undefined) return Either.left("--rate-retry-after needs --rate")
  return Either.right(options)
}

/** The rate limit the options ask for, if any. */
export const rateLimitOf = (options: CliOptions) =>
  options.rate === undefined
    ? undefined
    : {
      rate: options.rate,
      burst: options.burst ?? Math.max(1, Math.ceil(options.rate)),
      ...(options.rateRetryAfter ? { retryAfter: true } : {})
    }

/** The first line on stdout: everything a client needs to connect (the generated credentials included, on purpose). */
export const announcement = (info: {
  readonly endpoint: string
  readonly region: string
  readonly accounts: ReadonlyArray<string>
  readonly accessKeyId: string
  readonly secretAccessKey: string
}): string =>
  JSON.stringify({
    endpoint: info.endpoint,
    region: info.region,
    accounts: info.accounts,
    credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey }
  })
