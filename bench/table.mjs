#!/usr/bin/env node
/**
 * Rewrites the README's benchmark table (between `<!-- bench:start -->` and `<!-- bench:end -->`) from every
 * bench/results/*.json; nothing else in the README is touched. Run alone: `node bench/table.mjs`.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const START = '<!-- bench:start -->'
const END = '<!-- bench:end -->'
const COMPARISON = { '<=': '≤', '>=': '≥', '<': '<', '>': '>' }

/** Every result file of `resultsDir`, sorted by benchmark name. */
export function readResults(resultsDir) {
  return readdirSync(resultsDir)
    .filter((file) => file.endsWith('.json'))
    .map((file) => JSON.parse(readFileSync(join(resultsDir, file), 'utf8')))
    .sort((a, b) => a.name.localeCompare(b.name))
}

/** The Markdown table (and a line naming the machines and dates) for these results. */
export function renderTable(results) {
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
  return [
    '| benchmark | subject median | reference median | ratio | target | met |',
    '|---|---:|---:|---:|---|:---:|',
    ...rows,
    '',
    `Medians of alternating runs after a warm-up; samples, min and max in \`bench/results/\`. ` +
      `Measured ${dates[0] === dates.at(-1) ? `on ${dates[0]}` : `from ${dates[0]} to ${dates.at(-1)}`} on ${machines.join('; ')}.`,
  ].join('\n')
}

/** Replaces the text between the bench markers of `readmePath` with the table; returns the new table. */
export function updateReadme(readmePath, resultsDir) {
  const readme = readFileSync(readmePath, 'utf8')
  const start = readme.indexOf(START)
  const end = readme.indexOf(END)
  if (start < 0 || end < start) throw new Error(`${readmePath} has no ${START} … ${END} markers`)
  const results = readResults(resultsDir)
  const table = results.length ? renderTable(results) : '_No results yet: run `npm run bench`._'
  writeFileSync(readmePath, `${readme.slice(0, start + START.length)}\n${table}\n${readme.slice(end)}`)
  return table
}

function describeMachine(m) {
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
  console.log(updateReadme(join(root, 'README.md'), join(root, 'bench', 'results')))
}
