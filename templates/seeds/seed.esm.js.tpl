/** @param {import('knex').Knex} knex */
export async function seed(knex) {
  await knex('{{table}}').del()
  await knex('{{table}}').insert([{ id: 1 }])
}
