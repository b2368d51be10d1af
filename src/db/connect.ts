import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import type { Knex } from 'knex'
import { describeDatabaseError } from './errors.js'
import { applyAfterConnect, applySetup, loadKnexHooks, withConnectStep, type KnexHooks } from './knex-setup.js'
import { sqliteDriver, type SqliteDriver } from './sqlite-driver.js'
import { tlsConnectOptions } from './tls.js'
import { parseDatabaseUrl, type DatabaseTarget, type Dialect } from './url.js'

/** An open database: the knex instance, its dialect, and where it points (without password). */
export interface Database {
  readonly knex: Knex
  readonly dialect: Dialect
  readonly target: DatabaseTarget
  /** The driver package that talks to it (for SQLite, the one sqlite-driver.ts chose). */
  readonly driver: string
  /**
   * Another knex on the same database, built the same way (the workspace's knex setup included): the
   * migrator's run and dry-run clients. `client` subclasses the database's own client class; `onConnect`
   * runs on each new connection after every other hook.
   */
  derive(options?: DeriveOptions): Promise<Knex>
  /**
   * Another database opened the way this one was (the same SQLite driver, the workspace's knex setup): the
   * dry run's copy or shadow database, so the project's knex customisation applies there too.
   */
  openSibling(target: DatabaseTarget): Promise<Database>
  close(): Promise<void>
}

/** What a derived knex changes. */
export interface DeriveOptions {
  /** knex types client classes loosely; a derived one is a subclass of the database's own. */
  readonly client?: new (config: Knex.Config) => unknown
  /** Runs last, so no hook can undo what it sets (the dry run's read-only session). */
  readonly onConnect?: (conn: unknown) => Promise<void>
}

/** How long a new connection or a pooled one may take before the database counts as unreachable. */
const CONNECT_TIMEOUT_MS = 10_000

/**
 * knex's own logger prints pool errors (with stacks) to stdout; every failure reaches the caller as an
 * exception and is rendered once as a catalogued error, so knex stays quiet.
 */
const quietLog = { warn: () => undefined, error: () => undefined, deprecate: () => undefined, debug: () => undefined }

/** What every knex of one database is built from: where it is, the SQLite driver, the workspace's setup module. */
interface Recipe {
  readonly target: DatabaseTarget
  /** On SQLite, a driver the caller named instead of the one sqlite-driver.ts chooses. */
  readonly sqlite: SqliteDriver | undefined
  readonly hooks: KnexHooks | undefined
}

/** Gantry's knex config for a database. The SQLite client module is loaded only on SQLite, like knex itself. */
async function knexConfig({ target, sqlite }: Recipe): Promise<Knex.Config> {
  // knex puts the failed statement in front of the driver's message; with its values inlined that would
  // carry password hashes, token hashes and emails into every error and log line that quotes one.
  const common = { log: quietLog, compileSqlOnError: false }
  if (target.dialect !== 'sqlite') return { ...serverConfig(target), ...common }
  const { sqliteClient } = await import('./sqlite-client.js')
  return { ...sqliteConfig(target, sqliteClient(sqlite ?? sqliteDriver())), ...common }
}

/** The driver package knex uses for a database. */
function driverName({ target, sqlite }: Recipe): string {
  return target.dialect === 'sqlite' ? (sqlite ?? sqliteDriver()).name : target.dialect === 'mysql' ? 'mysql2' : 'pg'
}

