import type { Knex } from 'knex'

/** Gantry's key/value settings (maintenance mode, rule versions and the like). */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('gantry_settings', (t) => {
    t.string('key', 191).primary()
    t.text('value')
    t.timestamp('updated_at').nullable()
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('gantry_settings')
}
