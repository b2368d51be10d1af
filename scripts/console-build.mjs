#!/usr/bin/env node
/**
 * `npm run build`: the admin console (console/src, Preact) into dist/console, so the installed package serves
 * it with no build step of its own and no network (src/server/console.ts). esbuild — already the bundler of
 * the commands (scripts/bundle.mjs) — bundles, minifies and names each asset by its content hash; the page
 * links them, and each asset gets brotli and gzip copies the server picks from by Accept-Encoding.
 */
import { createHash } from 'node:crypto'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { build } from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const outDir = join(root, 'dist', 'console')
const assetDir = join(outDir, 'assets')

/**
 * What the console knows of Gantry, read from the compiled sources (tsc wrote dist/src just before) rather
 * than copied: each operation's method, path and where its input goes — from the operation table the routes
 * and the OpenAPI document are made from, so the page cannot call a route that is not there — Gantry's
 * permissions (the roles checklist) and the webhook event areas with the permission each needs.
 */
const distSrc = join(root, 'dist', 'src')
const { OPERATIONS } = await import(join(distSrc, 'admin', 'operations', 'index.js'))
const { inputInBody } = await import(join(distSrc, 'admin', 'operation.js'))
const { GANTRY_PERMISSIONS } = await import(join(distSrc, 'core', 'roles', 'permissions.js'))
const { GANTRY_EVENT_AREAS, readPermissionOf } = await import(join(distSrc, 'core', 'webhooks', 'event-types.js'))
const catalog = {
  routes: Object.fromEntries(
    Object.entries(OPERATIONS)
      .filter(([, op]) => op.kind === 'json')
      .map(([name, op]) => [name, { method: op.http.method.toUpperCase(), path: op.http.path, target: Boolean(op.params), body: inputInBody(op) }]),
  ),
  permissions: [...GANTRY_PERMISSIONS],
  eventAreas: ['*', ...[...GANTRY_EVENT_AREAS].sort().map((area) => `${area}.*`)].map((pattern) => ({ pattern, permission: readPermissionOf(pattern) })),
}
const gantryCatalog = {
  name: 'gantry-catalog',
  setup(plugin) {
    plugin.onResolve({ filter: /^gantry:catalog$/ }, (args) => ({ path: args.path, namespace: 'gantry' }))
    plugin.onLoad({ filter: /.*/, namespace: 'gantry' }, () => ({ contents: JSON.stringify(catalog), loader: 'json' }))
  },
}

await rm(outDir, { recursive: true, force: true })
const result = await build({
  plugins: [gantryCatalog],
  entryPoints: [join(root, 'console', 'src', 'main.tsx')],
  bundle: true,
  minify: true,
  format: 'esm',
  // Browsers of the last few years: what `<script type="module">` and CSS nesting need, no transpiled helpers.
  target: ['chrome111', 'firefox113', 'safari16.5'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  entryNames: '[name]-[hash]',
  outdir: assetDir,
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
})

const outputs = Object.keys(result.metafile.outputs).map((file) => basename(file))
const script = outputs.find((file) => file.endsWith('.js'))
const style = outputs.find((file) => file.endsWith('.css'))
if (!script || !style) throw new Error(`console build: expected one script and one stylesheet, got ${outputs.join(', ')}`)

// The icon is named by its content too: every asset is kept for good.
const iconBody = await readFile(join(root, 'console', 'icon.svg'))
const icon = `icon-${createHash('sha256').update(iconBody).digest('base64url').slice(0, 8)}.svg`
await writeFile(join(assetDir, icon), iconBody)
outputs.push(icon)

const template = await readFile(join(root, 'console', 'index.html'), 'utf8')
const page = template.replace('%SCRIPT%', `assets/${script}`).replace('%STYLE%', `assets/${style}`).replace('%ICON%', `assets/${icon}`)
await writeFile(join(outDir, 'index.html'), page)

for (const file of [join(outDir, 'index.html'), ...outputs.map((name) => join(assetDir, name))]) {
  const body = await readFile(file)
  await writeFile(`${file}.br`, brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }))
  await writeFile(`${file}.gz`, gzipSync(body, { level: 9 }))
}
