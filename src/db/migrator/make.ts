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

/** What a new migration's up and down do, as statements indented for a function body. */
export interface MigrationBody {
  readonly up: string
  readonly down: string
}

/** `create_users_table` -> `users`: the table a plain name is about. */
function tableOf(snake: string): string {
  return (
    snake
      .replace(/^\d+_/, '')
      .replace(/^(create|add|seed)_/, '')
      .replace(/_table$/, '') || snake
  )
}

const alterTable = (table: string, lines: readonly string[]): string =>
  [`  await knex.schema.alterTable('${table}', (t) => {`, ...lines.map((l) => `    ${l}`), '  })'].join('\n')
const createTable = (table: string): string =>
  [`  await knex.schema.createTable('${table}', (t) => {`, '    t.increments()', '    t.timestamps(true, true)', '  })'].join('\n')

/**
 * The body a name asks for, read the way Rails and Laravel read it: `add_X_to_Y` adds column X to table Y,
 * `remove_X_from_Y` drops it, `change_X_in_Y` and `alter_X` alter a table, `drop_X` drops table X, and
 * `create_X`, `add_X` or any other name creates a table (`_table` at the end is Laravel's and not part of it).
 * A column's type cannot be read from a name: the body writes a string column, to be edited.
 */
export function migrationBody(snake: string): MigrationBody {
  const name = snake.replace(/^\d+_/, '')
  const table = (raw: string): string => raw.replace(/_table$/, '') || raw
  let match: RegExpMatchArray | null
  if ((match = name.match(/^add_(.+)_to_(.+)$/))) {
    const [, column, target] = match as [string, string, string]
    return { up: alterTable(table(target), [`t.string('${column}')`]), down: alterTable(table(target), [`t.dropColumn('${column}')`]) }
  }
  if ((match = name.match(/^remove_(.+)_from_(.+)$/))) {
    const [, column, target] = match as [string, string, string]
    return {
      up: alterTable(table(target), [`t.dropColumn('${column}')`]),
      down: alterTable(table(target), [`// Recreate ${column} with the type it had before this migration.`, `t.string('${column}')`]),
    }
  }
  if ((match = name.match(/^change_(.+)_in_(.+)$/))) {
    const [, column, target] = match as [string, string, string]
    return {
      up: alterTable(table(target), [`t.string('${column}').alter()`]),
      down: alterTable(table(target), [`// Put ${column} back the way it was before this migration.`, `t.string('${column}').alter()`]),
    }
  }
  if ((match = name.match(/^alter_(.+)$/))) {
    const target = table(match[1]!)
    return { up: alterTable(target, ['// What changes.']), down: alterTable(target, ['// Undo what up changed.']) }
  }
  if ((match = name.match(/^drop_(.+)$/))) {
    const target = table(match[1]!)
    return {
      up: `  await knex.schema.dropTable('${target}')`,
      down: `  // Recreate ${target} as it was before this migration: its columns and indexes (its rows are gone).\n${createTable(target)}`,
    }
  }
  const created = tableOf(snake)
  return { up: createTable(created), down: `  await knex.schema.dropTable('${created}')` }
}

/** A migration template with its body filled in. */
export function fillMigration(template: string, body: MigrationBody): string {
  return template.replace('{{up}}', () => body.up).replace('{{down}}', () => body.down)
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
  const path = join(options.directory, `${base}.${options.extension}`)
  mkdirSync(options.directory, { recursive: true })
  const text = readFileSync(template, 'utf8')
  const body = options.kind === 'seed' ? text.replaceAll('{{table}}', tableOf(snake)) : fillMigration(text, migrationBody(snake))
  writeFileSync(path, body, { flag: 'wx' })
  return path
}
