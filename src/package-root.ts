import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

let root: string | undefined

/**
 * The folder of Gantry's own package.json. Assets (templates/, migrations/, schema/) resolve from here, so
 * they are found the same from src/ in development and from dist/src/ once built — never from the cwd.
 */
export function packageRoot(): string {
  if (root) return root
  for (let dir = dirname(fileURLToPath(import.meta.url)); dirname(dir) !== dir; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'gantry') {
      return (root = dir)
    }
  }
  throw new Error('Gantry package root not found above ' + fileURLToPath(import.meta.url))
}

/** Whether this copy runs from the build output (dist/) rather than the TypeScript sources. */
export function runsBuilt(): boolean {
  return fileURLToPath(import.meta.url).includes(`${join('', 'dist', 'src')}`)
}

/** The version in Gantry's own package.json (what health reports). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version
}
