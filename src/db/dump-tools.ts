/**
 * A consistent dump of a whole database with the dialect's own tool, and restoring one (issue 23):
 * - PostgreSQL: pg_dump's custom format in a snapshot Gantry exports and counts rows in (dump/postgres.ts);
 *   pg_restore in one transaction;
 * - MySQL/MariaDB: mariadb-dump (or mysqldump) --single-transaction, row counts read from the dump itself
 *   (dump/mysql.ts, dump/sql-dump-rows.ts); the mariadb (or mysql) client runs it back;
 * - SQLite: VACUUM INTO, counted in the copy; restored in place in one transaction (dump/sqlite.ts).
 * Credentials never reach a command line (`ps` shows it): libpq's environment, a private option file for
 * MySQL. A program that is missing is DUMP_TOOL_MISSING naming its package; one that fails is
 * DUMP_TOOL_FAILED quoting the last lines it wrote to stderr.
 */
import { closeSync, openSync, rmSync } from 'node:fs'
import { resolve } from 'node:path'
import type { ContentFormat } from '../core/backups/backup.schema.js'
import { GantryError } from '../core/errors.js'
import type { Database } from './connect.js'
import { checkMysqlDump, dumpMysql, restoreMysql } from './dump/mysql.js'
import { checkPostgresDump, dumpPostgres, postgresRowCounts, restorePostgres } from './dump/postgres.js'
import { dumpSqlite, restoreSqlite, sqliteRowCounts } from './dump/sqlite.js'
import type { TableSet } from './dump/table-sets.js'
import type { DumpOptions, DumpResult } from './dump/types.js'
import { describeDatabaseError } from './errors.js'
import type { Dialect } from './url.js'

export type { DumpOptions, DumpResult } from './dump/types.js'
export type { DumpProgram } from './dump/programs.js'

export interface DumpTool {
  /** Resolves when a dump could run: its program is installed (and, for pg_dump, new enough); else throws DUMP_TOOL_MISSING. */
  check(): Promise<void>
  /**
   * Writes a consistent dump of every table to `file`, which must not exist yet: it is created with mode
   * 0600 (and removed again if the dump fails). The row counts are those of the dump's own snapshot.
   */
  dump(file: string, tables?: TableSet): Promise<DumpResult>
  /**
   * Replaces the database's tables with those of the dump in `file` (the database itself must exist).
   * Tables the database has that the dump lacks stay as they are. PostgreSQL and SQLite restore in one
   * transaction (all or nothing); MySQL/MariaDB table by table (DDL commits implicitly there).
   */
  restore(file: string, format: ContentFormat): Promise<void>
}

/** The content format each dialect's dump is written in. */
export const DUMP_FORMATS: Record<Dialect, ContentFormat> = { postgres: 'pg-custom', mysql: 'sql', sqlite: 'sqlite' }

/** The dump tool of `db`'s dialect. */
export function dumpTool(db: Database, options: DumpOptions = {}): DumpTool {
  return {
    async check() {
      if (db.dialect === 'postgres') await checkPostgresDump(db, options)
      else if (db.dialect === 'mysql') await checkMysqlDump(options)
    },
    async dump(file, tables = 'all') {
      const path = checkedPath(file)
      try {
        // Exclusive creation: never through a link someone left at the path, never over another file.
        closeSync(openSync(path, 'wx', 0o600))
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if (code === 'EEXIST') throw new GantryError('FILE_EXISTS', `${path} already exists: the dump is written to a new file.`, { cause: err })
        throw new GantryError('DUMP_TOOL_FAILED', `Cannot create the dump file ${path}: ${code ?? (err as Error).message}.`, { cause: err })
      }
      try {
        switch (db.dialect) {
          case 'postgres':
            return await dumpPostgres(db, path, options, tables)
          case 'mysql':
            return await dumpMysql(db, path, options, tables)
          case 'sqlite':
            return await dumpSqlite(db, path, tables)
        }
      } catch (err) {
        rmSync(path, { force: true })
        throw err
      }
    },
    async restore(file, format) {
      const path = checkedPath(file)
      if (format !== DUMP_FORMATS[db.dialect]) {
        throw new GantryError('INVALID_INPUT', `A ${format} dump cannot be restored into a ${db.dialect} database (it takes ${DUMP_FORMATS[db.dialect]}).`, {
          details: { fields: ['format'], reason: 'dialect-mismatch', format, dialect: db.dialect },
        })
      }
      switch (db.dialect) {
        case 'postgres':
          return restorePostgres(db, path, options)
        case 'mysql':
          return restoreMysql(db, path, options)
        case 'sqlite':
          return restoreSqlite(db, path)
      }
    },
  }
}

/**
 * Rows per table now, keyed as a dump's rowCounts are (a PostgreSQL table outside the current schema as
 * `schema.name`): what a restore's result is compared with. MySQL's are exact counts (not the estimates
 * of information_schema).
 */
export async function tableRowCounts(db: Database): Promise<Record<string, number>> {
  try {
    switch (db.dialect) {
      case 'postgres':
        return await postgresRowCounts(db.knex)
      case 'sqlite':
        return await sqliteRowCounts(db)
      case 'mysql': {
        const [tables] = (await db.knex.raw(
          "select table_name as name from information_schema.tables where table_schema = database() and table_type = 'BASE TABLE' order by 1",
        )) as [Array<{ name: string }>]
        const counts: Record<string, number> = {}
        for (const { name } of tables) {
          const [[row]] = (await db.knex.raw(`select count(*) as n from \`${name.replace(/`/g, '``')}\``)) as [[{ n: number }]]
          counts[name] = Number(row.n)
        }
        return counts
      }
    }
  } catch (err) {
    throw err instanceof GantryError ? err : describeDatabaseError(err, db.target)
  }
}

/** An absolute path (so no argument of a tool can start with `-`), refusing what no file system takes. */
function checkedPath(file: string): string {
  if (file === '' || file.includes('\0')) {
    throw new GantryError('INVALID_INPUT', `Not a usable file path: ${JSON.stringify(file)}.`, { details: { fields: ['file'], reason: 'invalid-path' } })
  }
  return resolve(file)
}
