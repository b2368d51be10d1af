/** @param {import('knex').Knex} knex */
export async function up(knex) {
  await knex.schema.createTable('{{table}}', (t) => {
    t.increments()
    t.timestamps(true, true)
  })
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  await knex.schema.dropTable('{{table}}')
}
