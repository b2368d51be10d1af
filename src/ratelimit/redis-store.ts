/**
 * The Redis store: every server instance shares one budget per key. Each decision is one atomic Lua call
 * over one key (so it works on Redis Cluster), transcribing `gcraStep` (DESIGN.md "Rate limiting") in
 * integer microseconds, with time from Redis `TIME` — one clock for every instance — unless a test passes
 * `nowUs`. The script is sent by EVALSHA; on NOSCRIPT (a restarted or flushed Redis) it is sent once in full
 * by EVAL, which caches it again.
 */
import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { ConsumeResult, GcraParams, RateLimitStore } from './types.js'

/**
 * KEYS[1]: the key's TAT (integer µs, as a decimal string). ARGV: T (µs), burst, now (µs; empty: Redis TIME).
 * Returns {admitted (1|0), TAT after the step, now}. An absent key or a TAT in the past counts as TAT = now
 * (idle). A refusal writes nothing. An admission sets TAT with an expiry at the moment the key is idle
 * again: ceil((TAT − now) / 1000) ms, at least 1, so an expired key is exactly an idle one.
 * Lua numbers are doubles, exact for integers below 2^53 (µs since 1970 are ~2^51); '%.0f' writes them
 * without the exponent tostring() would use.
 */
export const GCRA_LUA = `
local t = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000000 + tonumber(time[2])
end
local tat = tonumber(redis.call('GET', KEYS[1]) or '')
if not tat or tat < now then tat = now end
if tat - now > (burst - 1) * t then
  return {0, tat, now}
end
tat = tat + t
local ttl = math.max(1, math.ceil((tat - now) / 1000))
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', string.format('%.0f', ttl))
return {1, tat, now}
`

const GCRA_SHA = createHash('sha1').update(GCRA_LUA).digest('hex')

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT')
}

/** A store keeping TATs in Redis under `keyPrefix` + key. The client's options (timeouts, queueing) are the caller's. */
export function createRedisStore(options: { redis: Redis; keyPrefix?: string }): RateLimitStore {
  const { redis, keyPrefix = '' } = options
  return {
    async consume(key: string, { intervalUs, burst }: GcraParams, nowUs?: number): Promise<ConsumeResult> {
      const args = [String(intervalUs), String(burst), nowUs === undefined ? '' : String(nowUs)]
      const redisKey = `${keyPrefix}${key}`
      let reply: unknown
      try {
        reply = await redis.evalsha(GCRA_SHA, 1, redisKey, ...args)
      } catch (err) {
        if (!isNoScript(err)) throw err
        reply = await redis.eval(GCRA_LUA, 1, redisKey, ...args)
      }
      const [allowed, tatUs, now] = reply as [number, number, number]
      return { allowed: allowed === 1, tatUs, nowUs: now }
    },
  }
}
