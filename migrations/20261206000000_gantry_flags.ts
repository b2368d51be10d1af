import type { Knex } from 'knex'

/**
 * Feature flags and the segments their rules name. A flag's variants and rules are one JSON document (the
 * evaluator reads them whole, and a flag changes as a whole in one transaction); the columns beside it are
 * what lists filter and sort on. Times are epoch milliseconds in BIGINT columns, like the other tables.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('gantry_flags', (t) => {
    t.string('key', 100).primary()
    t.string('type', 16).notNullable() // boolean | string | number | json
    t.boolean('enabled').notNullable()
    t.string('lifetime', 16).notNullable() // temporary | permanent
    t.text('definition').notNullable() // description, variants, default and off variants, rules: JSON
    t.string('created_by', 255).notNullable()
    t.bigInteger('created_at').notNullable()
    t.bigInteger('updated_at').notNullable()
  })
  await knex.schema.createTable('gantry_flag_segments', (t) => {
    t.string('name', 100).primary()
    t.text('definition').notNullable() // description, conditions: JSON
    t.bigInteger('created_at').notNullable()
    t.bigInteger('updated_at').notNullable()
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('gantry_flag_segments')
  await knex.schema.dropTable('gantry_flags')
}
