import type { Cluster, Redis, RedisOptions } from 'ioredis'
import { GantryError } from '../core/errors.js'
import { redact } from './url.js'

/**
 * The schemes naming several nodes: `redis+cluster://[user:pass@]host:port[,host:port…]` (a Cluster's seed
 * nodes) and `redis+sentinel://[user:pass@]host:port[,host:port…]/MASTER` (Sentinels and the master they
 * watch; user and password are the master's). `rediss+…` uses TLS.
 */
const MULTI_NODE = /^rediss?\+(cluster|sentinel):\/\/(?:([^@/]*)@)?([^/?#]+)(?:\/([^/?#]*))?$/

/**
 * A client for a Redis URL: one server (`redis://`, `rediss://`), a Cluster or a master found through
 * Sentinel. `options` apply to every connection; ioredis loads only here.
 */
export async function createRedisClient(url: string, options: RedisOptions): Promise<Redis | Cluster> {
  const { Redis, Cluster } = await import('ioredis')
  const multi = MULTI_NODE.exec(url)
  if (!multi) return new Redis(url, options)
  const [, kind, credentials = '', hosts = '', master = ''] = multi
  const [user, password] = credentials.split(':').map(decodeURIComponent)
  const nodes = hosts.split(',').map((node) => {
    const at = node.lastIndexOf(':')
    return { host: at === -1 ? node : node.slice(0, at), port: at === -1 ? (kind === 'sentinel' ? 26379 : 6379) : Number(node.slice(at + 1)) }
  })
  const auth = { ...(user ? { username: user } : {}), ...(password ? { password } : {}) }
  const tls = url.startsWith('rediss')
  if (kind === 'sentinel') {
    if (!master)
      throw new GantryError('CONFIG_INVALID', `${redact(url)}: a Sentinel URL names its master after the hosts: redis+sentinel://host:26379/mymaster.`)
    return new Redis({ ...options, ...auth, sentinels: nodes, name: decodeURIComponent(master), ...(tls ? { tls: {}, enableTLSForSentinelMode: true } : {}) })
  }
  const { lazyConnect, enableOfflineQueue, retryStrategy, ...perNode } = options
  return new Cluster(nodes, {
    lazyConnect,
    enableOfflineQueue,
    clusterRetryStrategy: retryStrategy ? (times) => retryStrategy(times) : undefined,
    redisOptions: { ...perNode, ...auth, ...(tls ? { tls: {} } : {}) },
  })
}

/** How long connecting to Redis (and the PING) may take before it counts as unreachable. */
const CONNECT_TIMEOUT_MS = 2_000

/** A client that connects once, never retries or queues, and never prints (its errors reach the caller). */
async function oneShotClient(url: string): Promise<Redis | Cluster> {
  return createRedisClient(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    // ioredis waits this long for a closed socket's "close" event, which a refused one never sends again:
    // the default (2 s) would hold the process open after every failed check.
    disconnectTimeout: 100,
  })
}

/** Publishes one message on a connection of its own (a CLI run, a rule change: rare, and must not wait on a shared client). */
export async function publishOnce(url: string, channel: string, message: string): Promise<void> {
  const client = await oneShotClient(url)
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.publish(channel, message)
  } finally {
    client.disconnect()
  }
}

/**
 * Connects to Redis, sends PING and disconnects; resolves with the round-trip time in milliseconds.
 * ioredis loads only here, and never retries or queues: an unreachable Redis is one prompt error
 * (REDIS_UNREACHABLE) instead of a client reconnecting in the background.
 */
export async function pingRedis(url: string): Promise<number> {
  const client = await oneShotClient(url)
  // The socket error says more than the "Connection is closed" connect() rejects with; listening also keeps
  // ioredis from printing it.
  let socketError: Error | undefined
  client.on('error', (err: Error) => {
    socketError ??= err
  })
  try {
    await client.connect()
    const started = performance.now()
    await client.ping()
    return Math.round((performance.now() - started) * 10) / 10
  } catch (err) {
    const reason = ((socketError ?? err) as Error).message.split('\n')[0]?.replace(/\.$/, '') || 'unknown error'
    throw new GantryError('REDIS_UNREACHABLE', `Cannot reach Redis at ${redact(url)}: ${reason}.`, { cause: socketError ?? err })
  } finally {
    client.disconnect()
  }
}
