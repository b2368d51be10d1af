import { isGantryError, type GantryError } from '../core/errors.js'
import { environmentVariables, variableLayers } from './dotenv.js'
import { interpolate, variableReferences } from './interpolate.js'
import type { Environment, RawEnvironment } from './schema.js'
import { displayValue, isSecretName } from './secrets.js'
import { rawEnvironment, resolveEnvironment, type Workspace } from './workspace.js'

/** Where a variable's value comes from: a layer (`process env`, `.env.<env>`, `.env`), its default, or nowhere. */
export type VariableSource = string

/** One variable an environment uses, as it may be shown (secret values masked). */
export interface VariableInfo {
  readonly name: string
  readonly source: VariableSource
  /** The value to show: `***` for secret-like names, URL passwords masked; null when unset. */
  readonly value: string | null
  readonly secret: boolean
}

/** A variable located in an environment's layers, with its real value (internal: never print `value`). */
export interface LocatedVariable {
  readonly name: string
  readonly source: VariableSource
  readonly value: string | undefined
}

/** Finds each name through the environment's layers, the way interpolation does (empty counts as unset). */
export function locateVariables(
  workspace: Workspace,
  environment: string,
  names: ReadonlyArray<{ name: string; fallback?: string | undefined }>,
  processEnv: NodeJS.ProcessEnv,
): LocatedVariable[] {
  const layers = variableLayers(workspace.root, environment, processEnv)
  return names.map(({ name, fallback }) => {
    const layer = layers.find((l) => l.vars[name] !== undefined)
    const value = layer?.vars[name]
    if (layer && value) return { name, source: layer.source, value }
    if (fallback !== undefined) return { name, source: 'default', value: fallback }
    return { name, source: 'unset', value: undefined }
  })
}

/** A located variable as it may be shown. */
export function showVariable(found: LocatedVariable): VariableInfo {
  const secret = isSecretName(found.name)
  const value = found.value === undefined ? null : found.value === '' ? '' : displayValue(found.name, found.value)
  return { name: found.name, source: found.source, value, secret }
}

/** The variables an environment's settings refer to, with their sources. */
export function describeVariables(workspace: Workspace, environment: string, processEnv: NodeJS.ProcessEnv = process.env): VariableInfo[] {
  return locateVariables(workspace, environment, variableReferences(rawEnvironment(workspace, environment)), processEnv).map(showVariable)
}

/** An environment for display: resolved when it can be, else its settings with unset references left in place. */
export interface EnvironmentInspection {
  readonly raw: RawEnvironment
  /** Interpolated settings; an unset variable stays as its `${VAR}` reference. Not masked. */
  readonly settings: Record<string, unknown>
  /** Fully resolved and valid, or undefined when a variable is unset or a value invalid. */
  readonly environment: Environment | undefined
  /** Why it does not resolve (CONFIG_VAR_UNSET, CONFIG_INVALID), if it does not. */
  readonly problem: GantryError | undefined
  readonly unset: string[]
}

/** Resolves an environment leniently, for `env show`: an unset variable is reported, not thrown. */
export function inspectEnvironment(workspace: Workspace, name: string, processEnv: NodeJS.ProcessEnv = process.env): EnvironmentInspection {
  const raw = rawEnvironment(workspace, name)
  const unset = new Set<string>()
  const vars = environmentVariables(workspace.root, name, processEnv)
  const interpolated = interpolate(raw as Record<string, unknown>, vars, `environments.${name}`, (variable) => {
    unset.add(variable)
    return `\${${variable}}`
  })
  const settings = { ...interpolated, redis: interpolated.redis || null }
  try {
    return { raw, settings, environment: resolveEnvironment(workspace, name, processEnv), problem: undefined, unset: [...unset] }
  } catch (err) {
    if (!isGantryError(err)) throw err
    return { raw, settings, environment: undefined, problem: err, unset: [...unset] }
  }
}
