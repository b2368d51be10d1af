/**
 * The admin console in a real browser (Debian's Chromium, headless, driven by playwright-core) against a real
 * `gantry serve` over 10^6 users, in the full run only (--quick has no room for page loads; `--quick --only
 * console` runs them with fewer pairs). The workspace is kept between runs (lib/console-workspace.mjs), so
 * after the first run its set-up is a `migrate latest` and a count:
 *
 * - console-overview: /console/#/overview, the `gantry:table-rendered` mark the console sets once the
 *   readiness table has its rows;
 * - console-users: /console/#/users, the mark once the first page of 50 users is in the table;
 *
 * each against a static page of the console's size (lib/console-reference.mjs: the console's page, stylesheet
 * and icon, and a script of the same bytes — a few lines drawing a 50-row users table with DOM calls and
 * setting the same mark after the next frame, then the console's whole bundle inside a comment), served by
 * Gantry's own mountConsole with the same headers and precompressed brotli, in a process of its own beside
 * `gantry serve` on the same machine (the console has no place for a page that is not the console).
 * One sample is one page load: a new page in the browser context signed in once through the console's own
 * form, each load signed in again by the refresh cookie (rotated by every load, as in a user's browser), the
 * immutable assets from the browser's cache after the warm-up, the page from the server every time (no-cache).
 * 10 pairs after 2 warm-up loads per side (--quick: 3 after 1), subject and reference alternating.
 * The figure is the mark's time from navigation start as the page's own performance timeline records it;
 * first contentful paint (`first-contentful-paint`; for the console the "Loading…" line it draws before it
 * knows the session) is kept per sample in the details. Target: table rendered and first contentful paint
 * each within 1.5x the static page (medians), and the first load — from the first request for /console/
 * through the sign-in to the area's table rendered and the network idle, in a context of its own with an
 * empty cache (the context the samples then use) — under 150 KB transferred (headers and compressed bodies;
 * Chromium asks for brotli on loopback, and the encodings it got are kept in the details).
 *
 * The browser: playwright-core is handed /usr/bin/chromium (or GANTRY_CHROMIUM, as the browser tests take it)
 * and never downloads one; without it the benchmarks are not measurable. The launch flags are the browser
 * tests' own (test/helpers/chromium-flags.json). One browser per benchmark, a 1280×860 viewport, closed in
 * cleanup.
 */
/* global document -- the functions handed to page.evaluate run in the page */
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { median } from '../lib/measure.mjs'
import { CONSOLE_ADMIN, consoleWorkspace } from '../lib/console-workspace.mjs'
import { REFERENCE_ROWS, referenceDirectory } from '../lib/console-reference.mjs'
import { freePort, startServer } from '../lib/server-load.mjs'
import { gantryEnv, serverLogDir } from '../lib/server-workspace.mjs'

const USERS = 1_000_000
const MARK = 'gantry:table-rendered'
const VIEWPORT = { width: 1280, height: 860 }
/** The browser tests' launch flags (test/helpers/browser.ts): no sandbox (CI runs as root), no GPU, none of Chromium's calls home. */
const CHROMIUM_FLAGS = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'helpers', 'chromium-flags.json'), 'utf8'))
const here = dirname(fileURLToPath(import.meta.url))
/** How long one page load may take to set its mark before the benchmark fails. */
const LOAD_TIMEOUT_MS = 30_000

/**
 * What every load waits for before an area asks for its own data, as measured on 2026-12-05 (2 cores shared
 * with other work, load average 3-6; resource timings in each result's details.apiCalls, and curl against
 * the same server).
 */
const CHAIN =
  "The static page draws its table from its script alone. The console's table waits on round trips in sequence: the refresh cookie's rotation " +
  "(POST /api/v1/auth/console/refresh, which answers whoami too), then the area's own calls — each started from a Preact effect, so after a frame — " +
  'and the mark is set from an effect too, after the frame that shows the rows (as the reference sets it). On a loaded machine every step is a separate task ' +
  "on a contended renderer and server, so the ratio moves with the load: compare subjectDomContentLoadedMs with the reference's (the same bytes: a gap there is the bundle's own evaluation) " +
  "and the apiCalls' start times (the chain) before anything else. "

