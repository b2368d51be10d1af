/**
 * Where a dry run runs migrations for real and nobody sees it, never the target itself: on SQLite a copy of
 * the file (VACUUM INTO, which a plain file copy is not: it would miss what is still in the WAL); on MySQL/
 * MariaDB and PostgreSQL a shadow database, the one `migrations.shadowDatabase` names (emptied first) or a
 * temporary one Gantry creates and drops when its role may create databases.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { GantryError } from '../../core/errors.js'
import type { Database } from '../connect.js'
import { driverMessage } from '../errors.js'
import { parseDatabaseUrl, type DatabaseTarget } from '../url.js'
import { RUNS_TABLE } from './tracking.js'

/** A database the migrations may change, what it is, and how to get rid of it (also after a failure). */
export interface Sandbox {
  readonly mode: 'copy' | 'shadow'
  readonly db: Database
  /** Where it is, without a password. */
  readonly on: string
  dispose(): Promise<void>
}

/** A sandbox, or why none could be had (the dry run then previews file by file). */
export type SandboxOutcome = { readonly sandbox: Sandbox } | { readonly reason: string }

/**
 * A sandbox for `db`. `shadowUrl`: the configured shadow database, if any; `trackingTables`: tables only a
 * migrated database has, so a configured shadow holding one of them is refused rather than emptied.
 * A configured shadow that cannot be used is an error (it was asked for); a temporary one that cannot be
 * created is a reason to fall back.
 */
export async function openSandbox(db: Database, shadowUrl: string | undefined, trackingTables: readonly string[]): Promise<SandboxOutcome> {
  if (db.target.dialect === 'sqlite') {
    try {
      return { sandbox: await sqliteCopy(db) }
    } catch (err) {
      return { reason: `the database could not be copied (${driverMessage((err as Error).message)})` }
    }
  }
  // A server URL needs no workspace root (only a SQLite path resolves from one).
  if (shadowUrl) return { sandbox: await configuredShadow(db, parseDatabaseUrl(shadowUrl, '.'), trackingTables) }
  try {
    return { sandbox: await temporaryShadow(db, db.target) }
  } catch (err) {
    const why = driverMessage((err as Error).message)
    return { reason: `no shadow database: migrations.shadowDatabase is not set and a temporary one could not be created (${why})` }
  }
}

