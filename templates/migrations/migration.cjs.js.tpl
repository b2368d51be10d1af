/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
{{up}}
}

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
{{down}}
}
