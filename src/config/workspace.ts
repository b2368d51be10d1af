import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import type { z } from 'zod'
import { GantryError } from '../core/errors.js'
import { BUILTIN_ENVIRONMENTS, CUSTOM_ENVIRONMENT_DEFAULTS, ENVIRONMENT_DEFAULTS, WORKSPACE_DEFAULTS } from './defaults.js'
import { environmentVariables } from './dotenv.js'
import { interpolate } from './interpolate.js'
import {
  configSchema,
  ENV_NAME,
  resolvedEnvironmentFields,
  resolvedEnvironmentSchema,
  type Environment,
  type RawConfig,
  type RawEnvironment,
} from './schema.js'

export const CONFIG_FILE = 'gantry.config.json'

/** A loaded workspace: its root folder, its validated config file and the settings derived from it. */
export interface Workspace {
  readonly root: string
  readonly configPath: string
  readonly config: RawConfig
  readonly migrations: {
    readonly directory: string
    readonly tableName: string
    readonly extension: 'ts' | 'js'
    /** The dry run's shadow database URL as written (its `${VARS}` resolve per environment: shadowDatabaseUrl). */
    readonly shadowDatabase: string | undefined
    readonly transaction: 'each' | 'batch'
    /** How long run records are kept (the latest run of each migration always is). */
    readonly runRetention: string
  }
  readonly seeds: { readonly directory: string }
  /** The knex setup module the config's `knex` key names: as written, and resolved from the root. */
  readonly knexSetup: { readonly name: string; readonly path: string } | undefined
}

/** Walks up from `cwd` to the folder that holds gantry.config.json. */
export function findConfig(cwd: string): string | undefined {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const candidate = join(dir, CONFIG_FILE)
    if (existsSync(candidate)) return candidate
    if (dirname(dir) === dir) return undefined
  }
}

/** The config file `--config PATH` names (from `cwd`), else the one the walk up from `cwd` finds; undefined when there is none. */
export function locateConfig(options: { cwd: string; configPath?: string | undefined }): string | undefined {
  const configPath = options.configPath ? resolve(options.cwd, options.configPath) : findConfig(options.cwd)
  return configPath && existsSync(configPath) ? configPath : undefined
}

/** Finds, reads and validates the workspace config (`--config PATH` wins over the walk up from cwd). */
export function loadWorkspace(options: { cwd: string; configPath?: string | undefined }): Workspace {
  const configPath = locateConfig(options)
  if (!configPath) {
    const where = options.configPath ? resolve(options.cwd, options.configPath) : `${options.cwd} or any folder above it`
    throw new GantryError('CONFIG_NOT_FOUND', `No ${CONFIG_FILE} found in ${where}.`)
  }
  const config = parseConfigText(readFileSync(configPath, 'utf8'), configPath)
  const root = dirname(configPath)
  return {
    root,
    configPath,
    config,
    migrations: {
      directory: resolve(root, config.migrations?.directory ?? WORKSPACE_DEFAULTS.migrations.directory),
      tableName: config.migrations?.tableName ?? WORKSPACE_DEFAULTS.migrations.tableName,
      extension: config.migrations?.extension ?? WORKSPACE_DEFAULTS.migrations.extension,
      shadowDatabase: config.migrations?.shadowDatabase,
      transaction: config.migrations?.transaction ?? WORKSPACE_DEFAULTS.migrations.transaction,
      runRetention: config.migrations?.runRetention ?? WORKSPACE_DEFAULTS.migrations.runRetention,
    },
    seeds: { directory: resolve(root, config.seeds?.directory ?? WORKSPACE_DEFAULTS.seeds.directory) },
    knexSetup: config.knex ? { name: config.knex, path: resolve(root, config.knex) } : undefined,
  }
}

/** Parses and validates config text; errors name the file, the field's path and what was expected. */
export function parseConfigText(text: string, configPath: string): RawConfig {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new GantryError('CONFIG_INVALID', `${configPath} is not valid JSON: ${(err as Error).message}.`)
  }
  const parsed = configSchema.safeParse(json)
  if (!parsed.success) throw invalidConfig(configPath, parsed.error)
  return parsed.data
}

/** The names of the workspace's environments: the built-in ones, then those the config adds. */
export function environmentNames(workspace: Workspace): string[] {
  const names = new Set<string>(BUILTIN_ENVIRONMENTS)
  for (const name of Object.keys(workspace.config.environments ?? {})) names.add(name)
  return [...names]
}

