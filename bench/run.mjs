#!/usr/bin/env node
/**
 * `npm run bench [-- --quick] [-- --only NAME[,NAME]] [-- --no-build]`: builds once, runs every
 * bench/benchmarks/*.mjs (subject and reference alternating after a warm-up), writes
 * bench/results/<name>.json and regenerates the benchmark table of docs/benchmarks.md from all result files.
 * A benchmark that fails is recorded as an error entry; the others still run; the exit code is then 1.
 *
 * A benchmark module default-exports { name, description, target: { ratio, comparison } | null,
 * pairs: { full, quick }, setup({ root, quick }) -> { subject, reference, cleanup? } } where subject and
 * reference are command specs (lib/measure.mjs).
 *
 * In-process benchmarks (a service call, not a process start-up): setup may be async and return subject and
 * reference as { label, run: async () => ms } (lib/measure.mjs measurePairsAsync), an async cleanup, and
 * details(subject, reference) -> an object of extra figures kept in the result (e.g. rows/s). A module may
 * default-export an array of benchmarks sharing a `group` (one result file each); --only takes a name or a group.
 *
 * Load benchmarks (a server under autocannon, lib/server-load.mjs) use the in-process form and add: `unit`
 * (e.g. 'req/s'; samples are then that figure, not ms, and a target such as { ratio: 0.8, comparison: '>=' }
 * reads "at least 0.8x the reference"), `minPairs` and `warmup: { full, quick }` (one sample is a whole load
 * run of thousands of requests, so fewer of them than MIN_PAIRS are enough), a `floor` side measured in the
 * same rotation, and `target.checks`: further conditions on figures of details(), e.g.
 * { label: 'p99', metric: 'subjectP99Ms', comparison: '<', limit: 50, unit: 'ms' }; the target is met only
 * when the ratio and every check are. A setup that throws an error with `notMeasurable: true` records the
 * benchmark as not measured (with the reason) instead of failed.
 *
 * A module with a target also says `whenMissed`: the cause of a miss and what would reach the target, as
 * measured and profiled; docs/benchmarks.md lists it under the table for a result that misses (the module is
 * read when the table is written, so a better-understood cause needs no re-run). Each
 * result records its own seconds; a run of every benchmark records its whole duration in
 * bench/results/runs/{full,quick}.json (targets: under 20 and 3 minutes on 2 cores). A benchmark whose samples
 * cannot fit the quick run says why in `fullRunOnly`: --quick then leaves it out (unless named by --only).
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { allBenchmarks } from './lib/benchmarks.mjs'
import { machineInfo } from './lib/machine.mjs'
import { measurePairs, measurePairsAsync, median, summarize } from './lib/measure.mjs'
import { updatePage } from './table.mjs'

const MIN_PAIRS = 10
const benchDir = dirname(fileURLToPath(import.meta.url))
const root = join(benchDir, '..')
const resultsDir = join(benchDir, 'results')

const { values: options } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, only: { type: 'string', multiple: true }, 'no-build': { type: 'boolean', default: false } },
})

const log = (line) => process.stderr.write(`${line}\n`)

if (!options['no-build']) build()
const benchmarks = await loadBenchmarks(options.only?.flatMap((o) => o.split(',')))
const machine = machineInfo()
const runStarted = Date.now()
let failed = 0
for (const benchmark of benchmarks) {
  const result = await runBenchmark(benchmark)
  if (result.error) failed++
  mkdirSync(resultsDir, { recursive: true })
  writeFileSync(join(resultsDir, `${benchmark.name}.json`), `${JSON.stringify(result, null, 2)}\n`)
}
// The build is not timed: a user's run includes it, but it is the same for every benchmark and option.
if (!options.only)
  writeRun({
    kind: options.quick ? 'quick' : 'full',
    date: new Date(runStarted).toISOString(),
    seconds: Math.round((Date.now() - runStarted) / 1000),
    benchmarks: benchmarks.length,
    failed,
    machine,
  })
log('')
log(await updatePage(join(root, 'docs', 'benchmarks.md'), resultsDir))
process.exitCode = failed ? 1 : 0

/** Records how long a run of every benchmark took (bench/results/runs/<kind>.json). */
function writeRun(run) {
  mkdirSync(join(resultsDir, 'runs'), { recursive: true })
  writeFileSync(join(resultsDir, 'runs', `${run.kind}.json`), `${JSON.stringify(run, null, 2)}\n`)
}

/** `npm run build` once, before anything is timed; without a build there is nothing to measure. */
function build() {
  log('bench: npm run build')
  const run = spawnSync('npm', ['run', 'build'], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, OCLIF_SKIP_NEW_VERSION_CHECK: 'true' },
  })
  if (run.status !== 0) {
    log('bench: the build failed; nothing was measured.')
    process.exit(1)
  }
}

