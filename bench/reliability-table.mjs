#!/usr/bin/env node
/**
 * `node bench/reliability-table.mjs [SCORECARD.jsonl --seconds N --exit-code N]`: merges the records of a
 * reliability run (test/helpers/scorecard.ts; one JSON line per figure) into bench/results/reliability.json
 * — a row replaces the row of the same id, so a run of some scenarios updates only theirs — and rewrites
 * the reliability table of docs/reliability.md (between `<!-- reliability:start -->` and
 * `<!-- reliability:end -->`) from that file; `--part` says the run covered only some scenarios. Without arguments it only rewrites
 * the table. Called by scripts/reliability.sh.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { machineInfo } from './lib/machine.mjs'
import { describeMachine, replaceBetween } from './table.mjs'

const START = '<!-- reliability:start -->'
const END = '<!-- reliability:end -->'
const COMPARISON = { '=': '=', '<=': '≤', '<': '<', '>=': '≥' }
/** The table's order: what the suite held, survived, tried, and kept. */
const AREAS = ['load held', 'faults survived', 'bad inputs tried', 'nothing lost']

/** The merged result document: the previous one's rows, replaced or joined by this run's. */
export function mergeRun(previous, records, run) {
  const rows = new Map((previous?.measurements ?? []).map((m) => [m.id, m]))
  for (const record of records) rows.set(record.id, record)
  const measurements = [...rows.values()].sort((a, b) => AREAS.indexOf(a.area) - AREAS.indexOf(b.area) || a.id.localeCompare(b.id))
  const thisRun = { date: run.date, seconds: run.seconds, exitCode: run.exitCode, recorded: records.length }
  // A run of some files updates their rows; the summary line keeps describing the last run of them all.
  const fullRun = run.part ? previous?.fullRun : thisRun
  return { name: 'reliability', machine: run.machine, fullRun, ...(run.part ? { partRun: thisRun } : {}), measurements }
}

/** The Markdown table (and a line naming the run) for a result document. */
export function renderTable(result) {
  const rows = result.measurements.map((m) => {
    const scale = m.full ? '' : ' (reduced scale)'
    return `| ${m.area} | ${m.what}${scale} | ${m.tried} | ${formatValue(m.value, m.unit)} | ${COMPARISON[m.target.comparison] ?? m.target.comparison} ${formatValue(m.target.value, m.unit)} | ${m.met ? '✓' : '✗'} |`
  })
  const missed = result.measurements.filter((m) => !m.met)
  const { fullRun, partRun } = result
  const summary = fullRun
    ? `Last full run ${fullRun.date.slice(0, 10)}: ${Math.floor(fullRun.seconds / 60)} min ${fullRun.seconds % 60} s, ${fullRun.recorded} figures recorded, suite exit code ${fullRun.exitCode}`
    : 'No full run yet'
  const part = partRun ? `; ${partRun.recorded} figures re-run alone on ${partRun.date.slice(0, 10)} (exit code ${partRun.exitCode})` : ''
  return [
    '| area | measure | tried | result | target | met |',
    '|---|---|---|---:|---|:---:|',
    ...rows,
    '',
    `${result.measurements.length - missed.length} of ${result.measurements.length} targets met` +
      (missed.length ? ` (missed: ${missed.map((m) => m.id).join(', ')})` : '') +
      `. ${summary}${part}, on ${describeMachine(result.machine)}. Every figure with its details in \`bench/results/reliability.json\`.`,
    ...(missed.length
      ? [
          '',
          ...missed.map(
            (m) =>
              `- **${m.id}**: ${formatValue(m.value, m.unit)} against ${COMPARISON[m.target.comparison]} ${formatValue(m.target.value, m.unit)}. ${m.whenMissed ?? 'No cause recorded.'}`,
          ),
        ]
      : []),
  ].join('\n')
}

function formatValue(value, unit) {
  const number = Number.isInteger(value) ? value.toLocaleString('en-US') : String(Math.round(value * 1000) / 1000)
  return unit ? `${number} ${unit}` : number
}

/** Rewrites the reliability table of `pagePath` from `resultPath`; returns the table. */
export function updatePage(pagePath, resultPath) {
  const table = existsSync(resultPath) ? renderTable(JSON.parse(readFileSync(resultPath, 'utf8'))) : '_No results yet: run `npm run test:reliability`._'
  writeFileSync(pagePath, replaceBetween(readFileSync(pagePath, 'utf8'), START, END, table, pagePath))
  return table
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..')
  const resultPath = join(root, 'bench', 'results', 'reliability.json')
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { seconds: { type: 'string' }, 'exit-code': { type: 'string' }, part: { type: 'boolean', default: false } },
  })
  const [scorecard] = positionals
  if (scorecard) {
    const records = readFileSync(scorecard, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line))
    const previous = existsSync(resultPath) ? JSON.parse(readFileSync(resultPath, 'utf8')) : undefined
    const run = {
      date: new Date().toISOString(),
      machine: machineInfo(),
      seconds: Number(values.seconds ?? 0),
      exitCode: Number(values['exit-code'] ?? 0),
      part: values.part,
    }
    writeFileSync(resultPath, `${JSON.stringify(mergeRun(previous, records, run), null, 2)}\n`)
  }
  console.log(updatePage(join(root, 'docs', 'reliability.md'), resultPath))
}
