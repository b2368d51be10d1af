#!/usr/bin/env node
/**
 * `npm run build`, after tsc: replaces tsc's dist/commands/** with an ESM bundle of each command (oclif's
 * `pattern` strategy over dist/commands, package.json oclif.commands), holding Gantry's own code and its
 * dependencies (TOOLCHAIN §5: loading hundreds of small modules is most of a command's start-up). Code that
 * several commands share goes to dist/chunks/, so a command evaluates only what it imports itself (issue 20),
 * and dist/execute.js is oclif's `execute` for bin/run.js from the same chunks (one copy of @oclif/core). The
 * rest of dist/ stays as tsc wrote it (dist/migrations for Gantry's own migrations, dist/src for the library).
 * The package ships what runs (package.json "files").
 *
 * Kept out of the bundle: native and optional database drivers (knex requires only the one a URL names),
 * ioredis and the AWS SDK (their named ESM exports differ under esbuild's interop), tsx (a loader that registers itself by
 * path), and the oclif plugins (oclif loads them by package).
 * Each bundled module keeps its own import.meta.url / __dirname (rewritten to where the unbundled file is),
 * so src/package-root.ts and the libraries that read files next to themselves behave as before.
 */
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Buffer } from 'node:buffer'
import { build } from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const distDir = join(root, 'dist')

// The anchor each output file resolves Gantry's own locations against: the dist/ folder, written into the
// banner per file after the build (files sit at different depths: execute.js, commands/a/b.js, chunks/x.js).
// bin/run.js imports oclif's `execute` from here, so one copy of @oclif/core serves it and every command.
const EXECUTE = 'gantry-execute'
const DIST_PLACEHOLDER = '"__gantry_dist_relative__"'
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
  // The AWS SDK (backups.s3): large, and imported only when a backup goes to S3; bundled, its CommonJS build
  // under esbuild's interop has no named exports, where Node loads its ESM build.
  '@aws-sdk/*',
  // openid-client (single sign-on) is imported only at a sign-in: loaded from node_modules then, it keeps the
  // packed package within its size bound.
  'openid-client',
]

const commands = await commandFiles(join(root, 'commands'))
const result = await build({
  entryPoints: [{ in: EXECUTE, out: 'execute' }, ...commands.map(([id, path]) => ({ in: path, out: ['commands', ...id.split(':')].join('/') }))],
  outdir: distDir,
  // What two entries share goes to chunk files, each read only by the entries that import it: a command
  // evaluates its own code and schemas, never another command's (issue 20). What a command imports only
  // when it needs it (knex, ioredis, ora, inquirer) is a chunk of its own, read only when used.
  splitting: true,
  chunkNames: 'chunks/chunk-[hash]',
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
  plugins: [executeEntry(), zodEnglishOnly(), moduleLocation()],
  write: false,
})
// tsc wrote dist/commands/** first; the bundle's entries replace its command files one for one. Chunks of
// an earlier bundle go too (their names are content hashes: nothing would overwrite them).
await rm(join(distDir, 'commands'), { recursive: true, force: true })
await rm(join(distDir, 'chunks'), { recursive: true, force: true })
const bytes = { execute: 0, commands: 0, chunks: 0 }
let chunks = 0
for (const file of result.outputFiles) {
  const toDist = relative(dirname(file.path), distDir).split(sep).join('/')
  const text = file.path.endsWith('.js') ? file.text.replace(DIST_PLACEHOLDER, JSON.stringify(`${toDist || '.'}/`)) : file.text
  await mkdir(dirname(file.path), { recursive: true })
  await writeFile(file.path, text)
  if (!file.path.endsWith('.js')) continue
  const kind = file.path === join(distDir, 'execute.js') ? 'execute' : file.path.startsWith(join(distDir, 'chunks')) ? 'chunks' : 'commands'
  bytes[kind] += Buffer.byteLength(text)
  if (kind === 'chunks') chunks++
}
const mb = (n) => `${(n / 1024 / 1024).toFixed(1)} MB`
console.log(
  `bundled ${commands.length} commands into dist/commands (${mb(bytes.commands)}), dist/execute.js (${mb(bytes.execute)}) and ${chunks} shared chunks (${mb(bytes.chunks)})`,
)