function sqliteConfig(target: DatabaseTarget & { dialect: 'sqlite' }, client: Knex.Config['client']): Knex.Config {
  return {
    client,
    connection: { filename: target.filename },
    useNullAsDefault: true,
    pool: {
      afterCreate(conn: { pragma(sql: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
        // Concurrent readers (status while a run migrates) and foreign keys, which SQLite leaves off.
        conn.pragma('journal_mode = WAL')
        conn.pragma('foreign_keys = ON')
        conn.pragma('busy_timeout = 5000')
        // Set here rather than left to each driver's build (better-sqlite3 compiles in NORMAL and a 16 MB
        // cache, libsql ships FULL and 2 MB): the same durability and speed whichever driver runs. NORMAL in
        // WAL mode never corrupts the file; a power cut may lose the last commits before a checkpoint.
        conn.pragma('synchronous = NORMAL')
        conn.pragma('cache_size = -16000')
        done(null, conn)
      },
    },
  }
}

function serverConfig(target: DatabaseTarget & { dialect: 'mysql' | 'postgres' }): Knex.Config {
  const tls = tlsConnectOptions(target.tls)
  switch (target.dialect) {
    case 'mysql':
      return {
        client: 'mysql2',
        connection: {
          host: target.host,
          port: target.port,
          user: target.user,
          password: target.password,
          database: target.database,
          connectTimeout: CONNECT_TIMEOUT_MS,
          supportBigNumbers: true,
          // mysql2 checks the host name itself, when told to (verifyIdentity), not through checkServerIdentity.
          ...(tls ? { ssl: { rejectUnauthorized: tls.rejectUnauthorized, ca: tls.ca, verifyIdentity: target.tls.mode === 'verify-full' } } : {}),
        },
        pool: { min: 0, max: 10 },
        acquireConnectionTimeout: CONNECT_TIMEOUT_MS + 5_000,
      }
    case 'postgres':
      return {
        client: 'pg',
        connection: {
          host: target.host,
          port: target.port,
          user: target.user,
          password: target.password,
          database: target.database,
          application_name: 'gantry',
          connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
          ...(tls ? { ssl: tls } : {}),
        },
        pool: { min: 0, max: 10 },
        acquireConnectionTimeout: CONNECT_TIMEOUT_MS + 5_000,
      }
  }
}

/**
 * The one way to build a knex for a workspace database: Gantry's config, then the workspace's knex setup
 * module, then what a derived client changes.
 */
async function buildKnex(recipe: Recipe, derive: DeriveOptions = {}): Promise<Knex> {
  const { default: knex } = await import('knex')
  const { hooks } = recipe
  const context = { dialect: recipe.target.dialect }
  let config = await applySetup(await knexConfig(recipe), hooks, context)
  const ownClient = config.client
  if (derive.client) config = { ...config, client: derive.client as Knex.Config['client'] }
  if (derive.onConnect) config = withConnectStep(config, derive.onConnect)
  const instance = knex(config)
  // knex reads config.client only to build the client; migrations read it to branch by driver
  // (`knex.client.config.client === 'mysql2'`, a common idiom), so a derived client shows the database's own.
  if (derive.client) (instance.client as { config: Knex.Config }).config.client = ownClient
  try {
    await applyAfterConnect(instance, hooks, context)
  } catch (err) {
    await instance.destroy()
    throw err
  }
  return instance
}

/**
 * Opens the database a URL names (knex loads only the driver it needs) and checks the connection, so a
 * wrong password or a missing database is one clear error here rather than a driver message later.
 * A SQLite file and its folder are created on first use. `knexSetup` is the workspace's knex setup module
 * (the config's `knex` key): every knex built for this database goes through it. `sqliteDriver` overrides
 * GANTRY_SQLITE_DRIVER's choice (the driver benchmark opens both in one process).
 */
export async function openDatabase(
  url: string,
  root: string,
  options: { knexSetup?: { name: string; path: string } | undefined; sqliteDriver?: SqliteDriver } = {},
): Promise<Database> {
  const target = parseDatabaseUrl(url, root)
  return openRecipe({ target, sqlite: options.sqliteDriver, hooks: await loadKnexHooks(options.knexSetup) })
}

async function openRecipe(recipe: Recipe): Promise<Database> {
  const { target } = recipe
  if (target.dialect === 'sqlite' && target.filename !== ':memory:') mkdirSync(dirname(target.filename), { recursive: true })
  const instance = await buildKnex(recipe)
  const db: Database = {
    knex: instance,
    dialect: target.dialect,
    target,
    driver: driverName(recipe),
    derive: (derived) => buildKnex(recipe, derived),
    openSibling: (sibling) => openRecipe({ ...recipe, target: sibling }),
    close: () => instance.destroy(),
  }
  try {
    await instance.raw('select 1')
  } catch (err) {
    await db.close()
    throw describeDatabaseError(err, target)
  }
  return db
}

/** Round-trip time of a trivial query, in milliseconds. */
export async function ping(db: Database): Promise<number> {
  const started = performance.now()
  try {
    await db.knex.raw('select 1')
  } catch (err) {
    throw describeDatabaseError(err, db.target)
  }
  return Math.round((performance.now() - started) * 10) / 10
}

/** How the connection to the database is protected in transit, as the server reports it. */
export type Transport =
  { readonly kind: 'local' } | { readonly kind: 'plain' } | { readonly kind: 'tls'; readonly version: string | null; readonly cipher: string | null }

/**
 * Asks the server whether this connection is encrypted (PostgreSQL's pg_stat_ssl, MySQL's Ssl_version and
 * Ssl_cipher): what `env check` shows. Every connection of the pool is opened alike, so one speaks for all.
 */
export async function transport(db: Database): Promise<Transport> {
  if (db.dialect === 'sqlite') return { kind: 'local' }
  try {
    if (db.dialect === 'postgres') {
      const { rows } = (await db.knex.raw('select ssl, version, cipher from pg_stat_ssl where pid = pg_backend_pid()')) as {
        rows: Array<{ ssl: boolean; version: string | null; cipher: string | null }>
      }
      const row = rows[0]
      return row?.ssl ? { kind: 'tls', version: row.version, cipher: row.cipher } : { kind: 'plain' }
    }
    const [rows] = (await db.knex.raw("show session status where Variable_name in ('Ssl_version', 'Ssl_cipher')")) as [
      Array<{ Variable_name: string; Value: string }>,
    ]
    const value = (name: string) => rows.find((r) => r.Variable_name === name)?.Value || null
    return value('Ssl_cipher') ? { kind: 'tls', version: value('Ssl_version'), cipher: value('Ssl_cipher') } : { kind: 'plain' }
  } catch (err) {
    throw describeDatabaseError(err, db.target)
  }
}
