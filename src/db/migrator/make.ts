import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { GantryError } from '../../core/errors.js'
import { packageRoot } from '../../package-root.js'
import { bareName, listScripts } from './source.js'

/** What to write: a migration (`<UTC timestamp>_<name>`) or a seed (`<name>`), in TypeScript or JavaScript. */
export interface MakeOptions {
  readonly kind: 'migration' | 'seed'
  readonly name: string
  readonly directory: string
  readonly extension: 'ts' | 'js'
  /** The workspace root: the walk for package.json "type" stops there. */
  readonly root: string
  readonly now?: Date | undefined
}

/** `Create Users!` -> `create_users`. */
export function snakeName(name: string): string {
  const snake = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
  if (!snake) throw new GantryError('INVALID_INPUT', `"${name}" has no letters or digits to make a file name from.`)
  return snake
}

/** YYYYMMDDHHmmss in UTC, knex's migration prefix. */
export function timestamp(now: Date): string {
  return now.toISOString().replace(/[-:T]/g, '').slice(0, 14)
}

/** Whether .js files under `directory` are ES modules (nearest package.json up to the workspace root). */
function isEsm(directory: string, root: string): boolean {
  for (let dir = resolve(directory); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest)) return (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: string }).type === 'module'
    if (dir === resolve(root) || dirname(dir) === dir) return false
  }
}

/** Writes a new migration or seed from templates/ and returns its path; refuses a name already there. */
export function makeScript(options: MakeOptions): string {
  const snake = snakeName(options.name)
  const existing = listScripts(options.directory).map(bareName)
  const clash = existing.find((n) => (options.kind === 'seed' ? n === snake : n.replace(/^\d+_/, '') === snake))
  if (clash) throw new GantryError('FILE_EXISTS', `A ${options.kind} named ${snake} already exists: ${clash}.`, { hint: 'Pick another name.' })
  const base = options.kind === 'seed' ? snake : `${timestamp(options.now ?? new Date())}_${snake}`
  const flavour = options.extension === 'ts' ? 'ts' : isEsm(options.directory, options.root) ? 'esm.js' : 'cjs.js'
  const template = join(packageRoot(), 'templates', options.kind === 'seed' ? 'seeds' : 'migrations', `${options.kind}.${flavour}.tpl`)
  const table =
    snake
      .replace(/^\d+_/, '')
      .replace(/^(create|add|seed)_/, '')
      .replace(/_table$/, '') || snake
  const path = join(options.directory, `${base}.${options.extension}`)
  mkdirSync(options.directory, { recursive: true })
  writeFileSync(path, readFileSync(template, 'utf8').replaceAll('{{table}}', table), { flag: 'wx' })
  return path
}
