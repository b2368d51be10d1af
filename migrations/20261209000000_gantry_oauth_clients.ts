import type { Knex } from 'knex'

/**
 * OAuth clients (`gantry oauth clients …`): machine clients that trade their id and secret for an access
 * token at POST /oauth/token (the client-credentials grant). The columns are an API key's
 * (gantry_api_keys), since a client is an owned credential like a key; `token_epoch` is what its access
 * tokens carry, raised by a token revocation (RFC 7009) to end every token the client holds.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('gantry_oauth_clients', (t) => {
    t.increments('id').primary()
    t.string('client_id', 32).notNullable().unique('gantry_oauth_clients_client_id_unique')
    t.string('name', 200).notNullable()
    t.integer('owner_id').unsigned().notNullable().references('id').inTable('gantry_users').onDelete('CASCADE')
    t.string('env', 40).notNullable()
    t.string('secret_hash', 64).notNullable() // sha256 hex of the secret part
    t.string('previous_secret_hash', 64).nullable() // still accepted until previous_expires_at (rotate --grace)
    t.bigInteger('previous_expires_at').nullable()
    t.text('scopes').notNullable() // JSON array of resource:action strings
    t.integer('token_epoch').notNullable().defaultTo(0)
    t.bigInteger('expires_at').nullable()
    t.bigInteger('last_used_at').nullable()
    t.bigInteger('revoked_at').nullable()
    t.bigInteger('created_at').notNullable()
    t.index(['owner_id'], 'gantry_oauth_clients_owner')
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('gantry_oauth_clients')
}
