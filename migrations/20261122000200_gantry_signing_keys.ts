import type { Knex } from 'knex'

/**
 * EdDSA signing keys for access tokens (auth.algorithm EdDSA). The private key is stored only as a JWE
 * under a key derived from the environment's auth secret, and cleared when the key retires; the public key
 * stays for the JWKS until every token it signed has expired. `generation` counts keys in order: its
 * uniqueness is what makes two instances creating the first key, or two concurrent rotations, end with
 * exactly one current key. Times are epoch milliseconds (BIGINT), as in gantry_identity.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('gantry_signing_keys', (t) => {
    t.increments('id').primary()
    t.integer('generation').notNullable().unique('gantry_signing_keys_generation_unique')
    t.string('kid', 64).notNullable().unique('gantry_signing_keys_kid_unique') // RFC 7638 thumbprint of the public key
    t.string('alg', 16).notNullable() // EdDSA
    t.text('public_jwk').notNullable() // JSON: kty, crv, x
    t.text('private_jwk').nullable() // compact JWE (dir, A256GCM) of the private JWK; null once retired
    t.bigInteger('created_at').notNullable()
    t.bigInteger('retired_at').nullable()
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('gantry_signing_keys')
}
