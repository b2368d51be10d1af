import type { Knex } from 'knex'

/**
 * Users, roles, refresh tokens, API keys and the audit log. Times are epoch milliseconds in BIGINT columns:
 * the same on SQLite, MariaDB and PostgreSQL, no time-zone conversion by any driver, and plain numeric
 * comparisons for expiry, lockout and audit ranges.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('gantry_roles', (t) => {
    t.string('name', 64).primary()
    t.string('description', 500).notNullable().defaultTo('')
    t.text('permissions').notNullable() // JSON array of resource:action strings, * wildcards
    t.boolean('builtin').notNullable().defaultTo(false)
    t.bigInteger('created_at').notNullable()
    t.bigInteger('updated_at').notNullable()
  })
  // The built-in roles as DESIGN.md defines them at this release; a later migration changes them if needed.
  const now = Date.now()
  await knex('gantry_roles').insert([
    { name: 'admin', description: 'Everything.', permissions: JSON.stringify(['*']), builtin: true, created_at: now, updated_at: now },
    {
      name: 'operator',
      description: 'Reads everything; manages rate limits, maintenance, API keys and sessions.',
      permissions: JSON.stringify(['*:read', 'ratelimits:write', 'maintenance:write', 'apikeys:write', 'sessions:write']),
      builtin: true,
      created_at: now,
      updated_at: now,
    },
    { name: 'viewer', description: 'Reads everything.', permissions: JSON.stringify(['*:read']), builtin: true, created_at: now, updated_at: now },
  ])

  await knex.schema.createTable('gantry_users', (t) => {
    t.increments('id').primary()
    t.string('email', 254).notNullable().unique('gantry_users_email_unique')
    t.string('name', 200).notNullable().defaultTo('')
    t.string('role', 64).notNullable().references('name').inTable('gantry_roles').onUpdate('CASCADE')
    t.string('status', 16).notNullable().defaultTo('active') // active | disabled
    t.text('password_hash').nullable() // argon2id PHC, or an imported bcrypt/argon2 hash until first login
    t.integer('failed_logins').notNullable().defaultTo(0)
    t.bigInteger('locked_until').nullable()
    t.integer('session_epoch').notNullable().defaultTo(0) // bumped to end every session of the user
    t.bigInteger('last_login_at').nullable()
    t.bigInteger('created_at').notNullable()
    t.bigInteger('updated_at').notNullable()
    t.index(['role', 'id'], 'gantry_users_role_id')
    t.index(['status', 'id'], 'gantry_users_status_id')
  })

  await knex.schema.createTable('gantry_refresh_tokens', (t) => {
    t.increments('id').primary()
    t.integer('user_id').unsigned().notNullable().references('id').inTable('gantry_users').onDelete('CASCADE')
    t.string('family_id', 32).notNullable()
    t.string('token_hash', 64).notNullable().unique('gantry_refresh_tokens_hash_unique') // sha256 hex
    t.integer('parent_id').nullable()
    t.integer('session_epoch').notNullable()
    t.bigInteger('rotated_at').nullable()
    t.bigInteger('revoked_at').nullable()
    t.bigInteger('expires_at').notNullable()
    t.bigInteger('family_expires_at').notNullable() // absolute lifetime of the whole family
    t.bigInteger('created_at').notNullable()
    t.index(['family_id'], 'gantry_refresh_tokens_family')
    t.index(['user_id'], 'gantry_refresh_tokens_user')
  })

  await knex.schema.createTable('gantry_api_keys', (t) => {
    t.increments('id').primary()
    t.string('key_id', 32).notNullable().unique('gantry_api_keys_key_id_unique') // the public id inside the key
    t.string('name', 200).notNullable()
    t.integer('owner_id').unsigned().notNullable().references('id').inTable('gantry_users').onDelete('CASCADE')
    t.string('env', 40).notNullable()
    t.string('secret_hash', 64).notNullable() // sha256 hex of the secret part
    t.string('previous_secret_hash', 64).nullable() // still accepted until previous_expires_at (rotate --grace)
    t.bigInteger('previous_expires_at').nullable()
    t.text('scopes').notNullable() // JSON array of resource:action strings
    t.bigInteger('expires_at').nullable()
    t.bigInteger('last_used_at').nullable()
    t.bigInteger('revoked_at').nullable()
    t.bigInteger('created_at').notNullable()
    t.index(['owner_id'], 'gantry_api_keys_owner')
  })

  await knex.schema.createTable('gantry_audit_log', (t) => {
    t.bigIncrements('id').primary()
    t.bigInteger('at').notNullable()
    t.string('actor', 255).notNullable()
    t.string('action', 64).notNullable()
    t.string('target_type', 32).notNullable()
    t.string('target_id', 255).notNullable()
    t.text('before').nullable() // JSON, never a secret or a hash
    t.text('after').nullable()
    t.string('ip', 64).nullable()
    t.index(['at', 'id'], 'gantry_audit_at')
    t.index(['actor', 'at'], 'gantry_audit_actor_at')
    t.index(['action', 'at'], 'gantry_audit_action_at')
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('gantry_audit_log')
  await knex.schema.dropTable('gantry_api_keys')
  await knex.schema.dropTable('gantry_refresh_tokens')
  await knex.schema.dropTable('gantry_users')
  await knex.schema.dropTable('gantry_roles')
}
