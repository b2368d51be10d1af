import type { Knex } from 'knex'
import { join } from 'node:path'
import { GantryError } from '../../core/errors.js'
import { driverMessage } from '../errors.js'
import { bareName, importScript, listScripts } from './source.js'

/** One seed that ran. */
export interface SeedRun {
  readonly name: string
  readonly durationMs: number
}

/**
 * Runs the `seed(knex)` export of each seed file in name order (or only the one named), each in a
 * transaction so a failing seed leaves no half of its rows behind.
 */
export async function runSeeds(knex: Knex, directory: string, only?: string): Promise<SeedRun[]> {
  let files = listScripts(directory)
  if (only !== undefined) {
    files = files.filter((f) => f === only || bareName(f) === bareName(only))
    if (files.length === 0) throw new GantryError('SEED_NOT_FOUND', `No seed named ${only} in ${directory}.`)
  }
  const runs: SeedRun[] = []
  for (const file of files) {
    const started = performance.now()
    const mod = await importScript(join(directory, file))
    const seed = mod.seed ?? (mod.default as Record<string, unknown> | undefined)?.seed
    if (typeof seed !== 'function') throw new GantryError('SEED_FAILED', `Seed ${file} does not export a function seed(knex).`)
    try {
      await knex.transaction(async (trx) => {
        await (seed as (k: Knex) => Promise<unknown>)(trx)
      })
    } catch (err) {
      throw new GantryError('SEED_FAILED', `Seed ${file} failed: ${driverMessage((err as Error).message)}`, { cause: err })
    }
    runs.push({ name: bareName(file), durationMs: Math.round(performance.now() - started) })
  }
  return runs
}
