/**
 * Timing primitives: one run is one child process (process.execPath plus arguments), timed wall-clock with
 * hrtime from just before the spawn to its exit. Subject and reference alternate run by run, so drift on a
 * shared machine (other builds, thermal, cache) hits both alike; figures are medians of the samples.
 */
import { spawnSync } from 'node:child_process'

/**
 * @typedef {object} CommandSpec
 * @property {string} label shown in results and docs/benchmarks.md, e.g. "gantry --version"
 * @property {string[]} args arguments after the node executable
 * @property {string} [cwd]
 * @property {NodeJS.ProcessEnv} [env]
 * @property {(stdout: string) => void} [check] throws when the output shows the run did not do the work
 */

/** Runs a command once; returns its wall-clock time in ms, or throws with its output when it failed. */
export function timeOnce(spec) {
  const start = process.hrtime.bigint()
  const run = spawnSync(process.execPath, spec.args, {
    cwd: spec.cwd,
    env: spec.env ?? benchEnv(),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  })
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  if (run.error) throw new Error(`${spec.label}: ${run.error.message}`)
  if (run.status !== 0) {
    const lines = `${run.stderr}\n${run.stdout}`.split('\n').filter((l) => l.trim())
    throw new Error(`${spec.label} exited ${run.status ?? run.signal}: ${lines.slice(0, 8).join('\n')}`)
  }
  return { ms, stdout: run.stdout }
}

/** The environment every timed process gets: the caller's, minus what would add output or work. */
export function benchEnv(extra = {}) {
  const env = { ...process.env, ...extra }
  delete env.DEBUG
  delete env.NODE_OPTIONS
  delete env.NODE_DEBUG
  return env
}

/**
 * Warms both commands up (checking their output), then alternates them over `pairs` pairs, starting with
 * the subject on even pairs and the reference on odd ones. Returns the raw samples in ms.
 */
export function measurePairs({ subject, reference, pairs, warmup, onProgress }) {
  for (const spec of [subject, reference]) {
    for (let i = 0; i < warmup; i++) {
      const { stdout } = timeOnce(spec)
      if (i === 0) spec.check?.(stdout)
    }
  }
  const samples = { subject: [], reference: [] }
  for (let i = 0; i < pairs; i++) {
    const order = i % 2 === 0 ? ['subject', 'reference'] : ['reference', 'subject']
    for (const side of order) samples[side].push(timeOnce(side === 'subject' ? subject : reference).ms)
    onProgress?.(i + 1, pairs)
  }
  return samples
}

/** Median of a list of numbers (mean of the middle two for an even count). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/**
 * The summary the result files carry for one side: samples and their median, min and max, in ms — or, for a
 * benchmark measured in another unit (e.g. req/s under load), the same fields without the Ms suffix plus `unit`.
 */
export function summarize(label, samples, unit = 'ms') {
  if (unit !== 'ms') {
    const round = (x) => Math.round(x * 10) / 10
    return {
      command: label,
      unit,
      samples: samples.map(round),
      median: round(median(samples)),
      min: round(Math.min(...samples)),
      max: round(Math.max(...samples)),
    }
  }
  const round = (ms) => Math.round(ms * 100) / 100
  return {
    command: label,
    samplesMs: samples.map(round),
    medianMs: round(median(samples)),
    minMs: round(Math.min(...samples)),
    maxMs: round(Math.max(...samples)),
  }
}

/**
 * measurePairs for in-process subjects: `subject.run()` and `reference.run()` each do one timed unit of
 * work and resolve to its figure (ms; or the benchmark's unit) — they time only the part that is measured,
 * not their own setup. Warm-up runs get `{ warmup: true }`. An optional third side, `floor` (e.g. a bare
 * node:http server under the same load), joins the rotation: round i starts with side i mod n, so every side
 * runs first, second and last equally often.
 */
export async function measurePairsAsync({ subject, reference, floor, pairs, warmup, onProgress }) {
  const sides = floor ? { subject, reference, floor } : { subject, reference }
  const names = Object.keys(sides)
  for (const name of names) for (let i = 0; i < warmup; i++) await sides[name].run({ warmup: true })
  const samples = Object.fromEntries(names.map((name) => [name, []]))
  for (let i = 0; i < pairs; i++) {
    const order = names.map((_, k) => names[(i + k) % names.length])
    for (const side of order) samples[side].push(await sides[side].run({ warmup: false }))
    onProgress?.(i + 1, pairs)
  }
  return samples
}
