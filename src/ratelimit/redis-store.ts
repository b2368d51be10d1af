/**
 * The Redis store: every server instance shares one budget per key. Each decision is one atomic Lua call
 * over one key (so it works on Redis Cluster), transcribing `gcraStep` (DESIGN.md "Rate limiting") in
 * integer microseconds, with time from Redis `TIME` — one clock for every instance — unless a test passes
 * `nowUs`. The script is sent by EVALSHA; on NOSCRIPT (a restarted or flushed Redis) it is sent once in full
 * by EVAL, which caches it again.
 */
import { createHash } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
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

/** KEYS[1] as above; returns {TAT or -1 when idle, now}: what `ratelimit test` shows, spending nothing. */
const PEEK_LUA = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '')
if not tat or tat <= now then tat = -1 end
return {tat, now}
`

const sha1 = (script: string) => createHash('sha1').update(script).digest('hex')
const SCRIPTS = { gcra: { lua: GCRA_LUA, sha: sha1(GCRA_LUA) }, peek: { lua: PEEK_LUA, sha: sha1(PEEK_LUA) } } as const

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT')
}

/**
 * Loads the scripts into every master (the one Redis, or each of a Cluster's), connecting to each. The
 * first decisions after a start then take one round trip on an open connection, instead of a connection,
 * a NOSCRIPT and the script in full: more than a busy server fits in a decision's deadline, so each
 * instance's first decisions (on each Cluster node) failed open. A node that comes later, or a Redis
 * restarted empty, gets the scripts through NOSCRIPT as before.
 */
export async function preloadScripts(redis: Redis | Cluster): Promise<void> {
  const nodes = redis.isCluster ? (redis as Cluster).nodes('master') : [redis as Redis]
  await Promise.all(nodes.flatMap((node) => Object.values(SCRIPTS).map(({ lua }) => node.script('LOAD', lua))))
}

/**
 * `work`, or a rejection once `timeoutMs` has passed and the process has looked for the reply. The timer
 * only marks the deadline; the verdict waits for the check phase of that turn of the event loop, after
 * its poll phase has read the sockets. An event loop that stalled (a busy or starved server) runs its
 * expired timers before it reads the replies that arrived meanwhile: a plain timer would throw those away
 * as timeouts, and every rule failing open would stop limiting exactly when the server is flooded.
 */
function withDeadline<T>(work: Promise<T>, timeoutMs: number | undefined): Promise<T> {
  if (timeoutMs === undefined) return work
  let timer: NodeJS.Timeout | undefined
  let immediate: NodeJS.Immediate | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => (immediate = setImmediate(() => reject(new Error(`Redis did not answer within ${timeoutMs} ms`)))), timeoutMs)
  })
  return Promise.race([work, late]).finally(() => {
    clearTimeout(timer)
    if (immediate) clearImmediate(immediate)
  })
}

/**
 * A store keeping TATs in Redis under `keyPrefix` + key: a single Redis, Sentinel, or a Redis Cluster (each
 * call touches one key, so one slot). A call not answered within `timeoutMs` (default: none of its own)
 * rejects; the client's options (its own timeouts, queueing) are the caller's.
 */
export function createRedisStore(options: { redis: Redis | Cluster; keyPrefix?: string; timeoutMs?: number }): RateLimitStore {
  const { redis, keyPrefix = '', timeoutMs } = options
  const call = async (script: keyof typeof SCRIPTS, key: string, args: string[]): Promise<unknown> => {
    const { lua, sha } = SCRIPTS[script]
    try {
      return await redis.evalsha(sha, 1, key, ...args)
    } catch (err) {
      if (!isNoScript(err)) throw err
      return redis.eval(lua, 1, key, ...args)
    }
  }
  const run = (script: keyof typeof SCRIPTS, key: string, args: string[]): Promise<unknown> => withDeadline(call(script, key, args), timeoutMs)
  return {
    async consume(key: string, { intervalUs, burst }: GcraParams, nowUs?: number): Promise<ConsumeResult> {
      const reply = await run('gcra', `${keyPrefix}${key}`, [String(intervalUs), String(burst), nowUs === undefined ? '' : String(nowUs)])
      const [allowed, tatUs, now] = reply as [number, number, number]
      return { allowed: allowed === 1, tatUs, nowUs: now }
    },
    async peek(key: string) {
      const [tat, now] = (await run('peek', `${keyPrefix}${key}`, [])) as [number, number]
      return { tatUs: tat === -1 ? undefined : tat, nowUs: now }
    },
  }
}
