import { readEnvFile, envFilePath } from './dotenv.js'
import { variableReferences } from './interpolate.js'
import { locateVariables, showVariable, type LocatedVariable } from './inspect.js'
import { maskSettings } from './secrets.js'
import { rawEnvironment, type Workspace } from './workspace.js'

/** A setting that is not the same in both environments (values masked like `env show`). */
export interface SettingDifference {
  readonly path: string
  readonly kind: 'only-in-a' | 'only-in-b' | 'differs'
  readonly a?: unknown
  readonly b?: unknown
}

/** A variable one environment has and the other lacks, or has with another value. */
export interface VariableDifference {
  readonly name: string
  readonly kind: 'missing-in-a' | 'missing-in-b' | 'differs'
  readonly secret: boolean
  /** Where each side gets it from (`unset` when missing); values are null when missing (or empty) or secret. */
  readonly a: { readonly source: string; readonly value: string | null }
  readonly b: { readonly source: string; readonly value: string | null }
}

/** Everything that differs between two environments. */
export interface EnvironmentDiff {
  readonly settings: SettingDifference[]
  readonly variables: VariableDifference[]
}

/**
 * Compares two environments: their settings path by path (before interpolation, built-in defaults
 * included), and the variables either uses or either `.env.<name>` file sets. Secret values are never
 * compared out loud: a differing secret shows as differing, without either value.
 */
export function diffEnvironments(workspace: Workspace, a: string, b: string, processEnv: NodeJS.ProcessEnv = process.env): EnvironmentDiff {
  const rawA = rawEnvironment(workspace, a)
  const rawB = rawEnvironment(workspace, b)
  return { settings: diffSettings(maskSettings(rawA), maskSettings(rawB)), variables: diffVariables(workspace, a, b, rawA, rawB, processEnv) }
}

function diffSettings(a: object, b: object): SettingDifference[] {
  const left = flatten(a)
  const right = flatten(b)
  const paths = [...new Set([...left.keys(), ...right.keys()])].sort()
  const out: SettingDifference[] = []
  for (const path of paths) {
    if (!right.has(path)) out.push({ path, kind: 'only-in-a', a: left.get(path) })
    else if (!left.has(path)) out.push({ path, kind: 'only-in-b', b: right.get(path) })
    else if (JSON.stringify(left.get(path)) !== JSON.stringify(right.get(path))) {
      out.push({ path, kind: 'differs', a: left.get(path), b: right.get(path) })
    }
  }
  return out
}

function diffVariables(workspace: Workspace, a: string, b: string, rawA: object, rawB: object, processEnv: NodeJS.ProcessEnv): VariableDifference[] {
  const inFiles = [a, b].flatMap((env) => Object.keys(readEnvFile(envFilePath(workspace.root, env))))
  // A default counts only for the environment whose settings carry it.
  const refsA = new Map(variableReferences(rawA).map((r) => [r.name, r]))
  const refsB = new Map(variableReferences(rawB).map((r) => [r.name, r]))
  const names = [...new Set([...inFiles, ...refsA.keys(), ...refsB.keys()])].sort()
  const sideA = locateVariables(
    workspace,
    a,
    names.map((name) => refsA.get(name) ?? { name }),
    processEnv,
  )
  const sideB = locateVariables(
    workspace,
    b,
    names.map((name) => refsB.get(name) ?? { name }),
    processEnv,
  )
  const out: VariableDifference[] = []
  names.forEach((name, i) => {
    const va = sideA[i]
    const vb = sideB[i]
    if (!va || !vb || valueOf(va) === valueOf(vb)) return
    const secret = showVariable(va).secret
    const side = (v: LocatedVariable) => ({ source: v.source, value: secret || valueOf(v) === undefined ? null : showVariable(v).value })
    const kind = valueOf(va) === undefined ? 'missing-in-a' : valueOf(vb) === undefined ? 'missing-in-b' : 'differs'
    out.push({ name, kind, secret, a: side(va), b: side(vb) })
  })
  return out
}

/** A variable's value; empty counts as unset, as interpolation counts it (`${GANTRY_AUTH_SECRET:-}` sets no secret). */
function valueOf(v: LocatedVariable): string | undefined {
  return v.value === '' ? undefined : v.value
}

function flatten(value: object, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  for (const [key, item] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${key}` : key
    if (item !== null && typeof item === 'object' && !Array.isArray(item)) flatten(item, path, out)
    else out.set(path, item)
  }
  return out
}
