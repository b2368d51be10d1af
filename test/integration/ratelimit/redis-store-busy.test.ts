/**
 * The Redis store on a busy server, on private redis-servers (test/helpers/redis-servers.ts). Under a flood
 * the server's event loop lags by hundreds of milliseconds, and a decision Redis does not answer within its
 * deadline fails open (onStoreError's default); the reliability scenario 'ratelimit-over-admission' saw
 * budgets overspent that way. So:
 * - the deadline (`timeoutMs`) fails a decision Redis did not answer, but takes a reply that arrived while
 *   the event loop was busy (a plain timer fires before the sockets are read, and threw it away);
 * - preloadScripts connects to every master and loads the script before the first request, so a first
 *   decision is one round trip, not a connection, a NOSCRIPT and the script in full.
 */
import { createHash } from 'node:crypto'
import { expect } from 'chai'
import { Cluster, Redis } from 'ioredis'
import { createRedisStore, GCRA_LUA, preloadScripts } from '../../../src/ratelimit/index.js'
import { startRedisCluster, startRedisServer, stopAllRedis, type RedisServer } from '../../helpers/redis-servers.js'

const TIMEOUT_MS = 100
/** As the runtime has it: the client's own timeout is only a backstop, 10× the store's deadline. */
const CLIENT_OPTIONS = { commandTimeout: 10 * TIMEOUT_MS, enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true } as const
/** One rule's figures: 1 per hour, 1 at once (a second decision on a key is a refusal). */
const ONCE = { limit: 1, windowMs: 3_600_000, burst: 1 }
const GCRA_SHA = createHash('sha1').update(GCRA_LUA).digest('hex')

/** Keeps the event loop busy (no timer, no socket read) for `ms`: what a flooded or starved server does. */
function stall(ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end) {
    // Busy on purpose.
  }
}

describe('ratelimit/redis-store on a busy server (integration, private Redis)', function () {
  this.timeout(60_000)
  let server: RedisServer
  let client: Redis

  before(async () => {
    server = await startRedisServer()
    client = new Redis(server.url, CLIENT_OPTIONS)
    client.on('error', () => undefined)
    await client.connect()
  })
  after(async () => {
    client?.disconnect()
    await stopAllRedis()
  })

  it('takes a reply that arrived while the event loop was stalled past the deadline', async () => {
    const store = createRedisStore({ redis: client, keyPrefix: 'busy:stall:', timeoutMs: TIMEOUT_MS })
    await store.consume('warm', ONCE) // the script cached: the next call is one EVALSHA
    const decision = store.consume('k', ONCE)
    stall(3 * TIMEOUT_MS)
    expect((await decision).allowed).to.equal(true)
    // And it was Redis's decision: the key's budget is spent there.
    expect((await store.consume('k', ONCE)).allowed).to.equal(false)
  })

  it('fails a decision Redis does not answer (paused) at the deadline, not at the client backstop', async () => {
    const store = createRedisStore({ redis: client, keyPrefix: 'busy:paused:', timeoutMs: TIMEOUT_MS })
    await store.consume('warm', ONCE)
    server.pause()
    try {
      const startedAt = performance.now()
      const outcome = await store.consume('k', ONCE).then(
        () => 'answered',
        (err: Error) => err.message,
      )
      // The store's message, not the client backstop's "Command timed out": the deadline decided.
      expect(outcome).to.equal(`Redis did not answer within ${TIMEOUT_MS} ms`)
      expect(performance.now() - startedAt).to.be.at.least(TIMEOUT_MS - 1)
    } finally {
      server.resume()
    }
  })

  it('preloadScripts loads the script into a Redis that had none', async () => {
    await client.script('FLUSH')
    expect(await server.cli(['script', 'exists', GCRA_SHA])).to.equal('0')
    await preloadScripts(client)
    expect(await server.cli(['script', 'exists', GCRA_SHA])).to.equal('1')
  })

  it('preloadScripts connects to every master of a Cluster and loads the script there', async () => {
    const cluster = await startRedisCluster(3)
    const seed = cluster.nodes[0] ?? expect.fail('no node')
    // As src/db/redis.ts builds it: the per-node options without the Cluster-level ones.
    const { enableOfflineQueue, lazyConnect, ...perNode } = CLIENT_OPTIONS
    const clustered = new Cluster([{ host: '127.0.0.1', port: seed.port }], { enableOfflineQueue, lazyConnect, redisOptions: perNode })
    clustered.on('error', () => undefined)
    try {
      await clustered.connect()
      await preloadScripts(clustered)
      expect(await Promise.all(cluster.nodes.map((node) => node.cli(['script', 'exists', GCRA_SHA])))).to.deep.equal(['1', '1', '1'])
    } finally {
      clustered.disconnect()
      await cluster.stop()
    }
  })
})
