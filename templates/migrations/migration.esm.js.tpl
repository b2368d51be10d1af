/** @param {import('knex').Knex} knex */
export async function up(knex) {
{{up}}
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
{{down}}
}