/** An environment's settings before interpolation: built-in defaults merged with the config's section. */
export function rawEnvironment(workspace: Workspace, name: string): RawEnvironment {
  // Own keys only: "constructor" or "__proto__" is no environment.
  const configured = workspace.config.environments ?? {}
  const own = Object.hasOwn(configured, name) ? configured[name] : undefined
  const defaults = Object.hasOwn(ENVIRONMENT_DEFAULTS, name) ? ENVIRONMENT_DEFAULTS[name] : undefined
  if (!own && !defaults) {
    throw new GantryError('ENV_UNKNOWN', `Unknown environment "${name}"; this workspace has ${environmentNames(workspace).join(', ')}.`)
  }
  return deepMerge(defaults ?? CUSTOM_ENVIRONMENT_DEFAULTS, own ?? {})
}

/**
 * Resolves one environment: defaults, then the config, then `${VAR}` references from the process
 * environment, `.env.<name>` and `.env`. Only this environment's references must be set.
 */
export function resolveEnvironment(workspace: Workspace, name: string, processEnv: NodeJS.ProcessEnv = process.env): Environment {
  if (!ENV_NAME.test(name)) {
    throw new GantryError('ENV_UNKNOWN', `"${name}" is not an environment name (lower-case letters, digits and -).`)
  }
  const raw = rawEnvironment(workspace, name)
  const vars = environmentVariables(workspace.root, name, processEnv)
  const resolved = interpolate(raw, vars, `environments.${name}`)
  const withNulls = { ...resolved, redis: resolved.redis ? resolved.redis : null }
  const parsed = resolvedEnvironmentSchema.safeParse({ name, ...withNulls })
  if (!parsed.success) throw invalidConfig(workspace.configPath, parsed.error, `environments.${name}.`)
  return parsed.data
}

/** The dry run's shadow database URL, with the `${VARS}` of environment `name` resolved; undefined when not set. */
export function shadowDatabaseUrl(workspace: Workspace, name: string, processEnv: NodeJS.ProcessEnv = process.env): string | undefined {
  const url = workspace.migrations.shadowDatabase
  return url === undefined ? undefined : interpolate(url, environmentVariables(workspace.root, name, processEnv), 'migrations.shadowDatabase')
}

/** What a client of an environment's server needs of it: nothing of its database or secrets. */
export type ServerSettings = Pick<Environment, 'name' | 'remote' | 'protected' | 'server'>
const serverSettingsSchema = resolvedEnvironmentFields.pick({ name: true, remote: true, protected: true, server: true })

/**
 * `remote`, `protected` and `server` of an environment, resolved on their own: the rest (the database URL,
 * secrets) may reference variables that only the server's machine has, and health, login and remote admin
 * commands do not need them.
 */
export function resolveServerSettings(workspace: Workspace, name: string, processEnv: NodeJS.ProcessEnv = process.env): ServerSettings {
  if (!ENV_NAME.test(name)) {
    throw new GantryError('ENV_UNKNOWN', `"${name}" is not an environment name (lower-case letters, digits and -).`)
  }
  const { remote, protected: isProtected, server } = rawEnvironment(workspace, name)
  const vars = environmentVariables(workspace.root, name, processEnv)
  const parsed = serverSettingsSchema.safeParse({ name, ...interpolate({ remote, protected: isProtected, server }, vars, `environments.${name}`) })
  if (!parsed.success) throw invalidConfig(workspace.configPath, parsed.error, `environments.${name}.`)
  return parsed.data
}

function invalidConfig(configPath: string, error: z.ZodError, prefix = ''): GantryError {
  const issue = error.issues[0]
  const path = issue ? prefix + issue.path.map(String).join('.') : prefix
  const what = issue?.message ?? 'invalid value'
  return new GantryError('CONFIG_INVALID', `${configPath}: ${path || '(root)'}: ${what}.`, {
    details: { issues: error.issues.map((i) => ({ path: prefix + i.path.map(String).join('.'), message: i.message })) },
  })
}

/** Objects merge key by key; arrays, null and scalars from `over` replace those of `base`. */
function deepMerge<T extends object>(base: T, over: Partial<T>): T {
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) }
  for (const [key, value] of Object.entries(over)) {
    const current = out[key]
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value
  }
  return out as T
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