/** The areas measured: the table that sets the mark, how many rows it must then have, and the cause of a miss. */
const AREAS = {
  overview: {
    label: 'overview',
    rows: (n) => n > 0,
    rowsText: 'at least one readiness check',
    whenMissed:
      CHAIN +
      "Here the area's calls are readiness (GET /api/health/ready, which sets the mark through the readiness table), maintenance, traffic and the ten latest audit entries, in parallel: " +
      '5-25 ms each at 10^6 users. Met at 1.14-1.48x (1.29x on an idle machine), so near the limit when the machine is busy. What would add margin: the first area calls ' +
      'started with the refresh instead of after it.',
  },
  users: {
    label: 'users list',
    rows: (n) => n === 50,
    rowsText: '50 users',
    whenMissed:
      CHAIN +
      'Here the area asks for the first page of 50 users (5-10 ms at 10^6 users: a keyset page, the count capped at 10,000), and only then for roles.list (the role pickers): ' +
      "roles.list counts the users of every role (a GROUP BY over all 10^6 rows, 50-155 ms), which on SQLite's one connection held the page back while both went together " +
      '(1.75-2.22x then; 1.56x once the roles came after; 1.40x once the refresh answered whoami too). Then 50 rows render, each with a <select> of every role and ' +
      'three or four buttons (~100 ms from the answer to the mark on a busy machine). What would add margin: the rows first and their role pickers after, or fewer ' +
      'controls per row (one menu of actions).',
  },
}

/** The browser's executable, or a not-measurable error naming what to install. */
function chromiumPath() {
  const path = process.env.GANTRY_CHROMIUM || '/usr/bin/chromium'
  try {
    accessSync(path, constants.X_OK)
    return path
  } catch {
    throw Object.assign(new Error(`no browser at ${path}: bash scripts/browser.sh (Debian's chromium) or set GANTRY_CHROMIUM`), { notMeasurable: true })
  }
}

/** `gantry serve` of the console workspace, shared by both benchmarks of a run (stopped when the run ends). */
async function gantryConsoleServer(root) {
  const ws = await consoleWorkspace(root, USERS)
  const port = await freePort()
  const server = await startServer({
    key: 'gantry-console',
    label: `gantry serve (console, ${USERS} users)`,
    args: [join(root, 'bin', 'run.js'), 'serve', '--port', String(port), '--host', '127.0.0.1'],
    cwd: ws.dir,
    env: gantryEnv(),
    port,
    probe: '/console/',
    stderrFile: join(serverLogDir(root), 'gantry-console.stderr.log'),
  })
  return { server, ws }
}

/** The static reference page, written once per run from the console's build and served by mountConsole in a process of its own. */
let reference
function referenceServer(root) {
  reference ??= (async () => {
    const dir = join(root, 'bench', '.work', 'console-reference')
    const page = referenceDirectory(join(root, 'dist', 'console'), dir)
    const port = await freePort()
    const server = await startServer({
      key: 'console-reference',
      label: 'static reference page (mountConsole)',
      args: [join(here, '..', 'lib', 'console-reference.mjs'), dir],
      cwd: root,
      env: { ...gantryEnv(), PORT: String(port) },
      port,
      probe: '/console/',
      stderrFile: join(serverLogDir(root), 'console-reference.stderr.log'),
    })
    return { server, page }
  })()
  reference.catch(() => (reference = undefined))
  return reference
}

/** The console's build must set the mark, or every load would wait for it in vain. */
function expectMarkInBuild(root) {
  const assets = join(root, 'dist', 'console', 'assets')
  const script = readdirSync(assets).find((f) => f.endsWith('.js'))
  if (!script || !readFileSync(join(assets, script), 'utf8').includes(MARK))
    throw new Error(`the console build (${assets}) does not set the ${MARK} mark: npm run build`)
}

/**
 * Waits for the mark in `page` (and, with `paint`, for the first-contentful-paint entry too: Chromium adds it
 * once the frame is presented, which can come after a mark set in the next frame); on a timeout, says what
 * the page shows instead.
 */
async function waitForMark(page, what, { paint = false } = {}) {
  try {
    await page.waitForFunction(
      ([name, paint]) => performance.getEntriesByName(name).length > 0 && (!paint || performance.getEntriesByName('first-contentful-paint').length > 0),
      [MARK, paint],
      { timeout: LOAD_TIMEOUT_MS, polling: 50 },
    )
  } catch (err) {
    const shown = await page.evaluate(() => document.body.innerText.slice(0, 300)).catch(() => '(unreadable)')
    throw new Error(
      `${what}: no ${MARK} mark${paint ? ' and first contentful paint' : ''} within ${LOAD_TIMEOUT_MS / 1000} s (${err.message.split('\n')[0]}); the page shows: ${JSON.stringify(shown)}`,
      { cause: err },
    )
  }
}

/**
 * One page load in `context`: a new page at `url`, its mark and first contentful paint (ms from navigation
 * start), the rows of its main table and the API calls' durations; the page is closed after. Any answer
 * of 400 or more, or an uncaught error in the page, fails the load.
 */
