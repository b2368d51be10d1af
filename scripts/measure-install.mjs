#!/usr/bin/env node
/**
 * `npm run measure:install`: how long a newcomer waits on this machine from `git clone` to a healthy demo
 * server: clone this checkout's HEAD into a temporary folder, `npm ci` there (with npm_config_nodedir=/usr
 * unless it is set, as the README's Install section advises), then `npm run demo` (build, scaffold, migrate,
 * first admin, `gantry serve`) until GET /api/health answers pass. Twice: with an empty npm cache, then with
 * the cache the first run filled. Report-only and single-shot (no reference, no ratio, not part of
 * `npm run bench`): writes bench/results/install.json and prints a table. The temporary folders and the demo
 * server go away whatever happens; a failure is one line on stderr and exit 1.
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { get } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { clearTimeout, setTimeout } from 'node:timers'
import { fileURLToPath } from 'node:url'
import { machineInfo } from '../bench/lib/machine.mjs'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const RESULT = join(ROOT, 'bench', 'results', 'install.json')
/** What a newcomer should wait at most, clone to healthy server. */
const TARGET_S = 90
/** Bounds of each phase: far above a normal run, so that only a hung one trips them. */
const LIMIT_MS = { clone: 120_000, npmCi: 900_000, demo: 600_000, stop: 15_000, probe: 1_000 }
/** How often health is asked while the demo starts. */
const POLL_MS = 100
/** Output lines kept from a phase, for the one line that says why it failed. */
const TAIL_LINES = 20

/** Children started and not yet gone (each leads its own process group), stopped on any way out. */
const live = new Set()

/** Signals `child`'s whole process group (npm, its shell, the server); false when it is already gone. */
function signalGroup(child, signal) {
  try {
    process.kill(-child.pid, signal)
    return true
  } catch {
    return false
  }
}

/**
 * Starts `command` in its own process group (so the demo's server is stopped with the npm that started
 * it), its output kept as a tail. `closed` resolves with the exit code once every process holding its
 * output has exited (the server included).
 */
function start(command, args, options) {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  live.add(child)
  const tail = []
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8').on('data', (chunk) => {
      tail.push(...chunk.split('\n').filter((line) => line.trim() !== ''))
      tail.splice(0, Math.max(0, tail.length - TAIL_LINES))
    })
  }
  const closed = new Promise((resolve) => {
    child.once('error', (err) => {
      tail.push(err.message)
      resolve(-1)
    })
    child.once('close', (code, signal) => {
      live.delete(child)
      resolve(code ?? (signal ? `signal ${signal}` : -1))
    })
  })
  return { child, closed, lastLine: () => tail.at(-1) ?? '(no output)' }
}

/** `promise`, or `onTimeout()` after `ms`. */
async function within(promise, ms, onTimeout) {
  let timer
  const timeout = new Promise((resolve) => (timer = setTimeout(() => resolve(onTimeout()), ms)))
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Runs one phase to its end; its seconds, or an error naming the phase and its last output line. */
async function phase(what, command, args, options) {
  const started = performance.now()
  const run = start(command, args, options)
  const code = await within(run.closed, options.limitMs, () => {
    signalGroup(run.child, 'SIGKILL')
    return `timeout (${options.limitMs / 1000} s)`
  })
  const seconds = (performance.now() - started) / 1000
  if (code !== 0) throw new Error(`${what} failed (${typeof code === 'number' ? `exit ${code}` : code}) after ${seconds.toFixed(1)} s: ${run.lastLine()}`)
  return seconds
}

/** A port nobody listens on now (the demo binds it a minute later: another process could take it, rarely). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** Whether GET /api/health answers 200 with status pass (false while nothing listens or it is not up yet). */
function healthy(port) {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/api/health', timeout: LIMIT_MS.probe }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (chunk) => (body += chunk))
      res.once('end', () => {
        try {
          resolve(res.statusCode === 200 && JSON.parse(body).status === 'pass')
        } catch {
          resolve(false)
        }
      })
      res.once('error', () => resolve(false))
    })
    req.once('timeout', () => req.destroy())
    req.once('error', () => resolve(false))
  })
}

/** `npm run demo` until its server is healthy: the seconds it took. The server is stopped before this returns. */
async function demoToHealthy(clone, env) {
  const port = await freePort()
  const started = performance.now()
  const demo = start('npm', ['run', 'demo'], { cwd: clone, env: { ...env, GANTRY_DEMO_DIR: join(clone, '.demo'), PORT: String(port) } })
  let exited = false
  void demo.closed.then(() => (exited = true))
  try {
    const deadline = started + LIMIT_MS.demo
    while (!(await healthy(port))) {
      if (exited) throw new Error(`npm run demo ended (exit ${await demo.closed}) before the server was healthy: ${demo.lastLine()}`)
      if (performance.now() > deadline) throw new Error(`npm run demo: no healthy answer on port ${port} within ${LIMIT_MS.demo / 1000} s: ${demo.lastLine()}`)
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
    }
    return (performance.now() - started) / 1000
  } finally {
    await stop(demo)
  }
}

