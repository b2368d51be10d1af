/**
 * The test helpers that start private servers (test/helpers/private-databases.ts, redis-servers.ts,
 * binaries.ts), tested themselves, because the suite must be green on any machine that can run it
 * (issue 15): the programs are found without /usr/sbin or PostgreSQL's folder on PATH, a missing one is
 * named with its Debian package, an exit at start says why, and pause() stops every process of the server,
 * also a backend forked while it ran.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { expect } from 'chai'
import pg from 'pg'
import { findProgram, lookupProgram, SERVER_PROGRAMS, type ServerProgram } from '../helpers/binaries.js'
import { pendingUnlessCi } from '../helpers/services.js'
import { tempDir } from '../helpers/cli.js'
import { processState, serverProcesses, startPrivateDatabase, stopAllPrivateDatabases } from '../helpers/private-databases.js'
import { startRedisServer, stopAllRedis } from '../helpers/redis-servers.js'
import { until } from '../helpers/serve-process.js'
import { closedPort } from '../helpers/tcp-proxy.js'

/** The PATH of a fresh non-root shell on Debian (and of `env -i … PATH=/usr/local/bin:/usr/bin:/bin`). */
const PLAIN_PATH = '/usr/local/bin:/usr/bin:/bin'

/** Runs `work` with process.env's PATH (and more) replaced, restoring them after. */
async function withEnv<T>(vars: Readonly<Record<string, string | undefined>>, work: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]))
  const apply = (values: Readonly<Record<string, string | undefined>>): void => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
  apply(vars)
  try {
    return await work()
  } finally {
    apply(saved)
  }
}