async function loadOnce(context, url, what) {
  const page = await context.newPage()
  const problems = []
  page.on('response', (r) => r.status() >= 400 && problems.push(`${r.status()} from ${r.url()}`))
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
  try {
    await page.goto(url, { waitUntil: 'commit' })
    await waitForMark(page, what, { paint: true })
    const figures = await page.evaluate((name) => {
      const table = document.querySelector('main table')
      return {
        mark: performance.getEntriesByName(name)[0].startTime,
        fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
        rows: table ? table.querySelectorAll('tbody tr').length : 0,
        // Where the time went before the page's own work: the page's answer, then its scripts parsed and run.
        responseEnd: performance.getEntriesByType('navigation')[0]?.responseEnd ?? null,
        domContentLoaded: performance.getEntriesByType('navigation')[0]?.domContentLoadedEventEnd ?? null,
        api: performance
          .getEntriesByType('resource')
          .filter((r) => new URL(r.name).pathname.startsWith('/api/'))
          .map((r) => ({ path: new URL(r.name).pathname, start: r.startTime, ms: r.responseEnd - r.startTime })),
      }
    }, MARK)
    if (problems.length) throw new Error(`${what}: ${problems.join('; ')}`)
    return figures
  } finally {
    await page.close()
  }
}

/**
 * Signs in through the console's form in a new context with an empty cache, landing on `area`, and counts
 * every byte transferred from the first request to the area's table rendered and the network idle: the
 * first load. Returns the context (signed in; the samples use it) and the figures.
 */
