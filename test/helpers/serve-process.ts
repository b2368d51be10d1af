/**
 * `gantry serve` as a real process, over a workspace made the way a user makes one (`gantry init --yes`,
 * `migrate latest`, `users create`). Its JSON log lines are parsed as they arrive; waits are bounded and
 * driven by those lines (or by a polled condition), never by a fixed sleep.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpRequest, type Agent, type IncomingHttpHeaders } from 'node:http'
import { join } from 'node:path'
import { expect } from 'chai'
import { BIN, cliEnv, PACKAGE_ROOT, runGantry, tempDir, type CliResult } from './cli.js'

/** The admin `createServeWorkspace` creates. */
export const ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple 1' } as const

/** The version every health answer carries: the package's. */
export const VERSION = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version

export interface ServeWorkspaceOptions {
  /** The development environment's database, passed as DATABASE_URL (default: init's SQLite file). */
  readonly databaseUrl?: string
  /** Merged into the development environment's `server` block (drainDelay, shutdownTimeout …). */
  readonly server?: Readonly<Record<string, unknown>>
  /** Merged into the development environment's `auth` block (algorithm …). */
  readonly auth?: Readonly<Record<string, unknown>>
  /**
   * Merged into the development environment itself (`webhooks`, `jobs` …): a block that is an object on both
   * sides is merged one level deep, anything else replaced.
   */
  readonly environment?: Readonly<Record<string, unknown>>
  /** Apply the migrations and create ADMIN (default); false leaves every migration pending. */
  readonly migrated?: boolean
}

export interface ServeWorkspace {
  readonly root: string
  /** What `gantry init` printed (createServeWorkspace's workspaces). */
  readonly init?: CliResult
  /** Variables every run in this workspace gets (DATABASE_URL). */
  readonly env: NodeJS.ProcessEnv
  gantry(args: readonly string[], input?: string): Promise<CliResult>
  cleanup(): void
}

/** `gantry init app --yes` in a temporary folder, adjusted by `options`. */
export async function createServeWorkspace(options: ServeWorkspaceOptions = {}): Promise<ServeWorkspace> {
  const dir = tempDir('gantry-serve-')
  const init = await runGantry(['init', 'app', '--yes', '--json'], { cwd: dir })
  expect(init.code, init.stderr).to.equal(0)
  const root = join(dir, 'app')
  const configPath = join(root, 'gantry.config.json')
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as { environments: Record<string, Record<string, unknown>> }
  const development = config.environments.development ?? {}
  if (options.databaseUrl) development.database = '${DATABASE_URL}'
  development.server = { ...(development.server as object), ...options.server }
  development.auth = { ...(development.auth as object), ...options.auth }
  for (const [key, value] of Object.entries(options.environment ?? {})) {
    const current = development[key]
    development[key] = isPlainObject(current) && isPlainObject(value) ? { ...current, ...value } : value
  }
  writeFileSync(configPath, JSON.stringify(config, null, 2))

  const env: NodeJS.ProcessEnv = options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}
  const gantry = (args: readonly string[], input?: string): Promise<CliResult> => runGantry(args, { cwd: root, env, input })
  if (options.migrated !== false) {
    const migrated = await gantry(['migrate', 'latest'])
    expect(migrated.code, migrated.stderr).to.equal(0)
    const created = await gantry(['users', 'create', '--email', ADMIN.email, '--role', 'admin', '--password-stdin'], ADMIN.password)
    expect(created.code, created.stderr).to.equal(0)
  }
  return { root, init, env, gantry, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** One JSON log line of the server. */
export type LogLine = Record<string, unknown> & { msg?: string; pid?: number; url?: string }

export interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  /** performance.now() when the process was seen to exit. */
  readonly at: number
}

export interface ServeProcess {
  readonly child: ChildProcess
  /** Every log line so far, parsed (stdout lines that are not JSON are kept as `{ raw }`). */
  readonly logs: readonly LogLine[]
  stderr(): string
  /** The first line from index `from` on that matches; rejects after `timeoutMs` or when the process exits first. */
  waitForLog(match: (line: LogLine) => boolean, options?: { from?: number; timeoutMs?: number }): Promise<LogLine>
  /** Resolves when the process has exited. */
  readonly exited: Promise<Exit>
}

