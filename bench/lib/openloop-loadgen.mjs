/**
 * An open-loop load generator, a child process of its own (forked by lib/openloop-load.mjs and kept for the
 * whole run): each IPC message { id, url, rate, seconds, warmupSeconds } is one run of GET `url` sent on a
 * fixed schedule — request k at start + k / rate — whether or not earlier ones have been answered (unlike
 * autocannon's `overallRate`, which is closed-loop per connection: each connection sends its share of a
 * second back to back, then pauses until the next second). The first `warmupSeconds` of a run go out on the
 * same schedule but are not recorded (connections re-used, JIT warm). The answer { id, result } carries the
 * latency quantiles of the recorded requests, or { id, error }.
 *
 * A request's latency runs from just before it is handed to node:http to the end of its answer's body, over
 * keep-alive connections on loopback (a new connection is opened only when every open one is busy). How late
 * the timer sent each request against its schedule is kept too (lagP99Ms): the same for every server, and
 * it shows whether the schedule was held. Every run is bounded: `rate × (warmupSeconds + seconds)` requests,
 * each with a 5 s timeout.
 */
import { Agent, request } from 'node:http'
import { setTimeout } from 'node:timers'

const REQUEST_TIMEOUT_MS = 5000
const agents = new Map()

process.on('message', ({ id, ...options }) => {
  run(options).then(
    (result) => process.send({ id, result }),
    (err) => process.send({ id, error: err?.message ?? String(err) }),
  )
})
process.on('disconnect', () => process.exit(0))

/** One keep-alive agent per origin, kept across runs, so a run starts on warm connections. */
function agentFor(url) {
  const { origin } = new URL(url)
  if (!agents.has(origin)) agents.set(origin, new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256, scheduling: 'lifo' }))
  return agents.get(origin)
}

function run({ url, rate, seconds, warmupSeconds = 0 }) {
  return new Promise((resolve) => {
    const agent = agentFor(url)
    const intervalMs = 1000 / rate
    const skip = Math.round(rate * warmupSeconds)
    const total = skip + Math.round(rate * seconds)
    const latencies = []
    const lags = []
    const statusCodes = {}
    const errors = []
    let sent = 0
    let done = 0
    let windowStart = null
    let windowEnd = 0
    const t0 = performance.now() + 10

    const finish = () => {
      latencies.sort((a, b) => a - b)
      lags.sort((a, b) => a - b)
      const at = (list, q) => round3(list[Math.max(0, Math.ceil(q * list.length) - 1)] ?? NaN)
      const recorded = latencies.length
      resolve({
        requests: total,
        recorded,
        // Answers per second over the recorded part: the offered rate when the server kept up.
        reqPerS: recorded / ((windowEnd - windowStart) / 1000),
        p50Ms: at(latencies, 0.5),
        p90Ms: at(latencies, 0.9),
        p99Ms: at(latencies, 0.99),
        p999Ms: at(latencies, 0.999),
        maxMs: round3(latencies.at(-1) ?? NaN),
        lagP99Ms: at(lags, 0.99),
        lagMaxMs: round3(lags.at(-1) ?? NaN),
        sockets: Object.values(agent.sockets).flat().length + Object.values(agent.freeSockets).flat().length,
        statusCodes,
        errors: errors.length,
        firstError: errors[0] ?? null,
      })
    }

    const send = (k) => {
      const intended = t0 + k * intervalMs
      const record = k >= skip
      const start = performance.now()
      if (record) {
        lags.push(start - intended)
        windowStart ??= intended
      }
      let settled = false
      const settle = (status, err) => {
        if (settled) return
        settled = true
        const end = performance.now()
        if (err) errors.push(err.message)
        else statusCodes[status] = (statusCodes[status] ?? 0) + 1
        if (record && !err && status >= 200 && status < 300) latencies.push(end - start)
        if (record) windowEnd = Math.max(windowEnd, end)
        if (++done === total) finish()
      }
      const req = request(url, { agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
        res.on('data', () => {})
        res.on('end', () => settle(res.statusCode))
        res.on('error', (err) => settle(0, err))
      })
      req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)))
      req.on('error', (err) => settle(0, err))
      req.end()
    }

    // Sends every request that is due, then sleeps until the next one is (timers fire up to ~1 ms late: lagP99Ms).
    const tick = () => {
      const now = performance.now()
      while (sent < total && t0 + sent * intervalMs <= now) send(sent++)
      if (sent < total) setTimeout(tick, Math.max(0, t0 + sent * intervalMs - performance.now()))
    }
    setTimeout(tick, Math.max(0, t0 - performance.now()))
  })
}

function round3(x) {
  return Math.round(x * 1000) / 1000
}
