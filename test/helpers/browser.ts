/**
 * Tests in a real browser: Debian's `chromium` (scripts/browser.sh installs it; .ci/run calls that) driven
 * by playwright-core, which never downloads a browser of its own here: it is handed the executable. Each
 * launch gets a fresh, throw-away profile (Playwright's --user-data-dir under the temporary folder, removed
 * on close), so nothing carries over from one run to the next.
 *
 *   let browser: Browser | undefined
 *   before(async function () {
 *     browser = await launchBrowser(requireBrowser(this))
 *   })
 *   after(() => closeBrowser(browser))
 *   it('…', async () => {
 *     const { page, problems } = await openPage(browser!, { width: 1280, height: 800 })
 *     await page.goto(url)
 *     expect(await runAxe(page)).to.deep.equal([])
 *     expect(problems).to.deep.equal([])
 *   })
 *
 * Nothing here loosens the page's Content-Security-Policy (no bypassCSP, no injected <script> tags): axe
 * and the CSP listener go in through the DevTools protocol, which the page's policy does not govern.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import type { AxeResults, RunOptions } from 'axe-core'
import { executable } from './binaries.js'
import { pendingUnlessCi } from './services.js'

/** Debian's package puts its launcher here; GANTRY_CHROMIUM names another executable. */
export const DEFAULT_CHROMIUM = '/usr/bin/chromium'

/**
 * The flags this machine needs on top of Playwright's own: no sandbox (CI runs as root), no GPU, and none of
 * Chromium's calls home (its background connections are refused by the closed network, and QUIC too). In a
 * JSON file the console benchmark (plain ESM, which cannot import this TypeScript) reads too.
 */
export const CHROMIUM_FLAGS: readonly string[] = JSON.parse(
  readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'chromium-flags.json'), 'utf8'),
) as string[]

const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
/** Where screenshot() writes, always (git-ignored). */
export const SCREENSHOT_DIR = join(PACKAGE_ROOT, 'test-artifacts', 'console')

/** The browser to drive: GANTRY_CHROMIUM when set, else /usr/bin/chromium; undefined when it is not there. */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const path = env.GANTRY_CHROMIUM || DEFAULT_CHROMIUM
  return executable(path) ? path : undefined
}

/**
 * The browser's path, or (it is missing) the test pending with the reason, or under CI=true a failure:
 * call it in before() and hand the result to launchBrowser().
 */
export function requireBrowser(ctx: Mocha.Context): string {
  const path = chromiumPath()
  if (path !== undefined) return path
  const wanted = process.env.GANTRY_CHROMIUM
  pendingUnlessCi(
    ctx,
    wanted
      ? `no browser at GANTRY_CHROMIUM=${wanted} (missing or not executable)`
      : `chromium is not installed (${DEFAULT_CHROMIUM} missing): bash scripts/browser.sh (or apt-get install chromium), or set GANTRY_CHROMIUM`,
  )
}

/** The launched browser's own PID, to kill its process group if it will not close. */
const browserPids = new WeakMap<Browser, number>()

/** Launches headless Chromium (a fresh profile each time); close it with closeBrowser() in after(). */
export async function launchBrowser(executablePath: string | undefined = chromiumPath()): Promise<Browser> {
  if (executablePath === undefined) throw new Error(`no browser: ${DEFAULT_CHROMIUM} is missing and GANTRY_CHROMIUM is unset (bash scripts/browser.sh)`)
  const browser = await chromium.launch({ executablePath, headless: true, args: [...CHROMIUM_FLAGS], timeout: 30_000 })
  try {
    const cdp = await browser.newBrowserCDPSession()
    const { processInfo } = (await cdp.send('SystemInfo.getProcessInfo')) as { processInfo: { type: string; id: number }[] }
    const pid = processInfo.find((p) => p.type === 'browser')?.id
    if (pid) browserPids.set(browser, pid)
    await cdp.detach()
  } catch {
    // Without the PID closeBrowser() relies on Playwright alone (it also kills the browser at exit).
  }
  return browser
}

