import { GantryError } from '../core/errors.js'
import { redact } from './url.js'

/** How long connecting to Redis (and the PING) may take before it counts as unreachable. */
const CONNECT_TIMEOUT_MS = 2_000

/**
 * Connects to Redis, sends PING and disconnects; resolves with the round-trip time in milliseconds.
 * ioredis loads only here, and never retries or queues: an unreachable Redis is one prompt error
 * (REDIS_UNREACHABLE) instead of a client reconnecting in the background.
 */
export async function pingRedis(url: string): Promise<number> {
  const { Redis } = await import('ioredis')
  const client = new Redis(url, {
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
