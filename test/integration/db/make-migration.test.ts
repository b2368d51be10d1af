import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { expect } from 'chai'
import type { Knex } from 'knex'
import { makeScript, migrationBody } from '../../../src/db/migrator/make.js'
import { tempDir } from '../../helpers/cli.js'
import { sqliteKnex } from '../../helpers/sqlite-file.js'

type Migration = { up(knex: Knex): Promise<void>; down(knex: Knex): Promise<void> }

/** The columns of `table` (none when it does not exist). */
async function columns(knex: Knex, table: string): Promise<string[]> {
  const rows = (await knex.raw(`PRAGMA table_info(${table})`)) as Array<{ name: string }>
  return rows.map((r) => r.name).sort()
}

describe('migrate make: the body a name asks for', () => {
  it('add_X_to_Y adds column X to table Y, and down drops it', () => {
    const body = migrationBody('add_order_status_to_orders')
    expect(body.up).to.equal("  await knex.schema.alterTable('orders', (t) => {\n    t.string('order_status')\n  })")
    expect(body.down).to.equal("  await knex.schema.alterTable('orders', (t) => {\n    t.dropColumn('order_status')\n  })")
    expect(migrationBody('add_opt_in_to_users_table').up).to.include("alterTable('users'").and.include("t.string('opt_in')")
  })

  it('remove_X_from_Y drops column X, and down says to recreate it', () => {
    const body = migrationBody('remove_nickname_from_users')
    expect(body.up).to.include("alterTable('users'").and.include("t.dropColumn('nickname')")
    expect(body.down).to.include("alterTable('users'").and.include('Recreate nickname').and.include("t.string('nickname')")
  })

  it('change_X_in_Y and alter_X alter the table', () => {
    const change = migrationBody('change_email_in_users_table')
    expect(change.up).to.include("alterTable('users'").and.include("t.string('email').alter()")
    expect(change.down).to.include("alterTable('users'").and.include('back the way it was')
    const alter = migrationBody('alter_orders')
    expect(alter.up).to.match(/^ {2}await knex\.schema\.alterTable\('orders'/)
    expect(alter.down).to.include("alterTable('orders'")
  })

  it('drop_X drops table X, and down says to recreate it', () => {
    const body = migrationBody('drop_legacy_sessions')
    expect(body.up).to.equal("  await knex.schema.dropTable('legacy_sessions')")
    expect(body.down).to.include('Recreate legacy_sessions as it was').and.include("createTable('legacy_sessions'")
  })

  it('add_X, create_X and any other name create table X (Laravel _table dropped), as before', () => {
    for (const [name, table] of [
      ['add_order_status', 'order_status'],
      ['create_users', 'users'],
      ['create_users_table', 'users'],
      ['posts', 'posts'],
      ['add_email_index', 'email_index'],
    ] as const) {
      const body = migrationBody(name)
      expect(body.up, name).to.include(`createTable('${table}'`)
      expect(body.down, name).to.equal(`  await knex.schema.dropTable('${table}')`)
    }
  })

  // Each template, filled with each kind of body, is a migration that runs: up and down on a real SQLite file.
  for (const flavour of [
    { extension: 'ts', type: 'module' },
    { extension: 'js', type: 'module' },
    { extension: 'js', type: 'commonjs' },
  ] as const) {
    it(`the ${flavour.extension} template (${flavour.type}) runs up and down for every kind of name`, async () => {
      const root = tempDir('gantry-make-')
      try {
        writeFileSync(join(root, 'package.json'), JSON.stringify({ type: flavour.type }))
        const directory = join(root, 'migrations')
        mkdirSync(directory)
        const knex = sqliteKnex(join(root, 'db.sqlite3'))
        try {
          await knex.schema.createTable('orders', (t) => {
            t.increments()
            t.string('nickname')
          })
          const run = async (name: string): Promise<Migration> => {
            const path = makeScript({ kind: 'migration', name, directory, extension: flavour.extension, root })
            const text = readFileSync(path, 'utf8')
            expect(text).not.to.include('{{')
            const loaded = (await import(pathToFileURL(path).href)) as Migration & { default?: Migration }
            return flavour.type === 'commonjs' ? loaded.default! : loaded
          }
          const add = await run('add_status_to_orders')
          await add.up(knex)
          expect(await columns(knex, 'orders')).to.include('status')
          await add.down(knex)
          expect(await columns(knex, 'orders')).not.to.include('status')

          const remove = await run('remove_nickname_from_orders')
          await remove.up(knex)
          expect(await columns(knex, 'orders')).not.to.include('nickname')
          await remove.down(knex)
          expect(await columns(knex, 'orders')).to.include('nickname')

          const change = await run('change_nickname_in_orders')
          await change.up(knex)
          await change.down(knex)
          const alter = await run('alter_orders')
          await alter.up(knex)
          await alter.down(knex)

          const create = await run('create_invoices')
          await create.up(knex)
          expect(await knex.schema.hasTable('invoices')).to.equal(true)
          const drop = await run('drop_invoices')
          await drop.up(knex)
          expect(await knex.schema.hasTable('invoices')).to.equal(false)
          await drop.down(knex)
          expect(await knex.schema.hasTable('invoices')).to.equal(true)
          await create.down(knex)
          expect(await knex.schema.hasTable('invoices')).to.equal(false)
        } finally {
          await knex.destroy()
        }
      } finally {
        rmSync(root, { recursive: true, force: true })
      }
    })
  }
})
