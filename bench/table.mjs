#!/usr/bin/env node
/**
 * Rewrites the benchmark table of docs/benchmarks.md (between `<!-- bench:start -->` and `<!-- bench:end -->`)
 * from every bench/results/*.json; nothing else on the page is touched. Run alone: `node bench/table.mjs`.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { allBenchmarks } from './lib/benchmarks.mjs'

const START = '<!-- bench:start -->'
const END = '<!-- bench:end -->'
const COMPARISON = { '<=': '≤', '>=': '≥', '<': '<', '>': '>' }

/** Result files that are not benchmarks: the reliability run's (it has its own table) and measure:install's report. */
const NOT_BENCHMARKS = new Set(['reliability.json', 'install.json'])

/** Every benchmark result file of `resultsDir`, sorted by benchmark name. */
export function readResults(resultsDir) {
  return readdirSync(resultsDir)
    .filter((file) => file.endsWith('.json') && !NOT_BENCHMARKS.has(file))
    .map((file) => JSON.parse(readFileSync(join(resultsDir, file), 'utf8')))
    .sort((a, b) => a.name.localeCompare(b.name))
}

/** The Markdown table, the missed targets with by how much and why, and the run durations. */
export function renderTable(results, runs = {}, whenMissed = new Map()) {
  const rows = results.map((r) => {
    const what = r.subject && r.reference ? `\`${r.subject.command}\` vs \`${r.reference.command}\`` : ''
    const floor = r.floor ? ` (floor \`${r.floor.command}\`: ${figure(r.floor)})` : ''
    const name = `${r.name}${r.quick ? ' (quick)' : ''}${what ? `: ${what}` : ''}${floor}`
    if (r.error) return `| ${name} | — | — | — | ${target(r.target)} | error: ${r.error.split('\n')[0].replaceAll('|', '\\|')} |`
    if (r.notMeasured) return `| ${name} | — | — | — | ${target(r.target)} | not measured: ${r.notMeasured.split('\n')[0].replaceAll('|', '\\|')} |`
    const missed = (r.checks ?? []).filter((c) => !c.met).map((c) => `${c.label} ${c.value ?? '?'}${c.unit ? ` ${c.unit}` : ''}`)
    return `| ${name} | ${figure(r.subject, r.details?.subjectP99Ms)} | ${figure(r.reference, r.details?.referenceP99Ms)} | ${r.ratio.toFixed(2)}× | ${target(r.target)} | ${met(r.met)}${missed.length ? ` (${missed.join(', ')})` : ''} |`
  })
  const machines = [...new Set(results.map((r) => describeMachine(r.machine)))]
  const dates = results.map((r) => r.date.slice(0, 10)).sort()
  const missed = results.filter((r) => r.met === false && !r.error)
  return [
    '| benchmark | subject median | reference median | ratio | target | met |',
    '|---|---:|---:|---:|---|:---:|',
    ...rows,
    '',
    `Medians of alternating runs after a warm-up; samples, min and max in \`bench/results/\`. ` +
      `Measured ${dates[0] === dates.at(-1) ? `on ${dates[0]}` : `from ${dates[0]} to ${dates.at(-1)}`} on ${machines.join('; ')}.`,
    ...(missed.length
      ? ['', `**Missed: ${missed.length} of ${results.filter((r) => r.target).length} targets.**`, '', ...missed.map((r) => describeMiss(r, whenMissed))]
      : []),
    '',
    runLine(runs),
  ].join('\n')
}

/** One bullet: the figure against its target, by how much it falls short, and why (the module's whenMissed). */
function describeMiss(r, whenMissed) {
  const shortfalls = []
  if (!compareRatio(r.ratio, r.target))
    shortfalls.push(
      `${r.ratio.toFixed(3)}× against ${target({ ratio: r.target.ratio, comparison: r.target.comparison })}: ${by(r.ratio, r.target.ratio)} ${r.target.comparison.startsWith('>') ? 'short' : 'over'}`,
    )
  for (const c of (r.checks ?? []).filter((check) => !check.met))
    shortfalls.push(
      `${c.label} ${c.value ?? '?'}${c.unit ? ` ${c.unit}` : ''} against ${COMPARISON[c.comparison] ?? c.comparison} ${c.limit}${c.unit ? ` ${c.unit}` : ''}: ${by(c.value, c.limit)} over`,
    )
  return `- **${r.name}**: ${shortfalls.join('; ')}. ${whenMissed.get(r.name) ?? 'No cause recorded: the module has no whenMissed.'}`
}

