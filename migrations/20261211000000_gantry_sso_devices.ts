import type { Knex } from 'knex'

/**
 * Device sign-ins under way (`gantry login --sso --device`, RFC 8628): the server asked the identity provider
 * for a device code and gave the CLI a handle; the CLI polls with it until the user has approved the code on
 * another device. Found by a hash of the handle (only that CLI holds it), deleted when the sign-in ends one
 * way or the other, and at its expiry at most. The device code is the provider's (its length is the
 * provider's choice, up to kilobytes at some: text). `interval_s` and `next_poll_at` pace the questions to
 * the provider across polls: once per interval, 5 s more after each `slow_down` (RFC 8628 §3.5).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('gantry_sso_devices', (t) => {
    t.string('handle_hash', 64).primary()
    t.string('provider', 32).notNullable()
    t.text('device_code').notNullable()
    t.integer('interval_s').notNullable()
    t.bigInteger('next_poll_at').notNullable()
    t.bigInteger('expires_at').notNullable()
    t.index(['expires_at'], 'gantry_sso_devices_expires')
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('gantry_sso_devices')
}
