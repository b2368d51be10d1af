import { existsSync, readFileSync } from 'node:fs'
import { basename, join, relative } from 'node:path'
import { CUSTOM_ENVIRONMENT_DEFAULTS } from '../config/defaults.js'
import { envFilePath, formatEnvLines, readEnvFile } from '../config/dotenv.js'
import { variableReferences } from '../config/interpolate.js'
import { ENV_NAME, type RawEnvironment } from '../config/schema.js'
import { generateSecret, isSecretName } from '../config/secrets.js'
import { environmentNames, rawEnvironment, type Workspace } from '../config/workspace.js'
import { GantryError } from '../core/errors.js'
import { writePlannedFiles, type WrittenFile } from './files.js'

/** How one variable of the new .env.<name> got its value (never the value itself). */
export interface CreatedVariable {
  readonly name: string
  readonly value: 'generated' | 'copied' | 'empty' | 'cleared'
}

/** A value that points at a service (a database or Redis URL): not copied, so a copy never reaches the source's data. */
const SERVICE_URL = /^[a-z][a-z0-9+.-]*:\/\//i

export interface CreatedEnvironment {
  readonly name: string
  readonly from: string | null
  readonly protected: boolean
  /** The file the variables were taken from, if any. */
  readonly variablesFrom: string | null
  readonly variables: CreatedVariable[]
  readonly files: WrittenFile[]
}

/**
 * Adds an environment to gantry.config.json (a copy of `from`'s settings, else the custom defaults) and
 * writes `.env.<name>` (mode 0600) with the keys of `.env.<from>` (else `.env.example`): secret-like values
 * freshly generated, service URLs left empty (a copy of production must not point at production's data),
 * others copied. It stays protected when `from` is, unless `protected` says otherwise. The config keeps
 * its other content, key order and 2-space indent.
 */
export function createEnvironment(
  workspace: Workspace,
  options: { name: string; from?: string | undefined; protected?: boolean | undefined; force: boolean },
): CreatedEnvironment {
  const { name, from } = options
  if (!ENV_NAME.test(name)) {
    throw new GantryError('INVALID_INPUT', `"${name}" is not a valid environment name: use lower-case letters, digits and - (at most 40).`)
  }
  if (environmentNames(workspace).includes(name)) throw new GantryError('ENV_EXISTS', `Environment "${name}" already exists.`)
  const base = structuredClone(from ? rawEnvironment(workspace, from) : CUSTOM_ENVIRONMENT_DEFAULTS)
  const isProtected = options.protected ?? base.protected ?? false
  const section: RawEnvironment = { ...base, protected: isProtected }

  const source = [from ? envFilePath(workspace.root, from) : undefined, join(workspace.root, '.env.example')].find((p) => p && existsSync(p))
  const copied = source ? readEnvFile(source) : {}
  // Every variable the new section needs without a default is listed, even if the source file lacks it.
  for (const ref of variableReferences(section)) if (ref.fallback === undefined && !(ref.name in copied)) copied[ref.name] = ''
  const variables: CreatedVariable[] = []
  const lines = Object.entries(copied).map(([key, value]) => {
    const secret = isSecretName(key)
    const cleared = !secret && SERVICE_URL.test(value)
    variables.push({ name: key, value: secret ? 'generated' : cleared ? 'cleared' : value === '' ? 'empty' : 'copied' })
    return [key, secret ? generateSecret() : cleared ? '' : value] as const
  })

  const text = readFileSync(workspace.configPath, 'utf8')
  const json = JSON.parse(text) as { environments?: Record<string, unknown> }
  json.environments = { ...json.environments, [name]: section }
  const header = `# Variables of the ${name} environment, written by \`gantry env create\`${source ? ` from ${relativeName(workspace, source)}` : ''}; secrets are freshly generated.\n`
  const files = writePlannedFiles(
    workspace.root,
    [
      { path: `.env.${name}`, content: `${header}${formatEnvLines(lines)}\n`, mode: 0o600 },
      { path: basename(workspace.configPath), content: `${JSON.stringify(json, null, 2)}\n`, strategy: 'update' },
    ],
    { force: options.force },
  )
  return { name, from: from ?? null, protected: isProtected, variablesFrom: source ? relativeName(workspace, source) : null, variables, files }
}

function relativeName(workspace: Workspace, path: string): string {
  return relative(workspace.root, path)
}
