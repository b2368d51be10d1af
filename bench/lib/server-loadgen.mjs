/**
 * The load generator, a child process of its own (forked by lib/server-load.mjs and kept for the whole run):
 * each IPC message { id, options, seconds, rampSeconds } is one autocannon run (its API, one thread) against
 * a server that runs in yet another process; the answer { id, result } carries only the figures the
 * benchmark keeps, or { id, error }. Nothing else runs here, so the generator's own cost is the same for
 * every server measured.
 *
 * Figures come from the steady state. A saturated Node server (any of them: bare node:http too) is slow to
 * take up new connections while the established ones keep it busy, so the first request on the last
 * connections of a cold start waits hundreds of ms (seconds at 200 connections) — a start-up artefact that
 * would dominate the p99 of a short run. So the measured window opens once every connection has had its
 * first answer, or after `rampSeconds` at most, and lasts `seconds`: req/s counts every answer completed in
 * it, the latencies leave out a connection's first answer (its wait for the connection to be taken up).
 * `activeConnections` says how many connections had been answered when the window opened. Errors, timeouts
 * and non-2xx answers are counted over the whole run, ramp-up included.
 */
import autocannon from 'autocannon'

process.on('message', ({ id, options, seconds, rampSeconds }) => {
  run(options, seconds, rampSeconds).then(
    (result) => process.send({ id, result }),
    (err) => process.send({ id, error: err?.message ?? String(err) }),
  )
})
process.on('disconnect', () => process.exit(0))

function run(options, seconds, rampSeconds) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const answered = new Set()
    const latencies = []
    let opened = null
    let activeConnections = 0
    let inWindow = 0
    // autocannon stops a run only on a sample tick: ticks of 100 ms (not its default 1 s) end it soon after the window.
    const instance = autocannon({ ...options, duration: rampSeconds + seconds + 1, pipelining: 1, sampleInt: 100 }, (err, r) => {
      if (err) return reject(err)
      latencies.sort((a, b) => a - b)
      const at = (q) => round2(latencies[Math.max(0, Math.ceil(q * latencies.length) - 1)] ?? NaN)
      resolve({
        reqPerS: inWindow / seconds,
        windowRequests: inWindow,
        activeConnections,
        rampMs: Math.round(opened - started),
        p50Ms: at(0.5),
        p90Ms: at(0.9),
        p99Ms: at(0.99),
        maxMs: round2(latencies.at(-1) ?? NaN),
        requests: r.requests.total,
        ok: r['2xx'],
        non2xx: r.non2xx,
        errors: r.errors,
        timeouts: r.timeouts,
        statusCodes: r.statusCodeStats,
      })
    })
    instance.on('response', (client, _status, _bytes, responseTime) => {
      const now = performance.now()
      const first = !answered.has(client)
      if (first) answered.add(client)
      if (opened === null) {
        if (answered.size < options.connections && now - started < rampSeconds * 1000) return
        opened = now
        activeConnections = answered.size
        return
      }
      if (now - opened > seconds * 1000) return instance.stop()
      inWindow++
      if (!first) latencies.push(responseTime)
    })
  })
}

function round2(x) {
  return Math.round(x * 100) / 100
}
