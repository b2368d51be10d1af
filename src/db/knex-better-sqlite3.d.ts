/** knex's better-sqlite3 dialect client, which the SQLite clients extend; knex publishes no types for it. */
declare module 'knex/lib/dialects/better-sqlite3/index.js' {
  import type { Knex } from 'knex'
  /* eslint-disable @typescript-eslint/no-explicit-any -- knex's client classes are untyped */
  class Client_BetterSQLite3 extends Knex.Client {
    connectionSettings: { filename: string; options?: { readonly?: boolean; safeIntegers?: boolean } }
    driver: any
    _driver(): unknown
    acquireRawConnection(): Promise<any>
    _query(connection: any, obj: { sql: string; bindings?: unknown[]; response?: unknown; options?: unknown }): Promise<any>
    _optSafeIntegers(options: unknown): boolean | undefined
  }
  export default Client_BetterSQLite3
}
