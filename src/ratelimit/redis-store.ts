/**
 * The Redis store: every server instance shares one budget per key. Each decision is one atomic Lua call
 * over one key (so it works on Redis Cluster), transcribing `gcraStep` (DESIGN.md "Rate limiting") in exact
 * integers — whole µs plus a remainder in 1/limit µs (gcra.ts) — with time from Redis `TIME` — one clock
 * for every instance — unless a test passes `nowUs`. The script is sent by EVALSHA; on NOSCRIPT (a
 * restarted or flushed Redis) it is sent once in full by EVAL, which caches it again.
 */
import { createHash } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import { emission } from './gcra.js'
import type { ConsumeResult, GcraParams, RateLimitStore, Tat } from './types.js'

/**
 * A key's TAT as stored: `US` (whole µs) or, with a remainder, `US.` then the remainder and the limit it
 * counts in, 16 digits each (any safe integer fits). Both are decimal numbers: an instance of an earlier
 * version reading one during a rolling upgrade takes it for US µs, as it would have stored it, where an
 * unreadable value would count as idle and hand out a fresh burst.
 * read_tat returns us, remainder and limit (1 for whole µs), or nothing for an absent or unreadable key.
 */
const TAT_FORMAT = `
local function read_tat(key)
  local stored = redis.call('GET', key)
  if not stored then return nil end
  local us, frac, per = string.match(stored, '^(%d+)%.(%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d)(%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d)$')
  if us then return tonumber(us), tonumber(frac), tonumber(per) end
  return tonumber(stored), 0, 1
end
local function write_tat(us, frac, per)
  if frac == 0 then return string.format('%.0f', us) end
  return string.format('%.0f.%016d%016d', us, frac, per)
end
`

/**
 * KEYS[1]: the key's TAT. ARGV: the limit (the unit of every remainder: 1/limit µs), T and (burst − 1)·T each
 * as whole µs and remainder (gcra.ts `emission`), now (µs; empty: Redis TIME). Returns {admitted (1|0), TAT
 * after the step as us, remainder and limit, now}. An absent key or a TAT in the past counts as TAT = now
 * (idle); a TAT stored with a remainder under another limit (an override changed it) counts as the next
 * whole µs. A refusal writes nothing. An admission sets TAT with an expiry a second after the moment the
 * key is idle again (ceil((TAT − now) / 1000) ms + 1000): an idle key and an absent one decide alike (a TAT
 * in the past is idle), and the second keeps a sequence whose `now` is given (a test's, by its own clock)
 * from seeing the key vanish on Redis's clock between two of its steps.
 * Lua numbers are doubles, exact for integers below 2^53 (µs since 1970 are ~2^51); '%.0f' writes them
 * without the exponent tostring() would use.
 */
export const GCRA_LUA = `${TAT_FORMAT}
local per = tonumber(ARGV[1])
local t_us, t_frac = tonumber(ARGV[2]), tonumber(ARGV[3])
local tol_us, tol_frac = tonumber(ARGV[4]), tonumber(ARGV[5])
local now = tonumber(ARGV[6])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000000 + tonumber(time[2])
end
local us, frac, unit = read_tat(KEYS[1])
if not us or us < now then
  us, frac = now, 0
elseif frac > 0 and unit ~= per then
  us, frac = us + 1, 0
end
if us - now > tol_us or (us - now == tol_us and frac > tol_frac) then
  return {0, us, frac, per, now}
end
us, frac = us + t_us, frac + t_frac
if frac >= per then
  us, frac = us + 1, frac - per
end
local idle_at = us
if frac > 0 then idle_at = us + 1 end
local ttl = math.ceil((idle_at - now) / 1000) + 1000
redis.call('SET', KEYS[1], write_tat(us, frac, per), 'PX', string.format('%.0f', ttl))
return {1, us, frac, per, now}
`

/** KEYS[1] as above; returns {TAT as us, remainder, limit, or -1, 0, 1 when idle; now}: what `ratelimit test` shows, spending nothing. */
const PEEK_LUA = `${TAT_FORMAT}
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local us, frac, per = read_tat(KEYS[1])
if not us or us < now or (us == now and frac == 0) then return {-1, 0, 1, now} end
return {us, frac, per, now}
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
    async consume(key: string, params: GcraParams, nowUs?: number): Promise<ConsumeResult> {
      const { interval, tolerance } = emission(params)
      const args = [params.limit, interval.us, interval.frac, tolerance.us, tolerance.frac].map(String)
      const reply = await run('gcra', `${keyPrefix}${key}`, [...args, nowUs === undefined ? '' : String(nowUs)])
      const [allowed, us, frac, per, now] = reply as [number, number, number, number, number]
      return { allowed: allowed === 1, tat: { us, frac, per }, nowUs: now }
    },
    async peek(key: string) {
      const [us, frac, per, now] = (await run('peek', `${keyPrefix}${key}`, [])) as [number, number, number, number]
      const tat: Tat | undefined = us === -1 ? undefined : { us, frac, per }
      return { tat, nowUs: now }
    },
  }
}