/** How far `value` is from `limit`, as a percentage of the limit. */
function by(value, limit) {
  return `${((Math.abs(value - limit) / limit) * 100).toFixed(1)}%`
}

function compareRatio(ratio, { ratio: limit, comparison }) {
  return { '<=': ratio <= limit, '<': ratio < limit, '>=': ratio >= limit, '>': ratio > limit }[comparison]
}

/** How long the last run of every benchmark took, against the 20 min (full) and 3 min (quick) targets. */
function runLine(runs) {
  const limits = { full: 20 * 60, quick: 3 * 60 }
  const parts = ['full', 'quick'].map((kind) => {
    const run = runs[kind]
    const label = kind === 'full' ? '`npm run bench`' : '`npm run bench -- --quick`'
    if (!run) return `${label}: not timed yet (target < ${limits[kind] / 60} min)`
    const took = `${Math.floor(run.seconds / 60)} min ${run.seconds % 60} s`
    return `${label} took ${took} on ${run.date.slice(0, 10)} (target < ${limits[kind] / 60} min: ${run.seconds < limits[kind] ? 'met' : 'missed'}; ${run.benchmarks} benchmarks, ${run.failed} failed, build not included)`
  })
  return `${parts.join('. ')}.`
}

/** bench/results/runs/{full,quick}.json, those that exist. */
export function readRuns(resultsDir) {
  const runs = {}
  for (const kind of ['full', 'quick']) {
    const file = join(resultsDir, 'runs', `${kind}.json`)
    if (existsSync(file)) runs[kind] = JSON.parse(readFileSync(file, 'utf8'))
  }
  return runs
}

/** Replaces the text between the bench markers of `pagePath` with the table; returns the new table. */
export async function updatePage(pagePath, resultsDir) {
  const results = readResults(resultsDir)
  const whenMissed = new Map((await allBenchmarks()).map((b) => [b.name, b.whenMissed]))
  const table = results.length ? renderTable(results, readRuns(resultsDir), whenMissed) : '_No results yet: run `npm run bench`._'
  writeFileSync(pagePath, replaceBetween(readFileSync(pagePath, 'utf8'), START, END, table, pagePath))
  return table
}

/** `text` with what lies between the `start` and `end` markers replaced by `content`. */
export function replaceBetween(text, start, end, content, where) {
  const from = text.indexOf(start)
  const to = text.indexOf(end)
  if (from < 0 || to < from) throw new Error(`${where} has no ${start} … ${end} markers`)
  return `${text.slice(0, from + start.length)}\n${content}\n${text.slice(to)}`
}

/** One line naming a machine of bench/lib/machine.mjs. */
export function describeMachine(m) {
  return m ? `${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}` : 'an unrecorded machine'
}

function ms(value) {
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`
}

/** A side's median: ms, or another unit (req/s under load) with the p99 latency when the result has it. */
function figure(side, p99Ms) {
  if (!side.unit) return ms(side.medianMs)
  const value = side.unit === 'req/s' || side.unit === 'decisions/s' ? Math.round(side.median).toLocaleString('en-US') : side.median
  return `${value} ${side.unit}${typeof p99Ms === 'number' ? `, p99 ${p99Ms} ms` : ''}`
}

function target(t) {
  if (!t) return 'report only'
  const checks = (t.checks ?? []).map((c) => `, ${c.label} ${COMPARISON[c.comparison] ?? c.comparison} ${c.limit}${c.unit ? ` ${c.unit}` : ''}`).join('')
  return `${COMPARISON[t.comparison] ?? t.comparison} ${t.ratio}×${checks}`
}

function met(value) {
  if (value === null || value === undefined) return '—'
  return value ? '✓' : '✗'
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..')
  console.log(await updatePage(join(root, 'docs', 'benchmarks.md'), join(root, 'bench', 'results')))
}
