/**
 * `users import` throughput in process (no CLI start-up, no hashing: rows carry no password): a CSV of
 * 50,000 users (5,000 with --quick) streamed through the import service into an empty SQLite table, against
 * a plain knex batch insert (transactions of 1000, statements of 500 rows) of the same rows already in
 * memory — the floor of writing them. Report only; rows/s of both are kept in the result's details.
 */
import { rmSync, writeFileSync, createReadStream, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { gantryModules, openMigrated } from './users-list.mjs'

export default {
  name: 'users-import',
  description: 'users import of a CSV (no passwords) on SQLite, in process, vs a plain knex batch insert of the same rows (report only; rows/s in details).',
  target: null,
  pairs: { full: 10, quick: 10 },
  async setup({ root, quick }) {
    const rows = quick ? 5_000 : 50_000
    const m = await gantryModules(root)
    const dir = join(root, 'bench', '.work', 'users-import')
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    const csv = join(dir, 'users.csv')
    const lines = ['email,name,role']
    for (let i = 0; i < rows; i++) lines.push(`User${i}@Example.com,"User ${i}",${i % 3 === 0 ? 'operator' : 'viewer'}`)
    writeFileSync(csv, `${lines.join('\n')}\n`)
    const opened = await openMigrated(m, `sqlite:${join(dir, 'import.sqlite3')}`, root, dir)
    const { knex } = opened.db
    const empty = () => knex('gantry_users').delete()
    const timed = async (work) => {
      await empty()
      const start = process.hrtime.bigint()
      await work()
      return Number(process.hrtime.bigint() - start) / 1e6
    }
    const now = Date.now()
    const records = Array.from({ length: rows }, (_, i) => ({
      email: `user${i}@example.com`,
      name: `User ${i}`,
      role: i % 3 === 0 ? 'operator' : 'viewer',
      status: 'active',
      password_hash: null,
      created_at: now,
      updated_at: now,
    }))
    const subject = {
      label: `users import (${rows} CSV rows, streamed)`,
      run: () =>
        timed(async () => {
          const result = await opened.services.userImport.importUsers(opened.ctx, () => createReadStream(csv), { format: 'csv' })
          if (result.imported !== rows) throw new Error(`imported ${result.imported} of ${rows}: ${JSON.stringify(result.skipped.slice(0, 3))}`)
        }),
    }
    const reference = {
      label: `knex batch insert (${rows} rows in memory)`,
      run: () =>
        timed(async () => {
          for (let i = 0; i < rows; i += 1000) await knex.transaction((trx) => trx.batchInsert('gantry_users', records.slice(i, i + 1000), 500))
        }),
    }
    const perSecond = (side) => Math.round(rows / (side.medianMs / 1000))
    return {
      subject,
      reference,
      details: (s, r) => ({ rows, importRowsPerSecond: perSecond(s), knexRowsPerSecond: perSecond(r) }),
      cleanup: async () => {
        await opened.db.close()
        rmSync(dir, { recursive: true, force: true })
      },
    }
  },
}