/** SIGINT to the demo's group (the server drains and exits), SIGKILL if it is still there after LIMIT_MS.stop. */
async function stop(run) {
  if (!signalGroup(run.child, 'SIGINT')) return
  await within(run.closed, LIMIT_MS.stop, () => signalGroup(run.child, 'SIGKILL'))
  await run.closed
}

/**
 * The environment of every phase: this process's, without what `npm run` says about this package and
 * script (the clone is its own package), with the cache under test and the README's nodedir default.
 */
function phaseEnv(cache) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_(lifecycle_|package_|command$|config_local_prefix$)/.test(name)))
  return { ...env, npm_config_cache: cache, npm_config_nodedir: process.env.npm_config_nodedir ?? '/usr' }
}

/** One clone → npm ci → healthy demo, in a folder of its own under `work`. */
async function measure(work, label, cache, commit) {
  const clone = join(work, `clone-${label}`)
  const env = phaseEnv(cache)
  const progress = (what) => process.stderr.write(`[${label} cache] ${what}\n`)
  progress(`git clone (${commit.slice(0, 7)})`)
  // --no-local: objects go through git's transport, as from a server, instead of being hard-linked.
  const cloneS =
    (await phase('git clone', 'git', ['clone', '--quiet', '--no-local', '--no-checkout', ROOT, clone], { cwd: work, env, limitMs: LIMIT_MS.clone })) +
    (await phase('git checkout', 'git', ['checkout', '--quiet', '--detach', commit], { cwd: clone, env, limitMs: LIMIT_MS.clone }))
  progress('npm ci')
  const npmCiS = await phase('npm ci', 'npm', ['ci'], { cwd: clone, env, limitMs: LIMIT_MS.npmCi })
  progress('npm run demo, until GET /api/health passes')
  const demoS = await demoToHealthy(clone, env)
  rmSync(clone, { recursive: true, force: true })
  const round = (s) => Math.round(s * 10) / 10
  // The phases run back to back; the server's stop after it was healthy is not part of the wait.
  return { cache: label, cloneS: round(cloneS), npmCiS: round(npmCiS), demoToHealthyS: round(demoS), totalS: round(cloneS + npmCiS + demoS) }
}

/** The runs as a short table. */
function table(runs) {
  const rows = [
    ['cache', 'clone', 'npm ci', 'demo → healthy', 'total'],
    ...runs.map((r) => [r.cache, ...[r.cloneS, r.npmCiS, r.demoToHealthyS, r.totalS].map((s) => `${s.toFixed(1)} s`)]),
  ]
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)))
  return rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('   ')).join('\n')
}

async function main() {
  const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
  if (execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '') {
    process.stderr.write(`Note: uncommitted changes are not measured; the clone is HEAD (${commit.slice(0, 7)}).\n`)
  }
  const { cores, cpuModel, memoryGiB, node, loadAverage } = machineInfo()
  const work = mkdtempSync(join(tmpdir(), 'gantry-measure-install-'))
  const cleanUp = () => {
    for (const child of live) signalGroup(child, 'SIGKILL')
    rmSync(work, { recursive: true, force: true })
  }
  // Interrupted (Ctrl-C, a CI timeout): the server and the folders go too.
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      cleanUp()
      process.stderr.write(`measure:install: interrupted (${signal}); nothing written.\n`)
      process.exit(1)
    })
  }
  try {
    const cache = join(work, 'npm-cache')
    mkdirSync(cache)
    const npm = execFileSync('npm', ['--version'], { cwd: work, env: phaseEnv(cache), encoding: 'utf8' }).trim()
    // The second run finds the cache the first one filled: empty, then warm.
    const runs = [await measure(work, 'empty', cache, commit), await measure(work, 'warm', cache, commit)]
    const result = {
      measuredAt: new Date().toISOString(),
      commit,
      machine: { cpus: cores, cpuModel, memoryGiB, node, npm, loadAverage },
      runs,
      targetS: TARGET_S,
      note:
        `One run each on this machine (load average ${loadAverage.join(', ')} at the start, ${cores} CPUs): git clone --no-local of HEAD (no network), ` +
        `npm ci from the registry with npm_config_nodedir=${phaseEnv(cache).npm_config_nodedir} (its cache empty, then the same cache again), ` +
        'npm run demo until GET /api/health passes. Report-only: not part of npm run bench.',
    }
    mkdirSync(dirname(RESULT), { recursive: true })
    writeFileSync(RESULT, `${JSON.stringify(result, null, 2)}\n`)
    process.stdout.write(`${table(runs)}\ntarget: ${TARGET_S} s clone to healthy; written to ${relative(process.cwd(), RESULT)}\n`)
  } finally {
    cleanUp()
  }
}

main().catch((err) => {
  process.stderr.write(`measure:install: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
