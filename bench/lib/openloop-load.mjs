/**
 * Open-loop load benchmarks: GET at a fixed rate (lib/openloop-loadgen.mjs, a child process of its own
 * forked once per run) against servers started by lib/server-load.mjs `startServer`. The bench process only
 * sends commands and reads the figures, so neither the servers nor the generator share its event loop.
 */
import { median } from './measure.mjs'
import { forkGenerator, groupCpuMs } from './server-load.mjs'

let generator

/** The open-loop child: `run(options)` is one run there (lib/openloop-loadgen.mjs). */
function openLoopGenerator() {
  if (generator) return generator
  const child = forkGenerator('openloop-loadgen.mjs', 'open-loop generator')
  void child.exited.then(() => (generator = undefined))
  generator = { run: (options) => child.send(options) }
  return generator
}

/**
 * One side of an open-loop benchmark: each run is GET `url` at `rate` per second for `warmupSeconds`
 * (not recorded) plus `seconds`, and yields the answers per second of the recorded part (the offered rate
 * when the server kept up). Any error, timeout or non-2xx answer fails the benchmark. The measured runs are
 * kept in `runs` (latency quantiles, the generator's lag, the server's CPU time per request when `pid`, its
 * process group, is given).
 */
export function openLoopSide({ label, url, rate, seconds, warmupSeconds, pid }) {
  const runs = []
  return {
    label,
    runs,
    async run({ warmup } = {}) {
      const cpuBefore = groupCpuMs(pid)
      const r = await openLoopGenerator().run({ url, rate, seconds, warmupSeconds })
      const cpuAfter = groupCpuMs(pid)
      if (cpuBefore !== null && cpuAfter !== null) r.cpuUsPerRequest = ((cpuAfter - cpuBefore) * 1000) / r.requests
      const ok = Object.entries(r.statusCodes).reduce((sum, [code, n]) => sum + (code >= 200 && code < 300 ? n : 0), 0)
      if (r.errors > 0 || ok !== r.requests || r.recorded === 0) {
        const codes = Object.entries(r.statusCodes)
          .map(([code, n]) => `${code}: ${n}`)
          .join(', ')
        throw new Error(
          `${label}: ${r.errors} errors${r.firstError ? ` (${r.firstError})` : ''}, status codes ${codes || 'none'} out of ${r.requests} requests at ${rate} req/s — no figure is recorded`,
        )
      }
      if (!warmup) runs.push(r)
      return r.reqPerS
    },
  }
}

/**
 * The latency figures of two open-loop sides measured in pairs: per side the medians over the measured runs
 * of each run's p50/p99, and the p99 the subject adds — the median of the paired differences (run i of the
 * subject minus run i of the reference; the harness alternates them) and the difference of the medians.
 */
export function openLoopDetails({ subject, reference }, { rate, seconds }) {
  const round = (x) => Math.round(x * 1000) / 1000
  const details = { rate, runSeconds: seconds }
  for (const [name, side] of Object.entries({ subject, reference })) {
    details[`${name}P50Ms`] = round(median(side.runs.map((r) => r.p50Ms)))
    details[`${name}P99Ms`] = round(median(side.runs.map((r) => r.p99Ms)))
    details[`${name}WorstP99Ms`] = round(Math.max(...side.runs.map((r) => r.p99Ms)))
    details[`${name}LagP99Ms`] = round(median(side.runs.map((r) => r.lagP99Ms)))
    details[`${name}Requests`] = side.runs.reduce((sum, r) => sum + r.recorded, 0)
    if (side.runs.every((r) => typeof r.cpuUsPerRequest === 'number'))
      details[`${name}CpuUsPerRequest`] = Math.round(median(side.runs.map((r) => r.cpuUsPerRequest)))
  }
  const pairs = Math.min(subject.runs.length, reference.runs.length)
  details.p99AddedMs = round(median(Array.from({ length: pairs }, (_, i) => subject.runs[i].p99Ms - reference.runs[i].p99Ms)))
  details.p99AddedOfMediansMs = round(details.subjectP99Ms - details.referenceP99Ms)
  details.p50AddedMs = round(median(Array.from({ length: pairs }, (_, i) => subject.runs[i].p50Ms - reference.runs[i].p50Ms)))
  details.runs = Object.fromEntries(
    Object.entries({ subject, reference }).map(([name, side]) => [
      name,
      side.runs.map((r) => ({
        reqPerS: Math.round(r.reqPerS * 10) / 10,
        p50Ms: r.p50Ms,
        p99Ms: r.p99Ms,
        p999Ms: r.p999Ms,
        maxMs: r.maxMs,
        lagP99Ms: r.lagP99Ms,
        sockets: r.sockets,
        cpuUsPerRequest: r.cpuUsPerRequest === undefined ? null : Math.round(r.cpuUsPerRequest),
      })),
    ]),
  )
  return details
}
