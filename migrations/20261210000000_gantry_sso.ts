import type { Knex } from 'knex'

/**
 * Single sign-on. `gantry_user_identities`: a user's accounts at identity providers, by the provider's
 * stable subject (never by email: an email changes hands, a subject does not); one user may have several,
 * a (provider, subject) belongs to one user. `gantry_sso_logins`: sign-ins under way, between the redirect
 * to the provider and its callback: found by a hash of the `state` sent there, bound to the browser that
 * started it by a hash of a cookie, used once (the row is deleted when the callback reads it) and for ten
 * minutes at most; it holds the PKCE verifier and the nonce the callback needs — and, for `gantry login
 * --sso`, the CLI's loopback redirect, its state and its PKCE challenge. `gantry_sso_handoffs`: a sign-in the
 * callback finished for a CLI, waiting (a minute at most, once) for that CLI to prove with its verifier that
 * it started it, and take the session.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('gantry_user_identities', (t) => {
    t.increments('id').primary()
    t.integer('user_id').unsigned().notNullable().references('id').inTable('gantry_users').onDelete('CASCADE')
    t.string('provider', 32).notNullable()
    t.string('subject', 255).notNullable()
    t.string('email', 320).nullable() // as the provider asserted it at the last sign-in, for people reading `users show`
    t.bigInteger('created_at').notNullable()
    t.bigInteger('last_login_at').nullable()
    t.unique(['provider', 'subject'], { indexName: 'gantry_user_identities_subject_unique' })
    t.index(['user_id'], 'gantry_user_identities_user')
  })
  await knex.schema.createTable('gantry_sso_logins', (t) => {
    t.string('state_hash', 64).primary()
    t.string('binding_hash', 64).notNullable()
    t.string('provider', 32).notNullable()
    t.string('nonce', 128).notNullable()
    t.string('code_verifier', 128).notNullable()
    t.string('return_to', 32).notNullable() // where the session goes: the console, or a CLI's loopback exchange
    t.string('cli_redirect', 255).nullable()
    t.string('cli_state', 128).nullable()
    t.string('cli_challenge', 64).nullable()
    t.bigInteger('expires_at').notNullable()
    t.index(['expires_at'], 'gantry_sso_logins_expires')
  })
  await knex.schema.createTable('gantry_sso_handoffs', (t) => {
    t.string('code_hash', 64).primary()
    t.integer('user_id').unsigned().notNullable().references('id').inTable('gantry_users').onDelete('CASCADE')
    t.string('provider', 32).notNullable()
    t.string('challenge', 64).notNullable()
    t.bigInteger('expires_at').notNullable()
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('gantry_sso_handoffs')
  await knex.schema.dropTable('gantry_sso_logins')
  await knex.schema.dropTable('gantry_user_identities')
}
