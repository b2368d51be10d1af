/**
 * The rate-limit store through Redis Sentinel (`redis+sentinel://host:port/MASTER`): the client asks the
 * Sentinel where the master is and spends budgets there. A private redis-server and a private Sentinel on
 * free loopback ports; the machine's shared Redis is never touched.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import type { Redis } from 'ioredis'
import { createRedisClient } from '../../../src/db/redis.js'
import { createRedisStore } from '../../../src/ratelimit/index.js'
import { findProgram } from '../../helpers/binaries.js'
import { tempDir } from '../../helpers/cli.js'
import { redisCli, startRedisServer, stopAllRedis, type RedisServer } from '../../helpers/redis-servers.js'
import { until } from '../../helpers/serve-process.js'
import { closedPort } from '../../helpers/tcp-proxy.js'

describe('ratelimit/redis-store through Sentinel (integration)', function () {
  this.timeout(30_000)
  let master: RedisServer
  let sentinel: ChildProcess | undefined
  let sentinelPort = 0

  before(async () => {
    master = await startRedisServer()
    sentinelPort = await closedPort()
    const conf = join(tempDir('gantry-sentinel-'), 'sentinel.conf')
    // A Sentinel rewrites its config file: it must be its own and writable.
    writeFileSync(
      conf,
      [`port ${sentinelPort}`, 'bind 127.0.0.1', 'protected-mode no', `sentinel monitor gantry-master 127.0.0.1 ${master.port} 1`, ''].join('\n'),
    )
    sentinel = spawn(findProgram('redis-server'), [conf, '--sentinel'], { stdio: 'ignore' })
    await until(
      async () =>
        (await redisCli(sentinelPort, ['sentinel', 'get-master-addr-by-name', 'gantry-master'], 1000)).includes(String(master.port)) ? true : undefined,
      'the Sentinel knows the master',
      { timeoutMs: 10_000, intervalMs: 50 },
    )
  })

  after(async () => {
    sentinel?.kill('SIGKILL')
    await stopAllRedis()
  })

  it('finds the master through the Sentinel and keeps the GCRA state there', async () => {
    const client = (await createRedisClient(`redis+sentinel://127.0.0.1:${sentinelPort}/gantry-master`, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    })) as Redis
    client.on('error', () => undefined)
    try {
      await client.connect()
      const store = createRedisStore({ redis: client, keyPrefix: 'sentinel-test:' })
      const p = { limit: 1, windowMs: 60_000, burst: 2 }
      expect((await store.consume('k', p)).allowed).to.equal(true)
      expect((await store.consume('k', p)).allowed).to.equal(true)
      expect((await store.consume('k', p)).allowed).to.equal(false)
      // The key is on the master the Sentinel named, with its TTL.
      expect(Number(await master.cli(['pttl', 'sentinel-test:k']))).to.be.above(0)
    } finally {
      client.disconnect()
    }
  })

  it('a Sentinel URL without its master name is refused in one line', async () => {
    const err = await createRedisClient(`redis+sentinel://127.0.0.1:${sentinelPort}`, {}).then(
      () => undefined,
      (e: Error) => e,
    )
    expect(err?.message).to.match(/^redis\+sentinel:\/\/127\.0\.0\.1:\d+: a Sentinel URL names its master after the hosts/)
  })
})