/**
 * What the bundle starts with: `require` for CommonJS inside ESM (externals, node: built-ins), and the
 * helper that places a package's file wherever the package is installed (else where it was at build time).
 */
function banner() {
  return [
    `import { createRequire as __gantryCreateRequire } from 'node:module';`,
    `import { existsSync as __gantryExists } from 'node:fs';`,
    `import { dirname as __gantryDirname, join as __gantryJoin } from 'node:path';`,
    `import { fileURLToPath as __gantryFileURLToPath } from 'node:url';`,
    `const require = __gantryCreateRequire(import.meta.url);`,
    `const __gantryDist = new URL(${DIST_PLACEHOLDER}, import.meta.url);`,
    // node_modules/<pkg> in this folder and each one above, as Node looks up a package: existsSync, where
    // require.resolve of its package.json cost ~12 ms at start-up (and throws for packages whose
    // "exports" hide it).
    `function __gantryModuleFile(pkg, sub, fallback) {`,
    `  for (let dir = __gantryFileURLToPath(new URL('.', import.meta.url)); ; dir = __gantryDirname(dir)) {`,
    `    const found = __gantryJoin(dir, 'node_modules', pkg);`,
    `    if (__gantryExists(__gantryJoin(found, 'package.json'))) return __gantryJoin(found, sub);`,
    `    if (__gantryDirname(dir) === dir) return __gantryFileURLToPath(new URL(fallback, __gantryDist));`,
    `  }`,
    `}`,
  ].join('\n')
}

/** Every command file under commands/ as [id, path], in name order. */
async function commandFiles(dir) {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))
  const out = []
  for (const e of entries) {
    const path = join(dir, e.name)
    if (e.isDirectory()) out.push(...(await commandFiles(path)))
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
      out.push([relative(join(root, 'commands'), path).slice(0, -3).split(sep).join(':'), path])
    }
  }
  return out
}

/** The entry bin/run.js imports: oclif's `execute`, nothing else. */
function executeEntry() {
  return {
    name: 'execute-entry',
    setup(b) {
      b.onResolve({ filter: new RegExp(`^${EXECUTE}$`) }, () => ({ path: EXECUTE, namespace: 'execute-entry' }))
      b.onLoad({ filter: /.*/, namespace: 'execute-entry' }, () => ({ contents: `export { execute } from '@oclif/core'`, resolveDir: root, loader: 'js' }))
    },
  }
}

/**
 * zod's `z` namespace reaches commands through shared chunks, where esbuild cannot drop the members nobody
 * uses, so every command would compile zod's 40-odd message locales (~370 KB) for the one it uses: English,
 * which zod configures itself. Gantry never selects another locale; `z.locales` holds only `en` here.
 */
function zodEnglishOnly() {
  return {
    name: 'zod-english-only',
    setup(b) {
      b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, ({ importer }) =>
        /[\\/]node_modules[\\/]zod[\\/]/.test(importer) ? { path: join(dirname(importer), '..', 'locales', 'en.js'), namespace: 'zod-locales' } : undefined,
      )
      b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, ({ path }) => ({
        contents: `export { default as en } from './en.js'`,
        resolveDir: dirname(path),
        loader: 'js',
      }))
    },
  }
}

/**
 * Gives each bundled module the location it has unbundled: Gantry's own files see import.meta.url of their
 * tsc output (dist/src/…/x.js, relative to the bundle), packages see __dirname/__filename of their file,
 * found at run time from wherever the package is installed.
 */
function moduleLocation() {
  const distRelative = (path) => JSON.stringify(relative(distDir, path).split(sep).join('/'))
  return {
    name: 'module-location',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async ({ path }) => {
        let contents = await readFile(path, 'utf8')
        if (contents.includes('import.meta.url') && !path.includes(`${sep}node_modules${sep}`)) {
          const built = join(root, 'dist', relative(root, path)).replace(/\.ts$/, '.js')
          contents = contents.replaceAll('import.meta.url', `new URL(${distRelative(built)}, __gantryDist).href`)
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
        const prelude =
          `var __filename = __gantryModuleFile(${JSON.stringify(name)}, ${JSON.stringify(sub.split(sep).join('/'))}, ${distRelative(path)}), ` +
          `__dirname = __gantryDirname(__filename);\n`
        return { contents: prelude + contents, loader: 'js' }
      })
    },
  }
}