/** The benchmark modules, by file name, optionally only those named. */
async function loadBenchmarks(only) {
  const all = await allBenchmarks()
  if (!only) {
    if (!options.quick) return all
    for (const b of all.filter((b) => b.fullRunOnly)) log(`bench: ${b.name} runs in the full run only: ${b.fullRunOnly}`)
    return all.filter((b) => !b.fullRunOnly)
  }
  const unknown = only.filter((name) => !all.some((b) => b.name === name || b.group === name))
  if (unknown.length) {
    log(`bench: no benchmark named ${unknown.join(', ')}; there are: ${all.map((b) => b.name).join(', ')}`)
    process.exit(2)
  }
  return all.filter((b) => only.includes(b.name) || only.includes(b.group))
}

/** Sets a benchmark up, measures it and returns its result document (an error entry when it failed). */
async function runBenchmark(benchmark) {
  const { name, description, target } = benchmark
  const quick = options.quick
  const base = { name, description, target, quick, date: new Date().toISOString(), machine }
  const unit = benchmark.unit ?? 'ms'
  const pairs = Math.max(benchmark.minPairs ?? MIN_PAIRS, quick ? benchmark.pairs.quick : benchmark.pairs.full)
  // --quick keeps every benchmark's pairs (at least MIN_PAIRS) and spends one warm-up pass, where the full run spends three.
  const warmup = benchmark.warmup ? benchmark.warmup[quick ? 'quick' : 'full'] : quick ? 1 : 3
  log(`bench: ${name} (${warmup} warm-up runs each, ${pairs} pairs)`)
  let cleanup
  const started = Date.now()
  const seconds = () => Math.round((Date.now() - started) / 100) / 10
  try {
    const setup = await benchmark.setup({ root, quick })
    cleanup = setup.cleanup
    const measure = typeof setup.subject.run === 'function' ? measurePairsAsync : measurePairs
    const samples = await measure({ ...setup, pairs, warmup, onProgress: progress })
    const subject = summarize(setup.subject.label, samples.subject, unit)
    const reference = summarize(setup.reference.label, samples.reference, unit)
    const floor = samples.floor ? summarize(setup.floor.label, samples.floor, unit) : undefined
    const ratio = median(samples.subject) / median(samples.reference)
    const pairRatios = samples.subject.map((s, i) => s / samples.reference[i])
    const details = setup.details?.(subject, reference, floor)
    const checks = (target?.checks ?? []).map((c) => ({
      ...c,
      value: details?.[c.metric] ?? null,
      met: typeof details?.[c.metric] === 'number' && compare(details[c.metric], { ratio: c.limit, comparison: c.comparison }),
    }))
    const met = target ? compare(ratio, target) && checks.every((c) => c.met) : null
    const figure = (side) => (unit === 'ms' ? `${side.medianMs} ms` : `${side.median} ${unit}`)
    const checked = checks.map((c) => `; ${c.label} ${c.value}${c.unit ? ` ${c.unit}` : ''} ${c.comparison} ${c.limit}: ${c.met ? 'met' : 'missed'}`).join('')
    log(
      `  ${subject.command}: ${figure(subject)}, ${reference.command}: ${figure(reference)}${floor ? `, ${floor.command}: ${figure(floor)}` : ''}, ratio ${ratio.toFixed(3)}${target ? ` (target ${target.comparison} ${target.ratio}: ${compare(ratio, target) ? 'met' : 'missed'}${checked})` : ''}; ${seconds()} s`,
    )
    if (details)
      log(
        `  ${Object.entries(details)
          .filter(([, v]) => typeof v !== 'object')
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      )
    return {
      ...base,
      met,
      ratio: round3(ratio),
      medianPairRatio: round3(median(pairRatios)),
      subject,
      reference,
      ...(floor ? { floor } : {}),
      ...(checks.length ? { checks } : {}),
      ...(details ? { details } : {}),
      seconds: seconds(),
    }
  } catch (err) {
    if (err.notMeasurable) {
      log(`  not measurable: ${err.message}`)
      return { ...base, met: null, notMeasured: err.message, subject: null, reference: null, ratio: null, seconds: seconds() }
    }
    log(`  error: ${err.message}`)
    return { ...base, met: false, error: err.message, subject: null, reference: null, ratio: null, seconds: seconds() }
  } finally {
    await cleanup?.()
  }
}

/** Pair count on a terminal, overwritten in place; nothing in a log file. */
function progress(done, total) {
  if (!process.stderr.isTTY) return
  process.stderr.write(done < total ? `\r  pair ${done}/${total}` : '\r\x1b[K')
}

function compare(ratio, { ratio: limit, comparison }) {
  const ops = { '<=': ratio <= limit, '<': ratio < limit, '>=': ratio >= limit, '>': ratio > limit }
  if (!(comparison in ops)) throw new Error(`unknown comparison ${comparison}`)
  return ops[comparison]
}

function round3(x) {
  return Math.round(x * 1000) / 1000
}
