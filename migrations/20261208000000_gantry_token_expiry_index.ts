import type { Knex } from 'knex'

/**
 * The worker prunes refresh tokens past auth.expiredTokenRetention every ten minutes
 * (src/core/sessions/refresh-tokens.repo.ts, pruneExpiredTokens): it looks them up by expiry, which without
 * this index is a scan of every session's tokens each time.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('gantry_refresh_tokens', (t) => {
    t.index(['expires_at'], 'gantry_refresh_tokens_expires')
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('gantry_refresh_tokens', (t) => {
    t.dropIndex(['expires_at'], 'gantry_refresh_tokens_expires')
  })
}
