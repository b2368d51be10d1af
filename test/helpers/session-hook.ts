import type { Dialect } from '../../src/db/url.js'
import { DIALECTS } from './services.js'

/**
 * A per-connection setting a knex setup module's afterCreate hook makes, per dialect, how to read it back,
 * and the value read then (as text). mysql2 itself asks for utf8mb4_unicode_ci: the hook's collation must
 * differ to be seen.
 */
export const SESSION_HOOK: Record<Dialect, { set: string; read: string; value: string }> = {
  sqlite: { set: 'cache_size = -8000', read: 'PRAGMA cache_size', value: '-8000' },
  mysql: { set: 'SET NAMES utf8mb4 COLLATE utf8mb4_bin', read: 'SELECT @@collation_connection AS v', value: 'utf8mb4_bin' },
  postgres: { set: "SET application_name = 'hooked'", read: "SELECT current_setting('application_name') AS v", value: 'hooked' },
}

/** A knex setup module (ESM) whose pool afterCreate makes SESSION_HOOK's setting on every connection. */
export const AFTER_CREATE_MODULE = `const SET = ${JSON.stringify(Object.fromEntries(DIALECTS.map((d) => [d, SESSION_HOOK[d].set])))}
export default function setup(config, { dialect }) {
  config.pool = {
    ...config.pool,
    afterCreate(conn, done) {
      if (dialect === 'sqlite') {
        conn.pragma(SET.sqlite)
        return done(null, conn)
      }
      conn.query(SET[dialect], (err) => done(err, conn))
    },
  }
  return config
}
`