function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'timeout'>((done) => {
    timer = setTimeout(() => done('timeout'), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/**
 * Closes every context and the browser, for after(); undefined (the suite was skipped) is fine. When the
 * browser does not close within 10 s its process group is killed, so no Chromium outlives the run.
 */
export async function closeBrowser(browser: Browser | undefined): Promise<void> {
  if (!browser) return
  const closing = (async () => {
    await Promise.allSettled(browser.contexts().map((context) => context.close()))
    await browser.close()
  })()
  const outcome = await within(closing, 10_000).catch((err: unknown) => err)
  if (outcome === undefined) return
  const pid = browserPids.get(browser)
  if (pid) {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
  if (outcome !== 'timeout') throw outcome
}

export interface PageOptions {
  readonly width: number
  readonly height: number
  readonly colorScheme?: 'light' | 'dark' | 'no-preference'
}

export interface RecordedPage {
  readonly context: BrowserContext
  readonly page: Page
  /**
   * What went wrong in the page, as it happens, one line each: `console.error: …`, `console.warning: …`,
   * `csp: …` (a securitypolicyviolation event; Chromium also logs it as a console error, in 156 "Executing
   * inline script violates the following Content Security Policy directive …", in older ones "Refused to …"),
   * `pageerror: …` (an uncaught exception). A clean page leaves it empty.
   */
  readonly problems: string[]
  close(): Promise<void>
}

const CSP_BINDING = '__gantryCspViolation'

/**
 * Runs in every document before its own scripts (CDP's addScriptToEvaluateOnNewDocument, which the page's
 * CSP does not govern) and reports each securitypolicyviolation event through the binding.
 */
const CSP_LISTENER = `(() => {
  const report = globalThis[${JSON.stringify(CSP_BINDING)}]
  if (typeof report !== 'function') return
  document.addEventListener('securitypolicyviolation', (event) => {
    const where = event.sourceFile ? ' at ' + event.sourceFile + ':' + event.lineNumber + ':' + event.columnNumber : ''
    const sample = event.sample ? ' (' + JSON.stringify(event.sample) + ')' : ''
    report(event.effectiveDirective + ' blocked ' + (event.blockedURI || '(none)') + where + sample + ' [' + event.disposition + '] on ' + document.location.href)
  }, true)
})()`

/**
 * A new context (its own cookies and storage) and page of the given size, recording console errors and
 * warnings, CSP violations and uncaught exceptions into `problems`. Locale en-US and time zone UTC, so
 * screenshots do not depend on the machine.
 */
export async function openPage(browser: Browser, options: PageOptions): Promise<RecordedPage> {
  const context = await browser.newContext({
    viewport: { width: options.width, height: options.height },
    deviceScaleFactor: 1,
    colorScheme: options.colorScheme ?? 'light',
    locale: 'en-US',
    timezoneId: 'UTC',
  })
  const problems: string[] = []
  await context.exposeBinding(CSP_BINDING, (_source, line: unknown) => {
    problems.push(`csp: ${String(line)}`)
  })
  await context.addInitScript({ content: CSP_LISTENER })
  const page = await context.newPage()
  page.on('console', (message) => {
    const type = message.type()
    if (type !== 'error' && type !== 'warning') return
    const { url, lineNumber } = message.location()
    problems.push(`console.${type}: ${message.text()}${url ? ` (${url}:${lineNumber})` : ''}`)
  })
  page.on('pageerror', (error) => {
    problems.push(`pageerror: ${error.stack ?? `${error.name}: ${error.message}`}`)
  })
  return { context, page, problems, close: () => context.close() }
}

export interface AxeOptions {
  /** Only this part of the page (a CSS selector); the whole document by default. */
  readonly include?: string
  /** Rule ids not to run, each with a reason in the test. */
  readonly disableRules?: readonly string[]
}

/** The rule sets checked: WCAG 2.0/2.1/2.2 A and AA, and axe's best practices. */
export const AXE_TAGS: readonly string[] = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']
/** Only these impacts fail a test; minor and moderate findings are for review, not for CI. */
export const AXE_IMPACTS: readonly string[] = ['serious', 'critical']

let axeSource: string | undefined
function axeScript(): string {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
  return axeSource
}

const MAX_TARGETS = 5

/**
 * axe-core's serious and critical violations on the page, one line each: rule id, impact, help, the
 * selectors of the elements (the first five) and the rule's documentation. Empty when clean, so
 * `expect(await runAxe(page)).to.deep.equal([])` prints what to fix when it fails. axe goes into every frame
 * through the DevTools protocol (page.evaluate), which the page's CSP does not govern: nothing is relaxed.
 */
export async function runAxe(page: Page, options: AxeOptions = {}): Promise<string[]> {
  const source = axeScript()
  for (const frame of page.frames()) {
    // Once per document: a second run on the same page skips the ~0.5 s of parsing axe again.
    if ((await frame.evaluate("typeof axe === 'object' && typeof axe.run === 'function'")) !== true) await frame.evaluate(source)
  }
  const runOptions: RunOptions = {
    runOnly: { type: 'tag', values: [...AXE_TAGS] },
    resultTypes: ['violations'],
    rules: Object.fromEntries((options.disableRules ?? []).map((id) => [id, { enabled: false }])),
  }
  // A string, not a function: the project's type library has no DOM (`axe` and `document` are the page's).
  const results = (await page.evaluate(
    `axe.run(${options.include ? `document.querySelector(${JSON.stringify(options.include)})` : 'document'}, ${JSON.stringify(runOptions)})`,
  )) as AxeResults
  return results.violations
    .filter((violation) => AXE_IMPACTS.includes(violation.impact ?? ''))
    .map((violation) => {
      const targets = violation.nodes.map((node) => node.target.map((part) => (Array.isArray(part) ? part.join(' >>> ') : String(part))).join(' → '))
      const shown = targets.slice(0, MAX_TARGETS).join(', ') + (targets.length > MAX_TARGETS ? ` and ${targets.length - MAX_TARGETS} more` : '')
      return `${violation.id} (${violation.impact}): ${violation.help} — ${shown} — ${violation.helpUrl}`
    })
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

/**
 * Saves a PNG of the page's viewport (or all of it: fullPage) as test-artifacts/console/NAME.png, and also
 * in the folder GANTRY_CONSOLE_SCREENSHOTS names (to refresh the committed copies in docs/console/).
 * Animations are stopped and the caret hidden, so the same page gives the same picture. Returns the paths.
 */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<string[]> {
  if (!NAME.test(name)) throw new Error(`screenshot name ${JSON.stringify(name)}: letters, digits, '.', '_' and '-' only`)
  const png = await page.screenshot({ type: 'png', animations: 'disabled', caret: 'hide', scale: 'css', fullPage: options.fullPage ?? false })
  const folders = [SCREENSHOT_DIR]
  const extra = process.env.GANTRY_CONSOLE_SCREENSHOTS
  if (extra) folders.push(resolve(extra))
  return folders.map((folder) => {
    mkdirSync(folder, { recursive: true })
    const path = join(folder, `${name}.png`)
    writeFileSync(path, png)
    return path
  })
}
