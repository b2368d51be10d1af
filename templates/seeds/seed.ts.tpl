import type { Knex } from 'knex'

export async function seed(knex: Knex): Promise<void> {
  await knex('{{table}}').del()
  await knex('{{table}}').insert([{ id: 1 }])
}
