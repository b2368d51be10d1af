/**
 * The audit log: keyset pages, newest first, filtered by actor (a pattern with *), action and time (ISO 8601
 * or a duration back from now); each entry opens to its before and after (the public views of its target,
 * never a secret) and the address it came from. With audit:delete, old entries can be counted and pruned.
 */
import { Fragment } from 'preact'
import { useState } from 'preact/hooks'
import type { AuditEntry } from '../../../src/core/audit/audit.schema.js'
import { call } from '../api.js'
import { Form, TextField } from '../ui/fields.js'
import { useAction, useLoad } from '../ui/hooks.js'
import { Pager, useCursorPages } from '../ui/paging.js'
import { ErrorNote, Gate, Outcome, Time, useConfirm } from '../ui/parts.js'
import { Table } from '../ui/table.js'

const PAGE = 50
const COLUMNS = ['When', 'Actor', 'Action', 'Target', 'Details']

interface Filters {
  readonly actor: string
  readonly action: string
  readonly since: string
  readonly until: string
}

const NO_FILTERS: Filters = { actor: '', action: '', since: '', until: '' }

export function Audit() {
  // What the form holds, and what the list shows: a filter applies when the form is submitted.
  const [draft, setDraft] = useState<Filters>(NO_FILTERS)
  const [filters, setFilters] = useState<Filters>(NO_FILTERS)
  const pages = useCursorPages()
  const { cursor } = pages
  const [open, setOpen] = useState<ReadonlySet<number>>(new Set())
  const page = useLoad(
    () =>
      call('audit.list', {
        limit: PAGE,
        ...(filters.actor ? { actor: filters.actor } : {}),
        ...(filters.action ? { action: filters.action } : {}),
        ...(filters.since ? { since: filters.since } : {}),
        ...(filters.until ? { until: filters.until } : {}),
        ...(cursor ? { cursor } : {}),
      }),
    [filters, cursor],
  )
  const apply = (next: Filters): void => {
    setFilters({ actor: next.actor.trim(), action: next.action.trim(), since: next.since.trim(), until: next.until.trim() })
    pages.reset()
  }
  const field = (name: keyof Filters) => ({
    value: draft[name],
    onInput: (e: { currentTarget: HTMLInputElement }) => {
      const value = e.currentTarget.value
      setDraft((d) => ({ ...d, [name]: value }))
    },
  })
  const toggle = (id: number): void =>
    setOpen((ids) => {
      const next = new Set(ids)
      if (!next.delete(id)) next.add(id)
      return next
    })
  const seenActions = [...new Set(page.data?.data.map((entry) => entry.action) ?? [])].sort()
  const filtered = Object.values(filters).some(Boolean)

  return (
    <>
      <h1>Audit log</h1>
      <Gate permission="audit:delete">
        <Prune onPruned={page.reload} />
      </Gate>
      <Form class="filters" role="search" aria-label="Filter the audit log" onSubmit={() => apply(draft)}>
        <label>
          Actor
          <input placeholder="user:* or apikey:…" aria-describedby="audit-actor-hint" {...field('actor')} />
        </label>
        <label>
          Action
          <input list="audit-actions" placeholder="roles.update" {...field('action')} />
          <datalist id="audit-actions">
            {seenActions.map((action) => (
              <option key={action} value={action} />
            ))}
          </datalist>
        </label>
        <label>
          Since
          <input placeholder="24h" aria-describedby="audit-time-hint" {...field('since')} />
        </label>
        <label>
          Until
          <input placeholder="2026-01-31T12:00Z" aria-describedby="audit-time-hint" {...field('until')} />
        </label>
        <button type="submit" class="primary">
          Apply filters
        </button>
        {filtered ? (
          <button
            type="button"
            onClick={() => {
              setDraft(NO_FILTERS)
              apply(NO_FILTERS)
            }}
          >
            Clear filters
          </button>
        ) : null}
        <button type="button" onClick={page.reload} disabled={page.loading}>
          Refresh
        </button>
      </Form>
      <p class="muted">
        <span id="audit-actor-hint">Actor: exact, or a pattern where * stands for any run of characters (at most 4). </span>
        <span id="audit-time-hint">Since and until: an ISO 8601 time, or a duration back from now such as 90s, 30m, 24h or 7d.</span>
      </p>
      <ErrorNote error={page.error} />
      <Table
        name="audit"
        busy={page.loading}
        caption={
          <>
            {filtered ? 'Audit entries that match, newest first' : 'Audit entries, newest first'}
            {pages.captionSuffix}
          </>
        }
        columns={COLUMNS}
      >
        {page.data?.data.map((entry) => (
          <Entry key={entry.id} entry={entry} open={open.has(entry.id)} onToggle={() => toggle(entry.id)} />
        ))}
      </Table>
      {page.data && page.data.data.length === 0 ? <p class="muted">No entries{filtered ? ' match these filters' : ''}.</p> : null}
      <Pager of="the audit log" pages={pages} next={page.data?.nextCursor} />
    </>
  )
}

