import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
/** The built CLI: e2e tests drive what users run. `npm test` builds before the suites. */
export const BIN = join(PACKAGE_ROOT, 'bin', 'run.js')

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Environment for child runs: no colours, no TTY assumptions, no inherited Gantry selection. */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', OCLIF_SKIP_NEW_VERSION_CHECK: 'true' }
  for (const inherited of ['GANTRY_ENV', 'GANTRY_ACTOR', 'FORCE_COLOR', 'DATABASE_URL', 'REDIS_URL']) delete env[inherited]
  Object.assign(env, extra)
  for (const [k, v] of Object.entries(extra)) if (v === undefined) delete env[k]
  return env
}

/** Runs `gantry ARGS` to completion. */
export function runGantry(args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv; input?: string }): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: options.cwd, env: cliEnv(options.env), maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        resolvePromise({ code, stdout, stderr })
      },
    )
    child.stdin?.end(options.input ?? '')
  })
}

/** Starts `gantry ARGS` without waiting, for concurrency and kill tests. */
export function spawnGantry(args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: cliEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] })
}

/** Parses the one JSON document a --json run prints on stdout. */
export function parseJson<T = Record<string, unknown>>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${result.code}):\n${result.stdout}\nstderr:\n${result.stderr}`)
  }
}

/** A fresh temporary folder. */
export function tempDir(prefix = 'gantry-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

/**
 * Writes `folder`/gantry, a script running this checkout's built CLI, and returns `folder`: put it first
 * on PATH and `gantry` means what a user gets from `npm install -g` or node_modules/.bin.
 */
export function gantryOnPath(folder: string): string {
  mkdirSync(folder, { recursive: true })
  writeFileSync(join(folder, 'gantry'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`)
  chmodSync(join(folder, 'gantry'), 0o755)
  return folder
}

/** Runs `script` with `bash -e` (as a CI step runs), stdin closed, in `cwd` with exactly `env`, to completion. */
export function runBash(script: string, options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn('bash', ['-e', '-c', script], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.once('close', (code) => resolvePromise({ code, stdout, stderr }))
  })
}
