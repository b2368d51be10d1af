#!/usr/bin/env node
/**
 * The CLI surface snapshot (DESIGN.md, Style): command ids, their flags and args, their --json result
 * schemas (zod -> JSON Schema) and the error catalog's codes, read from the build (oclif.manifest.json,
 * dist/). `node scripts/cli-surface.mjs` compares it with docs/cli-surface.json and exits 1 on any
 * difference; `--update` writes it. Run after `npm run build`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { z } from 'zod'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const snapshotPath = join(root, 'docs', 'cli-surface.json')
const MAX_LINES = 80

const current = `${JSON.stringify(await readSurface(), null, 2)}\n`
if (process.argv.includes('--update')) {
  writeFileSync(snapshotPath, current)
  console.log(`Wrote ${snapshotPath}.`)
} else {
  const committed = existsSync(snapshotPath) ? readFileSync(snapshotPath, 'utf8') : null
  if (committed === current) {
    console.log('The CLI surface matches docs/cli-surface.json.')
  } else {
    const changes = committed === null ? ['docs/cli-surface.json does not exist yet.'] : diff(JSON.parse(committed), JSON.parse(current))
    console.error('The CLI surface differs from docs/cli-surface.json (- committed, + built):')
    for (const line of changes.slice(0, MAX_LINES)) console.error(`  ${line}`)
    if (changes.length > MAX_LINES) console.error(`  … and ${changes.length - MAX_LINES} more`)
    if (changes.length === 0) console.error('  (formatting only)')
    console.error('If the change is intended, run `npm run surface:update` and commit docs/cli-surface.json.')
    process.exitCode = 1
  }
}

/** The surface of the built CLI at the package root, keys sorted, so equal surfaces serialise equally. */
async function readSurface() {
  const manifestPath = join(root, 'oclif.manifest.json')
  if (!existsSync(manifestPath)) fail('oclif.manifest.json is missing: run `npm run build` first.')
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'))
  const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  const separator = pjson.oclif?.topicSeparator ?? ':'
  const commands = {}
  for (const cmd of Object.values(manifest.commands)) {
    commands[cmd.id.replaceAll(':', separator)] = {
      ...(cmd.aliases?.length ? { aliases: [...cmd.aliases].sort() } : {}),
      ...(cmd.hidden ? { hidden: true } : {}),
      args: Object.values(cmd.args ?? {}).map(describeArg),
      flags: Object.fromEntries(Object.values(cmd.flags ?? {}).map((f) => [f.name, describeFlag(f)])),
      resultSchema: await resultSchema(cmd),
    }
  }
  return sortKeys({ bin: pjson.oclif?.bin ?? pjson.name, commands, errors: await errorCatalog() })
}

/** What a script relies on about a flag; help texts are left out (rewording is not a change of surface). */
function describeFlag(flag) {
  return {
    type: flag.type,
    ...(flag.char ? { char: flag.char } : {}),
    required: Boolean(flag.required),
    multiple: Boolean(flag.multiple),
    ...(flag.default !== undefined ? { default: flag.default } : {}),
    ...(flag.options ? { options: flag.options } : {}),
    ...(flag.env ? { env: flag.env } : {}),
    ...(flag.allowNo ? { allowNo: true } : {}),
    ...(flag.exclusive?.length ? { exclusive: [...flag.exclusive].sort() } : {}),
    ...(flag.dependsOn?.length ? { dependsOn: [...flag.dependsOn].sort() } : {}),
    ...(flag.hidden ? { hidden: true } : {}),
  }
}

/** Args keep their order: it is part of the surface. */
function describeArg(arg) {
  return {
    name: arg.name,
    required: Boolean(arg.required),
    ...(arg.default !== undefined ? { default: arg.default } : {}),
    ...(arg.options ? { options: arg.options } : {}),
  }
}

/** The command's `static resultSchema` (zod 4) as JSON Schema, or null when it declares none. */
async function resultSchema(cmd) {
  const file = join(root, ...(cmd.relativePath ?? ['dist', 'commands', ...cmd.id.split(':')]))
  const path = file.endsWith('.js') ? file : `${file}.js`
  if (!existsSync(path)) fail(`${path} (command ${cmd.id}) is missing: run \`npm run build\` first.`)
  const mod = await import(pathToFileURL(path).href)
  const Command = mod.default ?? Object.values(mod).find((v) => typeof v === 'function' && v.id === cmd.id)
  const schema = Command?.resultSchema
  if (!schema) return null
  return z.toJSONSchema(schema)
}

/** Every error code with the exit code, HTTP status and title it maps to (all documented behaviour). */
async function errorCatalog() {
  const { errorCodes, GantryError } = await import(pathToFileURL(join(root, 'dist', 'src', 'core', 'errors.js')).href)
  return Object.fromEntries(
    errorCodes.map((code) => {
      const err = new GantryError(code, '')
      return [code, { exit: err.exit, status: err.status, title: err.title }]
    }),
  )
}

/** Objects with sorted keys (recursively); `required` lists sorted too, since property order is no contract. */
function sortKeys(value, key) {
  if (Array.isArray(value)) {
    const items = value.map((v) => sortKeys(v))
    return key === 'required' && items.every((i) => typeof i === 'string') ? items.sort() : items
  }
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys(value[k], k)]),
  )
}

/** Readable differences, one line each: `+ path: value`, `- path: value`, `~ path: old → new`. */
function diff(before, after, path = []) {
  const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()
    return keys.flatMap((k) => {
      if (!(k in before)) return [`+ ${[...path, k].join(' › ')}: ${short(after[k])}`]
      if (!(k in after)) return [`- ${[...path, k].join(' › ')}: ${short(before[k])}`]
      return diff(before[k], after[k], [...path, k])
    })
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [`~ ${path.join(' › ')}: ${short(before)} → ${short(after)}`]
}

function short(value) {
  const text = JSON.stringify(value)
  return text.length > 100 ? `${text.slice(0, 97)}…` : text
}

function fail(message) {
  console.error(message)
  process.exit(2)
}
