/**
 * The command table for oclif's `explicit` strategy (package.json oclif.commands): id -> command class.
 * Here, for development mode (bin/dev.js) and the tsc build, it is found from the files next to this one,
 * so a new command needs no entry anywhere. `npm run build` replaces dist/commands/index.js with one
 * esbuild bundle (scripts/bundle.mjs) that lists every command statically and holds their dependencies,
 * which is what makes start-up cheap (TOOLCHAIN §5).
 */
import { readdirSync } from 'node:fs'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Command } from '@oclif/core'

const here = dirname(fileURLToPath(import.meta.url))
const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js'

/** Command files below this folder (not this file, no declarations), as [id, path] in name order. */
function commandFiles(dir: string): Array<[string, string]> {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry): Array<[string, string]> => {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) return commandFiles(path)
      if (!entry.name.endsWith(extension) || entry.name.endsWith(`.d${extension}`) || path === join(here, `index${extension}`)) return []
      return [[relative(here, path).slice(0, -extension.length).split(sep).join(':'), path]]
    })
}

export const COMMANDS: Record<string, typeof Command> = Object.fromEntries(
  await Promise.all(
    commandFiles(here).map(async ([id, path]) => [id, ((await import(pathToFileURL(path).href)) as { default: typeof Command }).default] as const),
  ),
)
