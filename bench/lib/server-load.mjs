/**
 * Load benchmarks of HTTP servers: every server (Gantry or a reference) runs as a child process of its own,
 * with stdout — its JSON log — going to /dev/null, and the load comes from one more child process running
 * autocannon (lib/server-loadgen.mjs). The bench process itself only sends commands and reads the figures,
 * so neither the servers nor the generator share an event loop with anything else.
 *
 * Servers and the generator are started once per run and shared by every benchmark of the group (a server
 * start is seconds); they are stopped when the bench process exits (or is interrupted).
 */
import { fork, spawn, spawnSync } from 'node:child_process'
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { benchEnv, median } from './measure.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const children = new Set()

/** Stops every child this module started (its whole process group: a clustered server has workers). */
function stopAll() {
  for (const child of children) {
    try {
      process.kill(-child.pid, 'SIGTERM')
    } catch {
      // already gone
    }
  }
  children.clear()
}
process.once('exit', stopAll)
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    stopAll()
    process.exit(130)
  })
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** One GET on a fresh connection (no keep-alive kept by this process): status, headers and body text. */
export function httpGet(url, headers = {}) {
  return httpRequest(url, { headers })
}

/** One request on a fresh connection: status, headers and body text. */
export function httpRequest(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false, timeout: 5000 }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }))
    })
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)))
    req.on('error', reject)
    req.end(body)
  })
}

const running = new Map()

/**
 * Starts `node ...args` as a server on 127.0.0.1:`port` (once per `key` and run), its stdout to /dev/null
 * and its stderr to `stderrFile`, and waits until GET `probe` (with `probeHeaders`) answers 200. Rejects
 * with the stderr tail when the process exits first or is not up within `timeoutMs`.
 */
export function startServer({ key, ...spec }) {
  if (!running.has(key)) {
    const started = launch(spec)
    running.set(key, started)
    started.catch(() => running.delete(key))
  }
  return running.get(key)
}

