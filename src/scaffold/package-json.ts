/**
 * What `gantry init` puts in the project's package.json. Gantry does not install tsx (an optional peer:
 * with esbuild 3 packages, 12 MB on linux-x64, that only TypeScript migrations, seeds and knex setup
 * modules need), so a workspace with `.ts` migrations gets it in its own "dependencies" — not
 * devDependencies: the generated Dockerfile installs with `npm ci --omit=dev`, and the image runs
 * `gantry migrate latest` too.
 */
import { TYPESCRIPT_LOADER } from '../db/migrator/source.js'

/** The tsx a new TypeScript workspace depends on: the release Gantry is tested with, and later 4.x. */
export const TSX_RANGE = '^4.23.14'

interface Manifest {
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
  [key: string]: unknown
}

/** package.json for a workspace that has none: the project, private, depending on tsx. */
export function newPackageJson(name: string): string {
  return `${JSON.stringify({ name, version: '0.1.0', private: true, dependencies: { [TYPESCRIPT_LOADER]: TSX_RANGE } }, null, 2)}\n`
}

/**
 * An existing package.json with tsx added to "dependencies" (in name order, every other key, the file's
 * indentation and line endings kept), or undefined to leave it as it is: tsx already listed (in
 * dependencies, or in devDependencies, which init warns about rather than rewrite), or not JSON npm reads.
 */
export function addTsxDependency(current: string): string | undefined {
  let manifest: Manifest
  try {
    manifest = JSON.parse(current) as Manifest
  } catch {
    return undefined // npm reports a broken package.json better than this could
  }
  if (manifest === null || typeof manifest !== 'object' || Array.isArray(manifest)) return undefined
  if (manifest.dependencies?.[TYPESCRIPT_LOADER] !== undefined || manifest.devDependencies?.[TYPESCRIPT_LOADER] !== undefined) return undefined
  const entries = Object.entries(manifest.dependencies ?? {})
  const at = entries.findIndex(([name]) => name.localeCompare(TYPESCRIPT_LOADER, 'en') > 0)
  entries.splice(at === -1 ? entries.length : at, 0, [TYPESCRIPT_LOADER, TSX_RANGE])
  const updated: Manifest = { ...manifest, dependencies: Object.fromEntries(entries) }
  const indent = /^([ \t]+)"/m.exec(current)?.[1] ?? '  '
  const eol = current.includes('\r\n') ? '\r\n' : '\n'
  const text = JSON.stringify(updated, null, indent).replaceAll('\n', eol)
  return current.endsWith('\n') || current.trim() === '' ? `${text}${eol}` : text
}
