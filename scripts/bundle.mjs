#!/usr/bin/env node
/**
 * `npm run build`, after tsc: replaces dist/commands/index.js (the oclif `explicit` command table) with one
 * ESM bundle of every command, Gantry's own code and its dependencies (TOOLCHAIN §5: loading hundreds of
 * small modules is most of a command's start-up; one file is ~0.7x). bin/run.js imports oclif's `execute`
 * from the same bundle, so one copy of @oclif/core serves both. The rest of dist/ stays as tsc wrote it
 * (dist/commands/** for the CLI surface check, dist/migrations for Gantry's own migrations, dist/src for the
 * library). The package ships what runs (package.json "files"): the bundle and its chunks, dist/src and
 * dist/migrations, not the per-command files.
 *
 * Kept out of the bundle: native and optional database drivers (knex requires only the one a URL names),
 * ioredis (its named ESM export differs under esbuild's interop), tsx (a loader that registers itself by
 * path), and the oclif plugins (oclif loads them by package).
 * Each bundled module keeps its own import.meta.url / __dirname (rewritten to where the unbundled file is),
 * so src/package-root.ts and the libraries that read files next to themselves behave as before.
 */
import { readFile, readdir } from 'node:fs/promises'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const outfile = join(root, 'dist', 'commands', 'index.js')
const outDir = dirname(outfile)

const ENTRY = 'gantry-command-table'
const external = [
  'better-sqlite3',
  'libsql',
  'sqlite3',
  'mysql',
  'mysql2',
  'pg',
  'pg-native',
  'pg-query-stream',
  'oracledb',
  'tedious',
  'mssql',
  'mariadb',
  'mariadb/*',
  'tsx',
  'tsx/*',
  '@oclif/plugin-*',
  'typescript',
  'ts-node',
  'fsevents',
  // Bundled, `import('ioredis')` would see esbuild's CommonJS interop (no named `Redis` export), not Node's.
  'ioredis',
  // Native addons (a .node binary per platform) load from node_modules.
  '@node-rs/*',
]

const commands = await commandFiles(join(root, 'commands'))
const entry = [
  `export { execute } from '@oclif/core'`,
  ...commands.map(([, path], i) => `import C${i} from ${JSON.stringify(`./${relative(root, path).split(sep).join('/')}`)}`),
  `export const COMMANDS = {`,
  ...commands.map(([id], i) => `  ${JSON.stringify(id)}: C${i},`),
  `}`,
].join('\n')

const result = await build({
  entryPoints: [{ in: ENTRY, out: 'index' }],
  outdir: outDir,
  // What a command imports only when it needs it (knex, ioredis, ora, inquirer) goes to chunk files next to
  // the bundle and is read only when used, so start-up parses and evaluates only what every command needs.
  splitting: true,
  chunkNames: 'chunk-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external,
  legalComments: 'none',
  // Source maps only when asked (GANTRY_SOURCEMAPS=1 npm run build): they would triple what the package ships.
  sourcemap: process.env.GANTRY_SOURCEMAPS ? 'linked' : false,
  logLevel: 'warning',
  // CommonJS inside an ESM bundle: `require` of externals and node: built-ins.
  banner: { js: banner() },
  plugins: [commandTable(entry), moduleLocation()],
  metafile: true,
})
const outputs = Object.entries(result.metafile.outputs).filter(([name]) => name.endsWith('.js'))
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`
const main = outputs.find(([name]) => name.endsWith('/index.js'))?.[1].bytes ?? 0
const rest = outputs.reduce((sum, [, o]) => sum + o.bytes, 0) - main
console.log(`bundled ${commands.length} commands into ${relative(root, outfile)} (${mb(main)}; ${outputs.length - 1} lazy chunks, ${mb(rest)})`)

/**
 * What the bundle starts with: `require` for CommonJS inside ESM (externals, node: built-ins), and the
 * helper that places a package's file wherever the package is installed (else relative to the bundle).
 */
function banner() {
  return [
    `import { createRequire as __gantryCreateRequire } from 'node:module';`,
    `import { dirname as __gantryDirname, join as __gantryJoin } from 'node:path';`,
    `import { fileURLToPath as __gantryFileURLToPath } from 'node:url';`,
    `const require = __gantryCreateRequire(import.meta.url);`,
    `function __gantryModuleFile(packageJson, sub, fallback) {`,
    `  try { return __gantryJoin(__gantryDirname(require.resolve(packageJson)), sub) }`,
    `  catch { return __gantryFileURLToPath(new URL(fallback, import.meta.url)) }`,
    `}`,
  ].join('\n')
}

/** Every command file under commands/ (not index.ts) as [id, path], in name order. */
async function commandFiles(dir) {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))
  const out = []
  for (const e of entries) {
    const path = join(dir, e.name)
    if (e.isDirectory()) out.push(...(await commandFiles(path)))
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') && path !== join(root, 'commands', 'index.ts')) {
      out.push([relative(join(root, 'commands'), path).slice(0, -3).split(sep).join(':'), path])
    }
  }
  return out
}

/** The generated entry: the command table, under the name the sources give it. */
function commandTable(contents) {
  return {
    name: 'command-table',
    setup(b) {
      b.onResolve({ filter: new RegExp(`^${ENTRY}$`) }, () => ({ path: join(root, 'commands', 'index.ts'), namespace: 'command-table' }))
      b.onLoad({ filter: /.*/, namespace: 'command-table' }, () => ({ contents, resolveDir: root, loader: 'ts' }))
    },
  }
}

/**
 * Gives each bundled module the location it has unbundled: Gantry's own files see import.meta.url of their
 * tsc output (dist/src/…/x.js, relative to the bundle), packages see __dirname/__filename of their file,
 * found at run time from wherever the package is installed.
 */
function moduleLocation() {
  const relativeUrl = (path) => JSON.stringify(relative(outDir, path).split(sep).join('/'))
  return {
    name: 'module-location',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async ({ path }) => {
        let contents = await readFile(path, 'utf8')
        if (contents.includes('import.meta.url') && !path.includes(`${sep}node_modules${sep}`)) {
          const built = join(root, 'dist', relative(root, path)).replace(/\.ts$/, '.js')
          contents = contents.replaceAll('import.meta.url', `new URL(${relativeUrl(built)}, import.meta.url).href`)
        }
        return { contents, loader: 'ts' }
      })
      b.onLoad({ filter: /[\\/]node_modules[\\/].*\.[cm]?js$/ }, async ({ path }) => {
        const contents = await readFile(path, 'utf8')
        if (!/\b__(dirname|filename)\b/.test(contents)) return undefined
        const match = /^(.*[\\/]node_modules[\\/])((?:@[^\\/]+[\\/])?[^\\/]+)[\\/](.*)$/.exec(path)
        if (!match) return undefined
        const [, , pkg, sub] = match
        const name = pkg.split(sep).join('/')
        const fallback = relative(outDir, path).split(sep).join('/')
        const prelude =
          `var __filename = __gantryModuleFile(${JSON.stringify(`${name}/package.json`)}, ${JSON.stringify(sub.split(sep).join('/'))}, ${JSON.stringify(fallback)}), ` +
          `__dirname = __gantryDirname(__filename);\n`
        return { contents: prelude + contents, loader: 'js' }
      })
    },
  }
}
