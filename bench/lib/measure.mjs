/**
 * Timing primitives: one run is one child process (process.execPath plus arguments), timed wall-clock with
 * hrtime from just before the spawn to its exit. Subject and reference alternate run by run, so drift on a
 * shared machine (other builds, thermal, cache) hits both alike; figures are medians of the samples.
 */
import { spawnSync } from 'node:child_process'

/**
 * @typedef {object} CommandSpec
 * @property {string} label shown in results and the README, e.g. "gantry --version"
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

/** The summary the result files carry for one side: samples and their median, min and max, in ms. */
export function summarize(label, samples) {
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
 * work and resolve to its duration in ms (they time only the part that is measured, not their own setup).
 */
export async function measurePairsAsync({ subject, reference, pairs, warmup, onProgress }) {
  for (const spec of [subject, reference]) for (let i = 0; i < warmup; i++) await spec.run()
  const samples = { subject: [], reference: [] }
  for (let i = 0; i < pairs; i++) {
    const order = i % 2 === 0 ? ['subject', 'reference'] : ['reference', 'subject']
    for (const side of order) samples[side].push(await (side === 'subject' ? subject : reference).run())
    onProgress?.(i + 1, pairs)
  }
  return samples
}