const running = new Set<ChildProcess>()

/** Starts `gantry serve --port 0 ARGS` in the workspace. */
export function startServe(workspace: ServeWorkspace, args: readonly string[] = []): ServeProcess {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], {
    cwd: workspace.root,
    env: cliEnv(workspace.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.add(child)
  const logs: LogLine[] = []
  const waiters = new Set<() => void>()
  let stderr = ''
  let pending = ''
  let exit: Exit | undefined
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines.filter((l) => l.trim() !== '')) logs.push(parseLine(line))
    for (const wake of waiters) wake()
  })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const exited = new Promise<Exit>((resolve) => {
    child.once('close', (code, signal) => {
      running.delete(child)
      exit = { code, signal, at: performance.now() }
      resolve(exit)
      for (const wake of waiters) wake()
    })
  })

  return {
    child,
    logs,
    stderr: () => stderr,
    exited,
    waitForLog(match, options = {}) {
      const timeoutMs = options.timeoutMs ?? 20_000
      return new Promise<LogLine>((resolve, reject) => {
        const check = (): void => {
          const found = logs.slice(options.from ?? 0).find(match)
          if (found) return done(() => resolve(found))
          if (exit) return done(() => reject(new Error(`serve exited (${exit?.code ?? exit?.signal}) before the awaited log line\n${describe()}`)))
        }
        const timer = setTimeout(() => done(() => reject(new Error(`no awaited log line within ${timeoutMs} ms\n${describe()}`))), timeoutMs)
        const done = (settle: () => void): void => {
          clearTimeout(timer)
          waiters.delete(check)
          settle()
        }
        waiters.add(check)
        check()
      })
    },
  }

  function describe(): string {
    return `stdout:\n${logs.map((l) => JSON.stringify(l)).join('\n')}\nstderr:\n${stderr}`
  }
}

function parseLine(line: string): LogLine {
  try {
    return JSON.parse(line) as LogLine
  } catch {
    return { raw: line }
  }
}

/** The URL of the first 'listening' line (from index `from` on). */
export async function listeningUrl(serve: ServeProcess, from = 0): Promise<string> {
  const line = await serve.waitForLog((l) => l.msg === 'listening', { from })
  return String(line.url)
}

/** Sends SIGTERM and waits for the exit (bounded); `afterMs` is how long the exit took. */
export async function stopServe(serve: ServeProcess, timeoutMs = 20_000): Promise<Exit & { afterMs: number }> {
  const signalledAt = performance.now()
  serve.child.kill('SIGTERM')
  const exit = await within(serve.exited, timeoutMs, 'serve did not exit after SIGTERM')
  return { ...exit, afterMs: exit.at - signalledAt }
}

/** Kills whatever a test left running (afterEach). */
export function killLeftovers(): void {
  for (const child of running) child.kill('SIGKILL')
}

/** `work`, or a rejection naming `what` after `timeoutMs`. */
export async function within<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${timeoutMs} ms`)), timeoutMs)))
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Polls `probe` every `intervalMs` until it returns a value other than undefined; bounded by `timeoutMs`. */
export async function until<T>(probe: () => Promise<T | undefined>, what: string, options: { timeoutMs?: number; intervalMs?: number } = {}): Promise<T> {
  const deadline = performance.now() + (options.timeoutMs ?? 10_000)
  for (;;) {
    const value = await probe().catch(() => undefined)
    if (value !== undefined) return value
    if (performance.now() > deadline) throw new Error(`${what}: not within ${options.timeoutMs ?? 10_000} ms`)
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50))
  }
}

export interface HttpAnswer {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

/**
 * One HTTP request on its own connection (or `agent`'s); the whole body read; `signal` aborts it.
 * `localAddress` (127.0.0.2 …) makes the request come from another loopback address: another client, to
 * the server's per-address rules.
 */
export function http(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; agent?: Agent; signal?: AbortSignal; localAddress?: string } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: options.agent ?? false, signal: options.signal, localAddress: options.localAddress },
      (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
        res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
        res.once('error', reject)
      },
    )
    req.once('error', reject)
    req.end(options.body)
  })
}

/** POST a JSON body. */
export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return http(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
}
