import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
{{up}}
}

export async function down(knex: Knex): Promise<void> {
{{down}}
}
