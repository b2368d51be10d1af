import type { Knex } from 'knex'

export const SETTINGS_TABLE = 'gantry_settings'

/** A gantry_settings row as the drivers return it (`updated_at` differs by dialect: informative only). */
interface SettingRow {
  key: string
  value: string | null
  updated_at: unknown
}

/** The JSON value stored under `key`, or undefined when there is none. */
export async function getSetting(k: Knex, key: string): Promise<unknown> {
  const row = (await k<SettingRow>(SETTINGS_TABLE).select('value').where({ key }).first()) as Pick<SettingRow, 'value'> | undefined
  return row?.value === undefined || row.value === null ? undefined : (JSON.parse(row.value) as unknown)
}

/**
 * Locks `key`'s row until the transaction ends, creating it empty when missing. The first statement of a
 * read-modify-write: being a write, it queues concurrent writers on every dialect (a row lock on MySQL and
 * PostgreSQL, the database write lock on SQLite), where a SELECT … FOR UPDATE of a missing row would let
 * two MySQL transactions deadlock on their inserts and SQLite ignores it.
 */
export async function lockSetting(k: Knex, key: string): Promise<void> {
  await k(SETTINGS_TABLE).insert({ key, value: null, updated_at: null }).onConflict('key').merge(['key'])
}

/** Stores `value` as JSON under `key`, inserting or replacing it (one upsert statement on every dialect). */
export async function setSetting(k: Knex, key: string, value: unknown, at: Date): Promise<void> {
  await k(SETTINGS_TABLE)
    .insert({ key, value: JSON.stringify(value), updated_at: at })
    .onConflict('key')
    .merge(['value', 'updated_at'])
}

/** Removes `key`; returns whether it was there. */
export async function deleteSetting(k: Knex, key: string): Promise<boolean> {
  return Number(await k(SETTINGS_TABLE).where({ key }).delete()) > 0
}

/**
 * A version every change of an area bumps, kept under `key`: what running instances poll to reload that
 * area (rate-limit rules, feature flags). 0 before the first change.
 */
export function versionCounter(key: string) {
  const read = async (k: Knex): Promise<number> => {
    const value = await getSetting(k, key)
    return typeof value === 'number' ? value : 0
  }
  return {
    read,
    /**
     * Locks the version row until the change's transaction ends: its first statement, so concurrent changes
     * queue behind each other and each reads the state the one before committed (on MySQL, REPEATABLE READ
     * fixes a transaction's snapshot at its first plain read: a lock taken after that would read a stale version).
     */
    lock: (trx: Knex): Promise<void> => lockSetting(trx, key),
    /** Bumps the version inside a change's transaction (after lock), so every version names exactly one state. */
    async bump(trx: Knex, at: Date): Promise<number> {
      await lockSetting(trx, key)
      const next = (await read(trx)) + 1
      await setSetting(trx, key, next, at)
      return next
    },
  }
}
