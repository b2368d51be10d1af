import type { Knex } from 'knex'

/**
 * The erasure ledger (`gantry users delete --erase`): one row per erased user, holding no personal data —
 * the user's id and the creation time of their account (together they tell that user's row apart from
 * another environment's user with the same id when a backup is restored), the pseudonym their audit entries
 * now carry, when and by whom. A restore re-applies it, so a backup cannot bring an erased person back.
 * Times are epoch milliseconds in BIGINT columns, like the other tables.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('gantry_erasures', (t) => {
    t.increments('id').primary()
    t.integer('user_id').notNullable()
    t.bigInteger('user_created_at').notNullable()
    t.string('pseudonym', 64).notNullable().unique('gantry_erasures_pseudonym_unique')
    t.bigInteger('erased_at').notNullable()
    t.string('erased_by', 255).notNullable() // the actor, as the audit log writes it
    t.unique(['user_id', 'user_created_at'], { indexName: 'gantry_erasures_user_unique' })
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('gantry_erasures')
}