describe('test helpers: private servers on any machine (integration)', function () {
  this.timeout(120_000)
  after(async () => {
    await stopAllPrivateDatabases()
    await stopAllRedis()
  })

  it(`finds every server program with PATH=${PLAIN_PATH} (no /usr/sbin, no PostgreSQL folder), or names the missing one and its package`, function () {
    const missing: string[] = []
    for (const program of Object.keys(SERVER_PROGRAMS) as ServerProgram[]) {
      const found = lookupProgram(program, { env: { PATH: PLAIN_PATH } })
      if (found) expect(found, program).to.match(/^\//)
      else missing.push(program)
    }
    if (missing.length > 0) {
      // Not installed here: the same message a test starting it gets.
      pendingUnlessCi(this, `missing: ${missing.map((p) => SERVER_PROGRAMS[p as ServerProgram]).join(', ')}`)
    }
  })

  it('a program in none of the folders: the error names it and the Debian package that provides it', () => {
    const empty = tempDir('gantry-no-programs-')
    expect(() => findProgram('mariadbd', { folders: [empty] })).to.throw(
      `mariadbd is not installed: not found in ${empty}. On Debian: apt-get install mariadb-server-core`,
    )
    expect(() => findProgram('initdb', { folders: [empty] }))
      .to.throw('initdb is not installed')
      .and.to.match(/apt-get install postgresql-15$/)
    expect(() => findProgram('redis-server', { folders: [empty] })).to.throw('apt-get install redis-server')
    // PostgreSQL's programs come from GANTRY_TEST_PG_BIN alone when it is set.
    expect(() => findProgram('postgres', { env: { PATH: PLAIN_PATH, GANTRY_TEST_PG_BIN: empty } })).to.throw(
      `postgres is not installed: not found in ${empty}.`,
    )
  })

  it(`starts a private MariaDB and Redis with PATH=${PLAIN_PATH} (mariadbd is in /usr/sbin)`, async function () {
    if (!lookupProgram('mariadbd') || !lookupProgram('redis-server')) pendingUnlessCi(this, 'no mariadbd or redis-server to start')
    await withEnv({ PATH: PLAIN_PATH }, async () => {
      const mysql = await startPrivateDatabase('mysql')
      const redis = await startRedisServer()
      expect(await redis.cli(['ping'])).to.equal('PONG')
      await Promise.all([mysql.stop(), redis.stop()])
    })
  })

  it('a server that exits at start: the message says how it ended and ends with its stderr', async function () {
    if (process.platform !== 'linux') return this.skip()
    // A PostgreSQL whose initdb succeeds and whose postgres fails at once, writing to stderr.
    const bin = join(tempDir('gantry-fake-pg-'), 'bin')
    mkdirSync(bin)
    // Readable by the postgres account too (the helper runs PostgreSQL as it when the tests run as root).
    chmodSync(join(bin, '..'), 0o755)
    chmodSync(bin, 0o755)
    writeFileSync(join(bin, 'initdb'), '#!/bin/sh\nexit 0\n', { mode: 0o755 })
    writeFileSync(join(bin, 'postgres'), '#!/bin/sh\necho "starting" >&2\necho "FATAL:  could not create lock file: the reason is here" >&2\nexit 3\n', {
      mode: 0o755,
    })
    const error = await withEnv({ GANTRY_TEST_PG_BIN: bin }, () =>
      startPrivateDatabase('postgres').then(
        () => undefined,
        (err: Error) => err,
      ),
    )
    expect(error?.message).to.match(
      /^private postgres on \d+ exited at start \(exit code 3\):\nstarting\nFATAL: {2}could not create lock file: the reason is here$/,
    )
  })

  it('a port taken between being found free and being bound: a fresh start tries another', async () => {
    // Something else listens on the port the first attempt gets.
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()))
    const takenPort = (taken.address() as AddressInfo).port
    const offered: number[] = []
    try {
      const redis = await startRedisServer({
        ports: async () => {
          const port = offered.length === 0 ? takenPort : await closedPort()
          offered.push(port)
          return port
        },
      })
      expect(offered[0]).to.equal(takenPort)
      expect(redis.port).to.not.equal(takenPort)
      expect(await redis.cli(['ping'])).to.equal('PONG')
      await redis.stop()
    } finally {
      taken.close()
    }
  })

  it('pause() stops the server and every backend, also those forked while it ran (clients connecting all along); resume() restarts them', async function () {
    if (!lookupProgram('postgres')) pendingUnlessCi(this, 'no postgres to start')
    const server = await startPrivateDatabase('postgres')
    // Clients connecting and leaving all the time, so that backends are forked while pause() reads /proc.
    let storming = true
    /** While a pause is checked, no client leaves: a backend the pause missed stays, answering, not exiting. */
    let holding = false
    const storm = async (): Promise<void> => {
      while (storming) {
        const client = new pg.Client({ connectionString: server.url, connectionTimeoutMillis: 2000 })
        client.on('error', () => undefined)
        // Each holds its connection a while, as a pool does: a backend the pause missed lives on, answering.
        await client
          .connect()
          .then(async () => {
            for (let i = 0; storming && (i < 20 || holding); i++) await client.query('select 1')
          })
          .catch(() => undefined)
        await client.end().catch(() => undefined)
      }
    }
    const clients = Array.from({ length: 8 }, () => storm())
    try {
      const ROUNDS = 60
      for (let round = 0; round < ROUNDS; round++) {
        // Some backends forked since the last round.
        await new Promise((resolve) => setImmediate(resolve))
        await until(async () => (serverProcesses(server.pid).length > 6 ? true : undefined), 'client backends running', { timeoutMs: 10_000, intervalMs: 5 })
        holding = true
        server.pause()
        // Every process stops (a signal takes effect when the process is next scheduled: awaited). One the
        // pause missed never does: its client goes on querying it.
        await until(
          async () => (serverProcesses(server.pid).every((pid) => ['T', 'Z', 'X', undefined].includes(processState(pid))) ? true : undefined),
          `round ${round}: every process of the paused server stopped`,
          { timeoutMs: 3000, intervalMs: 10 },
        ).catch((err: Error) => {
          throw new Error(
            `${err.message}; not stopped: ${serverProcesses(server.pid)
              .map((pid) => `${pid}:${processState(pid)}`)
              .filter((p) => !/:[TZX]$/.test(p))
              .join(' ')}`,
          )
        })
        holding = false
        server.resume()
      }
    } finally {
      storming = false
      holding = false
      server.resume()
      await Promise.all(clients)
      await server.stop()
    }
  })
})
