import type { Knex } from 'knex'

/**
 * Rate-limit rules, per-subject overrides and the per-rule counters every server instance adds to. Times
 * are epoch milliseconds in BIGINT columns, like the identity tables. `limit_count` is not `limit`: that is
 * a reserved word on every dialect.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('gantry_rate_limit_rules', (t) => {
    t.string('name', 64).primary()
    t.integer('position').notNullable() // the order rules are checked in
    t.string('method', 16).notNullable() // an HTTP method or *
    t.string('path', 255).notNullable() // a pattern on the normalised path
    t.string('key', 16).notNullable() // ip | user | apiKey | global
    t.integer('limit_count').notNullable()
    t.bigInteger('window_ms').notNullable()
    t.integer('burst').notNullable()
    t.boolean('enabled').notNullable()
    t.string('mode', 16).notNullable() // enforce | shadow
    t.string('on_store_error', 16).notNullable() // open | closed | local
    t.bigInteger('created_at').notNullable()
    t.bigInteger('updated_at').notNullable()
  })

  await knex.schema.createTable('gantry_rate_limit_overrides', (t) => {
    t.increments('id').primary()
    t.string('rule', 64).notNullable() // a rule name, or * for every rule keyed on the subject's kind
    t.string('subject_type', 16).notNullable() // ip | user | apiKey
    t.string('subject', 255).notNullable() // an address, a user id, an API key id
    t.string('label', 255).notNullable() // what the operator typed (a user's email), for lists
    t.integer('limit_count').nullable() // null with blocked
    t.bigInteger('window_ms').nullable()
    t.integer('burst').nullable()
    t.boolean('blocked').notNullable()
    t.string('reason', 500).notNullable().defaultTo('')
    t.bigInteger('expires_at').nullable()
    t.bigInteger('created_at').notNullable()
    t.bigInteger('updated_at').notNullable()
    t.unique(['rule', 'subject_type', 'subject'], { indexName: 'gantry_rate_limit_overrides_subject_unique' })
  })

  await knex.schema.createTable('gantry_rate_limit_stats', (t) => {
    t.string('rule', 64).primary()
    t.bigInteger('admitted').notNullable().defaultTo(0)
    t.bigInteger('refused').notNullable().defaultTo(0)
    t.bigInteger('shadow_refused').notNullable().defaultTo(0)
    t.bigInteger('store_errors').notNullable().defaultTo(0)
    t.bigInteger('since').notNullable()
    t.bigInteger('updated_at').notNullable()
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('gantry_rate_limit_stats')
  await knex.schema.dropTable('gantry_rate_limit_overrides')
  await knex.schema.dropTable('gantry_rate_limit_rules')
}