async function firstLoad(browser, base, area) {
  const context = await browser.newContext({ viewport: VIEWPORT, locale: 'en-US', timezoneId: 'UTC' })
  const page = await context.newPage()
  const finished = []
  const failed = []
  let inFlight = 0
  let lastSettled = Date.now()
  const settled = () => {
    inFlight--
    lastSettled = Date.now()
  }
  page.on('request', () => inFlight++)
  page.on('requestfailed', settled)
  page.on('requestfinished', settled)
  page.on('requestfinished', (request) =>
    finished.push(
      (async () => {
        const [sizes, response] = await Promise.all([request.sizes(), request.response()])
        return {
          path: new URL(request.url()).pathname,
          status: response?.status(),
          encoding: (await response?.allHeaders())?.['content-encoding'] ?? 'identity',
          body: sizes.responseBodySize,
          headers: sizes.responseHeadersSize,
        }
      })(),
    ),
  )
  page.on('requestfailed', (request) => failed.push(`${request.url()}: ${request.failure()?.errorText}`))
  await page.goto(`${base}#/${area}`)
  await page.getByLabel('Email').fill(CONSOLE_ADMIN.email)
  await page.getByLabel('Password').fill(CONSOLE_ADMIN.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await waitForMark(page, `signing in on #/${area}`)
  // Idle: no request in flight for 500 ms (Playwright's 'networkidle' may already have been reached on the form).
  const deadline = Date.now() + LOAD_TIMEOUT_MS
  while (inFlight > 0 || Date.now() - lastSettled < 500) {
    if (Date.now() > deadline) throw new Error(`the first load of #/${area}: still ${inFlight} requests in flight after ${LOAD_TIMEOUT_MS / 1000} s`)
    await sleep(50)
  }
  await page.close()
  if (failed.length) throw new Error(`the first load of #/${area}: ${failed.join('; ')}`)
  const responses = await Promise.all(finished)
  // Without a cookie the refresh answers null (200): nothing on the way to the table is refused.
  const refused = responses.filter((r) => r.status >= 400)
  if (refused.length) throw new Error(`the first load of #/${area}: ${refused.map((r) => `${r.status} from ${r.path}`).join('; ')}`)
  const sum = (rows) => rows.reduce((total, r) => total + r.body + r.headers, 0)
  const isApi = (r) => r.path.startsWith('/api/')
  const bytes = sum(responses)
  return {
    context,
    transfer: {
      transferKB: Math.round((bytes / 1024) * 10) / 10,
      transferBytes: bytes,
      transferStaticBytes: sum(responses.filter((r) => !isApi(r))),
      transferApiBytes: sum(responses.filter(isApi)),
      transferRequests: responses.length,
      transferEncodings: [...new Set(responses.filter((r) => !isApi(r)).map((r) => r.encoding))].join(', '),
      transferResponses: responses.map((r) => `${r.path} ${r.status} ${r.encoding} ${r.body + r.headers}`),
    },
  }
}

function round1(x) {
  return Math.round(x * 10) / 10
}

function round3(x) {
  return Math.round(x * 1000) / 1000
}

function benchmark(area) {
  const { label, rows: rowsOk, rowsText, whenMissed } = AREAS[area]
  return {
    name: `console-${area}`,
    group: 'console',
    description:
      `The admin console's ${label} (/console/#/${area}) over ${USERS.toLocaleString('en-US')} users, \`gantry serve\`, in headless Chromium: the ${MARK} mark (table rows shown) and first contentful paint, ` +
      `vs a static page of the same bytes drawing a ${REFERENCE_ROWS}-row table, served by the same console code (mountConsole) in a process of its own ` +
      `(target: both within 1.5x the static page; first load, sign-in included, under 150 KB transferred).`,
    target: {
      ratio: 1.5,
      comparison: '<=',
      checks: [
        { label: 'FCP ratio', metric: 'fcpRatio', comparison: '<=', limit: 1.5 },
        { label: 'first load', metric: 'transferKB', comparison: '<', limit: 150, unit: 'KB' },
      ],
    },
    whenMissed,
    fullRunOnly: 'page loads in a real browser over 10^6 users take some 30 s a run, which the 4-minute quick run has no room for',
    pairs: { full: 10, quick: 3 },
    minPairs: 3,
    warmup: { full: 2, quick: 1 },
    async setup({ root }) {
      const executablePath = chromiumPath()
      let chromium
      try {
        ;({ chromium } = await import('playwright-core'))
      } catch (err) {
        throw Object.assign(new Error(`playwright-core does not load (${err.message}): it is a devDependency`), { notMeasurable: true })
      }
      expectMarkInBuild(root)
      const [{ server, ws }, ref] = await Promise.all([gantryConsoleServer(root), referenceServer(root)])
      const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_FLAGS, timeout: 30_000 })
      try {
        const base = `${server.url}/console/`
        const { context, transfer } = await firstLoad(browser, base, area)
        const fcp = { subject: [], reference: [] }
        const navigation = { subject: [], reference: [] }
        const api = []
        const side = (name, url, text) => ({
          label: text,
          async run({ warmup }) {
            const figures = await loadOnce(context, url, text)
            if (!(name === 'subject' ? rowsOk(figures.rows) : figures.rows === REFERENCE_ROWS))
              throw new Error(`${text}: the table had ${figures.rows} rows after the mark, not ${name === 'subject' ? rowsText : REFERENCE_ROWS}`)
            if (!warmup) {
              fcp[name].push(figures.fcp)
              navigation[name].push(figures)
              if (name === 'subject') api.push(figures.api)
            }
            return figures.mark
          },
        })
        return {
          subject: side('subject', `${base}#/${area}`, `gantry serve /console/#/${area} (${USERS.toLocaleString('en-US')} users): ${MARK}`),
          reference: side('reference', `${ref.server.url}/console/`, `static page of the same bytes (mountConsole): ${MARK}`),
          details: () => {
            // Per API path: the median of its duration in each sample, and of when it started.
            const paths = [...new Set(api.flat().map((call) => call.path))]
            const calls = Object.fromEntries(
              paths.map((path) => {
                const of = api.map((sample) => sample.find((call) => call.path === path)).filter(Boolean)
                return [path, { medianMs: round1(median(of.map((c) => c.ms))), medianStartMs: round1(median(of.map((c) => c.start))) }]
              }),
            )
            return {
              users: USERS,
              workspaceKept: ws.reused,
              subjectFcpMs: round1(median(fcp.subject)),
              referenceFcpMs: round1(median(fcp.reference)),
              fcpRatio: round3(median(fcp.subject) / median(fcp.reference)),
              subjectResponseEndMs: round1(median(navigation.subject.map((f) => f.responseEnd))),
              referenceResponseEndMs: round1(median(navigation.reference.map((f) => f.responseEnd))),
              subjectDomContentLoadedMs: round1(median(navigation.subject.map((f) => f.domContentLoaded))),
              referenceDomContentLoadedMs: round1(median(navigation.reference.map((f) => f.domContentLoaded))),
              ...transfer,
              consoleScriptBytes: ref.page.bytes.console,
              referenceScriptBytes: ref.page.bytes.reference,
              fcpSamplesMs: { subject: fcp.subject.map(round1), reference: fcp.reference.map(round1) },
              apiCalls: calls,
            }
          },
          cleanup: () => browser.close(),
        }
      } catch (err) {
        await browser.close()
        throw err
      }
    },
  }
}

export default [benchmark('overview'), benchmark('users')]
