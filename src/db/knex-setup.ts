/**
 * The workspace's knex setup module (`"knex": "./gantry.knex.js"` in gantry.config.json): the pool hooks,
 * dialect patches and plugins a project's own runtime installs, applied to every knex Gantry builds for the
 * workspace, so a migrated schema is the one the project's runtime would produce.
 */
import { existsSync } from 'node:fs'
import type { Knex } from 'knex'
import { GantryError, isGantryError } from '../core/errors.js'
import { importScript } from './migrator/source.js'
import type { Dialect } from './url.js'

/** What a setup step learns about the database it is configuring. */
export interface KnexSetupContext {
  readonly dialect: Dialect
}

/**
 * Called with a copy of Gantry's knex config before any connection opens; returns the config to use (or
 * changes the copy in place and returns nothing). A `pool.afterCreate` set here runs after Gantry's own.
 */
export type KnexSetup = (config: Knex.Config, context: KnexSetupContext) => Knex.Config | void | Promise<Knex.Config | void>

/** Called with each knex instance once it is built, before its first query (dialect patches, plugins). */
export type KnexAfterConnect = (knex: Knex, context: KnexSetupContext) => void | Promise<void>

/**
 * What a setup module exports: `setup` (named, or the default export) and/or `afterConnect` (named, or a
 * field of a default-exported object, as `module.exports = { setup, afterConnect }` gives).
 */
export interface KnexSetupModule {
  readonly setup?: KnexSetup
  readonly afterConnect?: KnexAfterConnect
}

/** A loaded setup module, with where it came from for error messages. */
export interface KnexHooks extends KnexSetupModule {
  /** The path as gantry.config.json writes it. */
  readonly name: string
}

type AfterCreate = (conn: unknown, done: (err: Error | null, conn: unknown) => void) => void

const failed = (name: string, err: unknown): GantryError =>
  new GantryError('CONFIG_INVALID', `The knex setup module ${name} failed: ${err instanceof Error ? err.message : String(err)}.`, {
    hint: `Fix ${name}, or remove the "knex" key from gantry.config.json.`,
    cause: err,
  })

/**
 * Loads the module the config's `knex` key names (`path` resolved from the workspace root); undefined
 * without one. A missing file, a failing import or a module without either function is a config error.
 */
export async function loadKnexHooks(setting: { name: string; path: string } | undefined): Promise<KnexHooks | undefined> {
  if (!setting) return undefined
  const { name, path } = setting
  if (!existsSync(path)) {
    throw new GantryError('CONFIG_INVALID', `The knex setup module ${name} does not exist (${path}).`, {
      hint: `Create it, or fix or remove the "knex" key in gantry.config.json.`,
    })
  }
  let mod: Record<string, unknown>
  try {
    mod = await importScript(path)
  } catch (err) {
    // A .ts module in a project without tsx: the error names the package to install, not the module.
    if (isGantryError(err) && err.code === 'TSX_MISSING') throw err
    throw failed(name, err)
  }
  const fallback = (mod.default ?? {}) as Record<string, unknown>
  const setup = mod.setup ?? (typeof mod.default === 'function' ? mod.default : fallback.setup)
  const afterConnect = mod.afterConnect ?? fallback.afterConnect
  if ((setup !== undefined && typeof setup !== 'function') || (afterConnect !== undefined && typeof afterConnect !== 'function') || (!setup && !afterConnect)) {
    throw new GantryError('CONFIG_INVALID', `The knex setup module ${name} exports neither a setup function (named or default) nor afterConnect.`, {
      hint: 'Export `setup(knexConfig, context)` and/or `afterConnect(knex, context)`; see docs/migrations.md, "Customising knex".',
    })
  }
  return { name, ...(setup ? { setup: setup as KnexSetup } : {}), ...(afterConnect ? { afterConnect: afterConnect as KnexAfterConnect } : {}) }
}

/** Runs each connection through `first`, then `second`; a failure of either fails the connection. */
function chain(first: AfterCreate | undefined, second: AfterCreate | undefined): AfterCreate | undefined {
  if (!first || !second) return first ?? second
  return (conn, done) => first(conn, (err) => (err ? done(err, conn) : second(conn, done)))
}

/** A pool config with `afterCreate` set, or left out when there is none (tarn takes no undefined hook). */
function withPoolHook(config: Knex.Config, afterCreate: AfterCreate | undefined): Knex.Config {
  const pool = { ...config.pool }
  delete pool.afterCreate
  return { ...config, pool: afterCreate ? { ...pool, afterCreate } : pool }
}

/**
 * Gantry's config with the module's setup applied. The module sees the config without Gantry's own
 * `afterCreate` (SQLite's WAL, foreign keys, busy timeout…), which is chained before the one it sets,
 * so neither replaces the other.
 */
export async function applySetup(config: Knex.Config, hooks: KnexHooks | undefined, context: KnexSetupContext): Promise<Knex.Config> {
  if (!hooks?.setup) return config
  const own = config.pool?.afterCreate as AfterCreate | undefined
  const copy = withPoolHook(config, undefined)
  let changed: Knex.Config | void
  try {
    changed = await hooks.setup(copy, context)
  } catch (err) {
    throw failed(hooks.name, err)
  }
  const result = changed ?? copy
  const theirs = result.pool?.afterCreate as AfterCreate | undefined
  return withPoolHook(result, chain(own, theirs && blamed(hooks.name, theirs)))
}

/** The module's afterCreate, its failures (thrown or passed to done) named as the module's. */
function blamed(name: string, afterCreate: AfterCreate): AfterCreate {
  return (conn, done) => {
    try {
      afterCreate(conn, (err, c) => done(err ? failed(name, err) : null, c))
    } catch (err) {
      done(failed(name, err), conn)
    }
  }
}

/** Runs the module's afterConnect on a freshly built knex. */
export async function applyAfterConnect(knex: Knex, hooks: KnexHooks | undefined, context: KnexSetupContext): Promise<void> {
  if (!hooks?.afterConnect) return
  try {
    await hooks.afterConnect(knex, context)
  } catch (err) {
    throw failed(hooks.name, err)
  }
}

/** Chains a per-connection step of Gantry's own (a derived client's) after every other. */
export function withConnectStep(config: Knex.Config, step: (conn: unknown) => Promise<void>): Knex.Config {
  const last: AfterCreate = (conn, done) =>
    step(conn).then(
      () => done(null, conn),
      (err: Error) => done(err, conn),
    )
  return withPoolHook(config, chain(config.pool?.afterCreate as AfterCreate | undefined, last))
}
