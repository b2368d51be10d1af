/** @param {import('knex').Knex} knex */
exports.seed = async function seed(knex) {
  await knex('{{table}}').del()
  await knex('{{table}}').insert([{ id: 1 }])
}
