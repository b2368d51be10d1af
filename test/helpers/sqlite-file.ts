import knexFactory, { type Knex } from 'knex'
import { sqliteClient } from '../../src/db/sqlite-client.js'
import { sqliteDriver } from '../../src/db/sqlite-driver.js'

/**
 * A knex on a SQLite file through the driver Gantry uses in this process (GANTRY_SQLITE_DRIVER), without
 * Gantry's pool settings: for a test that reads or plants rows behind Gantry's back.
 */
export function sqliteKnex(filename: string, options: { readonly?: boolean } = {}): Knex {
  return knexFactory({ client: sqliteClient(sqliteDriver()), connection: { filename, options }, useNullAsDefault: true })
}
