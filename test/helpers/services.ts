import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Knex } from 'knex'
import knexFactory from 'knex'
import type { Dialect } from '../../src/db/url.js'

/**
 * Where the shared services are; each run makes its own databases on them and drops them after. On the
 * shared Redis each test process takes a numbered database of its own (1 to 15, by its PID), so files that
 * `npm test` runs at once in two processes never share rate-limit counters.
 */
export const SERVICE_URLS = {
  mysql: process.env.GANTRY_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test',
  postgres: process.env.GANTRY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  redis: process.env.GANTRY_TEST_REDIS_URL ?? `redis://127.0.0.1:6379/${1 + (process.pid % 15)}`,
} as const

export const DIALECTS: readonly Dialect[] = ['sqlite', 'mysql', 'postgres']

const unreachable = new Map<string, string>()

/**
 * What a test needs is missing here (a service, a program): pending with the reason printed, or, under
 * CI=true, a failure, since CI must never pass by skipping what it was meant to run.
 */
export function pendingUnlessCi(ctx: Mocha.Context, reason: string): never {
  if (process.env.CI === 'true') throw new Error(`required under CI: ${reason}`)
  console.log(`      pending: ${reason}`)
  ctx.skip()
}

/**
 * Skips (pending, with the reason printed) when a service cannot be reached — except under CI=true, where
 * an unreachable service fails the test: CI must never pass silently without the real services.
 */
export async function requireDialect(ctx: Mocha.Context, dialect: Dialect): Promise<void> {
  if (dialect === 'sqlite') return
  const reason = await probe(dialect)
  if (!reason) return
  pendingUnlessCi(ctx, `${dialect} unreachable (${reason})`)
}

/** requireDialect for the shared Redis: pending with the reason, or a failure under CI=true. */
export async function requireRedis(ctx: Mocha.Context): Promise<void> {
  if (!unreachable.has('redis')) {
    const { pingRedis } = await import('../../src/db/redis.js')
    unreachable.set(
      'redis',
      await pingRedis(SERVICE_URLS.redis).then(
        () => '',
        (err: Error) => err.message,
      ),
    )
  }
  const reason = unreachable.get('redis')
  if (!reason) return
  pendingUnlessCi(ctx, `redis unreachable (${reason})`)
}

async function probe(dialect: 'mysql' | 'postgres'): Promise<string | undefined> {
  if (unreachable.has(dialect)) return unreachable.get(dialect)
  const db = adminKnex(dialect)
  try {
    await db.raw('select 1')
    return undefined
  } catch (err) {
    const reason = (err as Error).message.split('\n')[0] ?? 'unknown'
    unreachable.set(dialect, reason)
    return reason
  } finally {
    await db.destroy()
  }
}

/** A one-connection knex on a server's admin URL (the shared services' by default), quiet about refusals: callers report them. */
export function adminKnex(dialect: 'mysql' | 'postgres', serverUrl: string = SERVICE_URLS[dialect]): Knex {
  const url = new URL(serverUrl)
  return knexFactory({
    client: dialect === 'mysql' ? 'mysql2' : 'pg',
    connection: {
      host: url.hostname,
      port: Number(url.port),
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      database: url.pathname.slice(1),
      ...(dialect === 'mysql' ? { connectTimeout: 3000 } : { connectionTimeoutMillis: 3000 }),
    },
    pool: { min: 0, max: 1 },
    acquireConnectionTimeout: 4000,
    log: { warn: () => undefined, error: () => undefined, debug: () => undefined, deprecate: () => undefined },
  })
}

/** A fresh, empty database of one dialect, and how to drop it. */
export interface TestDatabase {
  readonly dialect: Dialect
  /** A URL Gantry accepts (sqlite: with an absolute path). */
  readonly url: string
  drop(): Promise<void>
}

/** Creates a uniquely named database (or SQLite file) for one test or suite, on the shared services. */
export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  if (dialect !== 'sqlite') return createDatabaseOn(dialect, SERVICE_URLS[dialect])
  const dir = mkdtempSync(join(tmpdir(), 'gantry-sqlite-'))
  return { dialect, url: `sqlite:${join(dir, `gantry_t_${process.pid}.sqlite3`)}`, drop: async () => rmSync(dir, { recursive: true, force: true }) }
}

/** Creates a uniquely named database on the server at `serverUrl` (its admin URL), and how to drop it. */
export async function createDatabaseOn(dialect: 'mysql' | 'postgres', serverUrl: string): Promise<TestDatabase> {
  const name = `gantry_t_${process.pid}_${randomBytes(4).toString('hex')}`
  const quoted = dialect === 'mysql' ? `\`${name}\`` : `"${name}"`
  const admin = adminKnex(dialect, serverUrl)
  try {
    await admin.raw(`CREATE DATABASE ${quoted}`)
  } finally {
    await admin.destroy()
  }
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return {
    dialect,
    url: url.toString(),
    async drop() {
      const db = adminKnex(dialect, serverUrl)
      try {
        await db.raw(dialect === 'postgres' ? `DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)` : `DROP DATABASE IF EXISTS ${quoted}`)
      } finally {
        await db.destroy()
      }
    },
  }
}
