/**
 * The console benchmark's reference (bench/benchmarks/console.mjs): a static page of the console's own size,
 * served by Gantry's own console code.
 *
 * referenceDirectory() writes a copy of dist/console whose page links, instead of the console's script, one
 * of the same bytes: a few lines that draw a static frame and a 50-row users table with DOM calls and set
 * the `gantry:table-rendered` mark after the next frame (as the console does: from a Preact effect, which
 * Preact runs after the next animation frame), followed by the console's whole bundle inside a comment — so
 * the browser transfers, decompresses and scans as many bytes as for the console, and runs none of it.
 * The stylesheet and icon are the console's own files; each file gets brotli and gzip copies made as
 * scripts/console-build.mjs makes them (quality 11, level 9).
 *
 * Run as a program (`node console-reference.mjs DIRECTORY`, PORT in the environment), it serves that
 * directory at /console/ on 127.0.0.1 through Gantry's own mountConsole (dist/src/server/console.js): the
 * same code, headers (Content-Security-Policy, Cache-Control, precompressed Content-Encoding) and in-memory
 * answers as `gantry serve`'s console, on an Express 5 app set up as createApp sets it (no X-Powered-By, no
 * ETag). It is a process of its own beside `gantry serve` — the console has no place for a page that is not
 * the console — so it does not share an event loop with the benchmark's browser driver either.
 */
import { Buffer } from 'node:buffer'
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

/** The users table the reference draws: as many rows and the same columns as the console's first page. */
export const REFERENCE_ROWS = 50

const RENDERER = `// The console benchmark's static reference page (bench/lib/console-reference.mjs).
const el = (tag, text, attrs = {}) => {
  const node = document.createElement(tag)
  if (text !== undefined) node.textContent = text
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v)
  return node
}
const app = document.getElementById('app')
const header = el('header', undefined, { class: 'top' })
header.append(el('span', 'Gantry console', { class: 'brand' }))
const nav = el('nav', undefined, { 'aria-label': 'Areas' })
const list = el('ul')
for (const area of ['Overview', 'Users', 'Roles', 'API keys', 'Rate limits', 'Audit log', 'Maintenance', 'Feature flags', 'Webhooks']) {
  const item = el('li')
  item.append(el('a', area, { href: '#/' + area.toLowerCase().replace(/ /g, '') }))
  list.append(item)
}
nav.append(list)
header.append(nav)
const main = el('main', undefined, { id: 'main' })
main.append(el('h1', 'Users'))
const wrap = el('div', undefined, { class: 'table-wrap' })
const table = el('table', undefined, { 'data-table': 'users' })
table.append(el('caption', 'Users'))
const head = el('thead')
const headRow = el('tr')
for (const name of ['Email', 'Name', 'Role', 'Status', 'Last login', 'Actions']) headRow.append(el('th', name, { scope: 'col' }))
head.append(headRow)
const body = el('tbody')
for (let i = 1; i <= ${REFERENCE_ROWS}; i++) {
  const row = el('tr')
  row.append(el('th', 'user' + i + '@example.com', { scope: 'row' }), el('td', 'User ' + i), el('td', i % 3 === 0 ? 'operator' : 'viewer'))
  const status = el('td')
  status.append(el('span', 'active', { class: 'badge pass' }))
  const actions = el('td', undefined, { class: 'row-actions' })
  for (const label of ['Disable', 'End sessions', 'Delete']) actions.append(el('button', label, { type: 'button' }))
  row.append(status, el('td', '—'), actions)
  body.append(row)
}
table.append(head, body)
wrap.append(table)
main.append(wrap)
app.append(header, main)
// As a Preact effect runs: after the next frame (or 100 ms), then a task.
const mark = () => setTimeout(() => performance.mark('gantry:table-rendered'))
const timeout = setTimeout(mark, 100)
requestAnimationFrame(() => {
  clearTimeout(timeout)
  mark()
})
`

/**
 * Writes the reference page for the console built at `consoleDir` (dist/console) into `dir` (emptied first).
 * Returns { script, consoleScript, bytes: { identity, br, gzip } of both scripts }.
 */
export function referenceDirectory(consoleDir, dir) {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(join(dir, 'assets'), { recursive: true })
  const consoleAssets = join(consoleDir, 'assets')
  const files = readdirSync(consoleAssets)
  const consoleScript = files.find((f) => f.endsWith('.js'))
  if (!consoleScript) throw new Error(`${consoleAssets} holds no script: is the console built?`)
  for (const file of files) if (!file.startsWith(consoleScript)) writeFileSync(join(dir, 'assets', file), readFileSync(join(consoleAssets, file)))
  const bundle = readFileSync(join(consoleAssets, consoleScript), 'utf8').replaceAll('*/', '* /')
  const source = Buffer.from(`${RENDERER}/* The console's bundle, transferred and scanned, never run:\n${bundle}*/\n`)
  const script = `reference-${createHash('sha256').update(source).digest('base64url').slice(0, 8)}.js`
  writeCompressed(join(dir, 'assets', script), source)
  const page = readFileSync(join(consoleDir, 'index.html'), 'utf8')
  if (!page.includes(`assets/${consoleScript}`)) throw new Error(`${consoleDir}/index.html does not link assets/${consoleScript}`)
  writeCompressed(join(dir, 'index.html'), Buffer.from(page.replace(`assets/${consoleScript}`, `assets/${script}`)))
  const sizes = (path) => ({
    identity: readFileSync(path).length,
    br: readFileSync(`${path}.br`).length,
    gzip: readFileSync(`${path}.gz`).length,
  })
  return { script, consoleScript, bytes: { reference: sizes(join(dir, 'assets', script)), console: sizes(join(consoleAssets, consoleScript)) } }
}

function writeCompressed(path, body) {
  writeFileSync(path, body)
  writeFileSync(`${path}.br`, brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }))
  writeFileSync(`${path}.gz`, gzipSync(body, { level: 9 }))
}

/** As a program: serve DIRECTORY at /console/ on 127.0.0.1:PORT through Gantry's mountConsole. */
async function serve(directory) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
  const { default: express } = await import('express')
  const { mountConsole } = await import(pathToFileURL(join(root, 'dist', 'src', 'server', 'console.js')).href)
  const app = express()
  app.disable('x-powered-by')
  app.set('etag', false)
  mountConsole(app, directory)
  app.use((_req, res) => res.status(404).type('text/plain').send('Not the console.\n'))
  const port = Number(process.env.PORT)
  app.listen(port, '127.0.0.1', () => process.stderr.write(`console reference on http://127.0.0.1:${port}/console/\n`))
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  if (!process.argv[2]) {
    process.stderr.write('usage: PORT=n node bench/lib/console-reference.mjs DIRECTORY\n')
    process.exit(2)
  }
  await serve(resolve(process.argv[2]))
}
