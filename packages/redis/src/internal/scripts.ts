/**
 * The Lua the limiters run in Redis. Every script reads the time with `TIME`, the Redis server's
 * clock, so that workers whose clocks disagree still share one timeline; each key's TTL is reset by
 * every write, so an account that stops listing leaves nothing behind.
 *
 * (Scripts that call `TIME` and then write need effects replication, the default since Redis 5;
 * `redis.replicate_commands` turns it on in 3.2 and 4, and is a no-op or absent later.)
 */

const prelude = `if redis.replicate_commands then pcall(redis.replicate_commands) end
local t = redis.call('TIME')
`

/**
 * The fixed limiter's token bucket, with `PacingBucket`'s reservations: `reserve` always takes a
 * token and answers how long (microseconds) to wait for it, the level going negative while callers
 * queue, so that callers on every worker are spaced `1 / rate` apart; `refund` gives one back.
 *
 * KEYS[1] the bucket (a hash: level, last). ARGV: op, rate (/s), burst, ttl (ms).
 */
export const fixedScript = `${prelude}
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'level', 'last')
local level = tonumber(state[1])
local last = tonumber(state[2])
if level == nil or last == nil then
  level = burst
  last = now
end
local wait = 0
if ARGV[1] == 'refund' then
  level = math.min(burst, level + 1)
else
  if now > last then
    level = math.min(burst, level + (now - last) * rate / 1000000)
    last = now
  end
  if level < 1 then
    wait = math.ceil((1 - level) * 1000000 / rate)
  end
  level = level - 1
end
redis.call('HSET', KEYS[1], 'level', string.format('%.17g', level), 'last', string.format('%.17g', last))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]))
return wait
`

/**
 * The adaptive limiter's shared model, read with the server's time: { version, state ('' when
 * there is none), seconds, microseconds }.
 *
 * KEYS[1] the model (a hash: v, s).
 */
export const modelReadScript = `${prelude}
local state = redis.call('HMGET', KEYS[1], 'v', 's')
return { state[1] or '0', state[2] or '', t[1], t[2] }
`

/**
 * Writes the model back if nobody wrote since it was read (its version is unchanged): { 1 }; else
 * { 0, version, state, seconds, microseconds }, the newer model and the time to apply the operation
 * at again, so a retry needs no second read.
 *
 * KEYS[1] the model. ARGV: version read, new state, ttl (ms).
 */
export const modelWriteScript = `${prelude}
local state = redis.call('HMGET', KEYS[1], 'v', 's')
local version = state[1] or '0'
if version ~= ARGV[1] then
  return { 0, version, state[2] or '', t[1], t[2] }
end
redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('HSET', KEYS[1], 's', ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return { 1 }
`