async function sqliteCopy(db: Database): Promise<Sandbox> {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-preview-'))
  const filename = join(dir, db.target.dialect === 'sqlite' && db.target.filename !== ':memory:' ? basename(db.target.filename) : 'memory.sqlite3')
  try {
    await db.knex.raw('VACUUM INTO ?', [filename])
    const copy = await db.openSibling({ dialect: 'sqlite', filename, display: `sqlite:${filename}` })
    return {
      mode: 'copy',
      db: copy,
      on: copy.target.display,
      dispose: async () => {
        try {
          await copy.close()
        } finally {
          rmSync(dir, { recursive: true, force: true })
        }
      },
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
}

type ServerTarget = DatabaseTarget & { dialect: 'mysql' | 'postgres' }

/** `target` with another database name (the display form follows). */
function renamed(target: ServerTarget, database: string): ServerTarget {
  return { ...target, database, display: `${target.display.slice(0, -target.database.length)}${database}` }
}

/** `<db>_gantry_shadow_<8 hex>`, within the 63 characters PostgreSQL and 64 MySQL allow. */
function shadowName(database: string): string {
  return `${database.slice(0, 40)}_gantry_shadow_${randomBytes(4).toString('hex')}`
}

async function temporaryShadow(db: Database, target: ServerTarget): Promise<Sandbox> {
  const name = shadowName(target.database)
  await db.knex.raw('CREATE DATABASE ??', [name])
  const drop = () => db.knex.raw(db.dialect === 'postgres' ? 'DROP DATABASE IF EXISTS ?? WITH (FORCE)' : 'DROP DATABASE IF EXISTS ??', [name])
  let shadow: Database
  try {
    shadow = await db.openSibling(renamed(target, name))
  } catch (err) {
    await drop()
    throw err
  }
  return {
    mode: 'shadow',
    db: shadow,
    on: shadow.target.display,
    dispose: async () => {
      try {
        await shadow.close()
      } finally {
        await drop()
      }
    },
  }
}

/** Loopback names of one machine, so `localhost` and `127.0.0.1` count as the same server. */
const hostKey = (host: string): string => (['localhost', '127.0.0.1', '::1'].includes(host) ? 'loopback' : host.toLowerCase())

async function configuredShadow(db: Database, shadow: DatabaseTarget, trackingTables: readonly string[]): Promise<Sandbox> {
  const target = db.target
  const invalid = (problem: string): GantryError =>
    new GantryError('CONFIG_INVALID', `migrations.shadowDatabase ${problem}.`, {
      hint: 'Point migrations.shadowDatabase in gantry.config.json at an empty database of its own on the same kind of server.',
    })
  if (shadow.dialect !== target.dialect) throw invalid(`is a ${shadow.dialect} database but this environment's is ${target.dialect}`)
  if (shadow.dialect !== 'sqlite' && target.dialect !== 'sqlite') {
    const same = hostKey(shadow.host) === hostKey(target.host) && shadow.port === target.port && shadow.database === target.database
    if (same) throw invalid(`names this environment's own database (${target.display}); the dry run empties it before use`)
  }
  const opened = await db.openSibling(shadow)
  try {
    const tracked = []
    for (const table of [RUNS_TABLE, ...trackingTables]) if (await opened.knex.schema.hasTable(table)) tracked.push(table)
    if (tracked.length > 0) throw invalid(`(${shadow.display}) holds ${tracked.join(', ')}: it is a migrated database, not a shadow, and is left as it is`)
    await emptyDatabase(opened)
  } catch (err) {
    await opened.close()
    throw err
  }
  return { mode: 'shadow', db: opened, on: shadow.display, dispose: () => opened.close() }
}

/**
 * Drops everything a configured shadow database holds. PostgreSQL: every schema but the system ones, then
 * `public` again; MySQL/MariaDB: every view, table, procedure and function.
 */
async function emptyDatabase(shadow: Database): Promise<void> {
  const k = shadow.knex
  try {
    if (shadow.dialect === 'postgres') {
      const { rows } = (await k.raw("SELECT nspname AS name FROM pg_namespace WHERE nspname <> 'information_schema' AND nspname NOT LIKE 'pg\\_%'")) as {
        rows: Array<{ name: string }>
      }
      for (const { name } of rows) await k.raw('DROP SCHEMA ?? CASCADE', [name])
      await k.raw('CREATE SCHEMA IF NOT EXISTS public')
      return
    }
    await k.transaction(async (trx) => {
      // One connection: the switch is per session, and the tables may reference each other.
      await trx.raw('SET FOREIGN_KEY_CHECKS = 0')
      const [tables] = (await trx.raw('SELECT table_name AS name, table_type AS type FROM information_schema.tables WHERE table_schema = database()')) as [
        Array<{ name: string; type: string }>,
      ]
      for (const t of tables) await trx.raw(t.type === 'VIEW' ? 'DROP VIEW IF EXISTS ??' : 'DROP TABLE IF EXISTS ??', [t.name])
      const [routines] = (await trx.raw(
        'SELECT routine_name AS name, routine_type AS type FROM information_schema.routines WHERE routine_schema = database()',
      )) as [Array<{ name: string; type: string }>]
      for (const r of routines) await trx.raw(`DROP ${r.type === 'FUNCTION' ? 'FUNCTION' : 'PROCEDURE'} IF EXISTS ??`, [r.name])
      await trx.raw('SET FOREIGN_KEY_CHECKS = 1')
    })
  } catch (err) {
    throw new GantryError('MIGRATION_FAILED', `Cannot empty the shadow database ${shadow.target.display}: ${driverMessage((err as Error).message)}.`, {
      cause: err,
      hint: 'Its user must own what is in it (or the database): see docs/migrations.md, "Dry run".',
    })
  }
}