async function launch({ label, args, cwd, env, port, stderrFile, probe = '/api/health', probeHeaders = {}, timeoutMs = 30_000 }) {
  const errFd = openSync(stderrFile, 'w')
  // detached: its own process group, so stopAll reaches a clustered server's workers too.
  const child = spawn(process.execPath, args, { cwd, env: env ?? benchEnv(), stdio: ['ignore', 'ignore', errFd], detached: true })
  closeSync(errFd)
  children.add(child)
  child.unref()
  let exited = null
  child.once('exit', (code, signal) => {
    exited = { code, signal }
    children.delete(child)
  })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + timeoutMs
  const tail = () =>
    readFileSync(stderrFile, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .slice(-8)
      .join('\n')
  for (;;) {
    if (exited) throw new Error(`${label} exited (${exited.code ?? exited.signal}) before answering: ${tail() || '(no output on stderr)'}`)
    const answer = await httpGet(`${url}${probe}`, probeHeaders).catch(() => null)
    if (answer?.status === 200) break
    if (Date.now() > deadline) {
      stop(child)
      throw new Error(`${label} did not answer GET ${probe} with 200 within ${timeoutMs / 1000} s (last: ${answer ? answer.status : 'no answer'}): ${tail()}`)
    }
    await sleep(100)
  }
  return { label, url, pid: child.pid, stop: () => stop(child) }
}

function stop(child) {
  children.delete(child)
  try {
    process.kill(-child.pid, 'SIGTERM')
  } catch {
    // already gone
  }
}

/**
 * A generator child (forked once per run, stopped with the other children): `send(message)` resolves with
 * its answer to that message (`{ id, result | error }` over IPC). Referenced only while a call is in flight,
 * so an idle generator does not keep the bench process alive.
 */
export function forkGenerator(file, label) {
  const child = fork(join(here, file), [], { env: benchEnv(), execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'], detached: true })
  children.add(child)
  const pending = new Map()
  let next = 0
  const idle = () => {
    if (pending.size === 0) {
      child.unref()
      child.channel?.unref()
    }
  }
  child.on('message', ({ id, result, error }) => {
    const waiting = pending.get(id)
    pending.delete(id)
    idle()
    if (error) waiting?.reject(new Error(`${label}: ${error}`))
    else waiting?.resolve(result)
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.once('exit', (code, signal) => {
    children.delete(child)
    for (const waiting of pending.values()) waiting.reject(new Error(`${label} exited (${code ?? signal})`))
    pending.clear()
  })
  idle()
  return {
    exited,
    send(message) {
      return new Promise((resolve, reject) => {
        const id = next++
        pending.set(id, { resolve, reject })
        child.ref()
        child.channel?.ref()
        child.send({ id, ...message })
      })
    },
  }
}

let generator

/**
 * The autocannon child: `run(options, seconds, rampSeconds)` is one run there, its figures taken over
 * `seconds` of steady state after a ramp-up of at most `rampSeconds` (lib/server-loadgen.mjs).
 */
export function loadGenerator() {
  if (generator) return generator
  const child = forkGenerator('server-loadgen.mjs', 'autocannon')
  void child.exited.then(() => (generator = undefined))
  generator = { run: (options, seconds, rampSeconds) => child.send({ options, seconds, rampSeconds }) }
  return generator
}

let ticksPerSecond

/**
 * CPU time (user + system, in ms) used so far by the live processes of process group `pgid` — a server and,
 * clustered, its workers — read from /proc (null off Linux). Unlike req/s, CPU per request hardly moves when
 * other work on the machine takes cores away, so it says whether a gap is real.
 */
export function groupCpuMs(pgid) {
  if (process.platform !== 'linux' || !pgid) return null
  ticksPerSecond ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100
  let ticks = 0
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let stat
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
    } catch {
      continue // gone meanwhile
    }
    // After "pid (comm) ": state, ppid, pgrp, … utime and stime are fields 14 and 15 of the line.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (Number(fields[2]) === pgid) ticks += Number(fields[11]) + Number(fields[12])
  }
  return (ticks * 1000) / ticksPerSecond
}

/**
 * One side of a load benchmark: each run is `method` (GET) `url` (with `body`) over `connections` keep-alive connections, measured
 * for `durationS` seconds once every connection has had its first answer (or after `rampS` at most), and
 * yields the answers per second in that window. Any error, timeout or non-2xx answer in the whole run fails the benchmark: a 401 or 429
 * answered fast would otherwise pass for throughput. Latencies of the measured
 * (not warm-up) runs are kept in `runs`, with the server's CPU time per request when `pid` (the server's
 * process group) is given.
 */
export function loadSide({ label, url, method = 'GET', body, headers = {}, connections, durationS, rampS, pid }) {
  const runs = []
  return {
    label,
    runs,
    async run({ warmup } = {}) {
      const cpuBefore = groupCpuMs(pid)
      const r = await loadGenerator().run({ url, method, ...(body === undefined ? {} : { body }), headers, connections }, durationS, rampS)
      const cpuAfter = groupCpuMs(pid)
      if (cpuBefore !== null && cpuAfter !== null) r.cpuUsPerRequest = ((cpuAfter - cpuBefore) * 1000) / r.requests
      const bad = r.non2xx + r.errors + r.timeouts
      if (bad > 0 || r.ok !== r.requests || r.windowRequests === 0) {
        const codes = Object.entries(r.statusCodes ?? {})
          .map(([code, { count }]) => `${code}: ${count}`)
          .join(', ')
        throw new Error(
          `${label}: ${r.non2xx} non-2xx answers, ${r.errors} errors, ${r.timeouts} timeouts out of ${r.requests} (status codes ${codes || 'none'}) at ${connections} connections — no figure is recorded`,
        )
      }
      if (!warmup) runs.push(r)
      return r.reqPerS
    },
  }
}

/** The latency figures details() keeps for the sides of a load benchmark (medians over the measured runs). */
export function latencyDetails(sides, { connections, durationS }) {
  const details = { connections, runSeconds: durationS }
  const round = (x) => Math.round(x * 100) / 100
  for (const [name, side] of Object.entries(sides)) {
    if (!side) continue
    details[`${name}P50Ms`] = round(median(side.runs.map((r) => r.p50Ms)))
    details[`${name}P99Ms`] = round(median(side.runs.map((r) => r.p99Ms)))
    details[`${name}WorstP99Ms`] = round(Math.max(...side.runs.map((r) => r.p99Ms)))
    details[`${name}Requests`] = side.runs.reduce((sum, r) => sum + r.windowRequests, 0)
    details[`${name}RampMs`] = Math.round(median(side.runs.map((r) => r.rampMs)))
    details[`${name}ActiveConnections`] = Math.round(median(side.runs.map((r) => r.activeConnections)))
    if (side.runs.every((r) => typeof r.cpuUsPerRequest === 'number'))
      details[`${name}CpuUsPerRequest`] = Math.round(median(side.runs.map((r) => r.cpuUsPerRequest)))
  }
  details.runs = Object.fromEntries(
    Object.entries(sides)
      .filter(([, side]) => side)
      .map(([name, side]) => [
        name,
        side.runs.map((r) => ({
          reqPerS: Math.round(r.reqPerS),
          rampMs: r.rampMs,
          activeConnections: r.activeConnections,
          p50Ms: r.p50Ms,
          p99Ms: r.p99Ms,
          maxMs: r.maxMs,
          cpuUsPerRequest: r.cpuUsPerRequest === undefined ? null : Math.round(r.cpuUsPerRequest),
        })),
      ]),
  )
  return details
}