function Entry({ entry, open, onToggle }: { entry: AuditEntry; open: boolean; onToggle: () => void }) {
  const details = `audit-entry-${entry.id}`
  return (
    <Fragment>
      <tr>
        <td>
          <Time at={entry.at} />
        </td>
        <td>{entry.actor}</td>
        <th scope="row">{entry.action}</th>
        <td>
          {entry.targetType} <code>{entry.targetId}</code>
        </td>
        <td>
          <button type="button" aria-expanded={open} aria-controls={details} onClick={onToggle}>
            {open ? 'Hide' : 'Show'}
            <span class="sr-only"> entry {entry.id}</span>
          </button>
        </td>
      </tr>
      {open ? (
        <tr id={details}>
          <td colSpan={COLUMNS.length}>
            <p>
              Entry {entry.id} from {entry.ip ?? <span class="muted">no recorded address</span>}
            </p>
            <div class="grid">
              <Snapshot title="Before" value={entry.before} />
              <Snapshot title="After" value={entry.after} />
            </div>
          </td>
        </tr>
      ) : null}
    </Fragment>
  )
}

/** A view of the target as JSON text (Preact renders it as text, whatever it holds). */
function Snapshot({ title, value }: { title: string; value: unknown }) {
  return (
    <div>
      <strong>{title}</strong>
      {value === null || value === undefined ? <p class="muted">—</p> : <pre>{JSON.stringify(value, null, 2)}</pre>}
    </div>
  )
}

function Prune({ onPruned }: { onPruned: () => void }) {
  const [olderThan, setOlderThan] = useState('')
  const action = useAction()
  const [confirmDialog, confirm] = useConfirm()
  const run = async (dryRun: boolean): Promise<void> => {
    const age = olderThan.trim()
    if (!dryRun) {
      const cut = age ? `older than ${age}` : "older than this environment's retention"
      if (
        !(await confirm(`Delete every audit entry ${cut}? This cannot be undone; export them first (gantry audit export) to keep them.`, 'Delete old entries'))
      )
        return
    }
    const result = await action.run(
      () => call('audit.prune', { dryRun, ...(age ? { olderThan: age } : {}) }),
      (r) => {
        if (r.before === null) return 'The retention is forever and no age was given: nothing to prune.'
        const span = r.count > 0 && r.oldest && r.newest ? ` (from ${new Date(r.oldest).toLocaleString()} to ${new Date(r.newest).toLocaleString()})` : ''
        const cut = `before ${new Date(r.before).toLocaleString()}`
        return r.dryRun ? `${r.count} entries ${cut} would be deleted${span}.` : `Deleted ${r.count} entries ${cut}${span}.`
      },
    )
    if (result && !dryRun) onPruned()
  }
  return (
    <details class="card">
      <summary>Prune old entries</summary>
      <Form class="inline-form" onSubmit={() => void run(true)}>
        <TextField label="Older than" placeholder="retention" size={10} aria-describedby="audit-prune-hint" value={olderThan} onValue={setOlderThan} />
        <button type="submit" disabled={action.busy}>
          Count them
        </button>
        <button type="button" class="danger" disabled={action.busy} onClick={() => void run(false)}>
          Delete them
        </button>
      </Form>
      <p id="audit-prune-hint" class="muted">
        A duration such as 90d; empty: this environment's audit retention.
      </p>
      <Outcome of={action} />
      {confirmDialog}
    </details>
  )
}
