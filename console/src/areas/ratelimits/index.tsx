/**
 * Rate limits: the rules in the order a request meets them (the login rules, then the chain), each with what
 * it has admitted and refused across every instance, refreshed every 5 s; add, edit, shadow, disable and
 * remove a rule; the overrides of one address, user or API key; and a test of what the limiter would do with
 * a request, rule by rule, spending nothing.
 */
import { useEffect, useState } from 'preact/hooks'
import { call } from '../../api.js'
import { can } from '../../session.js'
import { useAction, useLoad } from '../../ui/hooks.js'
import { ErrorNote, Gate, Outcome, useConfirm } from '../../ui/parts.js'
import { Table } from '../../ui/table.js'
import { Overrides } from './overrides.js'
import { EditRule, RuleForm } from './rule-form.js'
import { RuleRow } from './rule-row.js'
import { TestRequest } from './test-request.js'

/** How often the counts are read again while the page is visible. */
const REFRESH_MS = 5_000

export function RateLimits() {
  const list = useLoad(async () => ({ list: await call('ratelimits.list'), at: new Date() }), [])
  const [live, setLive] = useState(true)
  const [editing, setEditing] = useState<string>()
  const action = useAction()
  const [confirmDialog, confirm] = useConfirm()
  const { reload } = list

  // Live counts: read again every few seconds while the tab is visible, until paused.
  useEffect(() => {
    if (!live) return
    const timer = setInterval(() => {
      if (!document.hidden) reload()
    }, REFRESH_MS)
    return () => clearInterval(timer)
  }, [live, reload])

  const rules = list.data?.list.data ?? []
  const overrides = list.data?.list.overrides ?? []
  const editedRule = rules.find((r) => r.name === editing)

  return (
    <>
      <h1>Rate limits</h1>
      <Gate permission="ratelimits:write">
        <details class="card">
          <summary>Add a rule</summary>
          <p class="muted">A new rule applies after the rules already stored; every instance applies it within a second.</p>
          <RuleForm onSaved={reload} />
        </details>
      </Gate>
      <p class="muted">
        {list.data ? (
          <>
            Counts across every instance, updated <time dateTime={list.data.at.toISOString()}>{list.data.at.toLocaleTimeString()}</time>
            {live ? `, every ${REFRESH_MS / 1000} s` : ' (live updates paused)'}. Rules version {list.data.list.version}.{' '}
          </>
        ) : null}
        <button type="button" aria-pressed={!live} onClick={() => setLive((on) => !on)}>
          {live ? 'Pause live updates' : 'Resume live updates'}
        </button>{' '}
        <button type="button" onClick={reload}>
          Refresh now
        </button>
      </p>
      <ErrorNote error={list.error} />
      <Outcome of={action} />
      {confirmDialog}
      <Table
        name="ratelimits"
        busy={list.loading && !list.data}
        caption="Rules in the order they apply: the login rules, then the chain every other request meets"
        columns={['Order', 'Rule', 'Match', 'Key', 'Limit', 'Mode', 'If the store fails', 'Admitted', 'Refused', 'Store errors', 'Actions']}
      >
        {rules.map((rule, index) => (
          <RuleRow key={rule.name} rule={rule} order={index + 1} action={action} confirm={confirm} onEdit={() => setEditing(rule.name)} onChange={reload} />
        ))}
      </Table>
      {editedRule && can('ratelimits:write') ? (
        <EditRule
          key={editedRule.name}
          rule={editedRule}
          action={action}
          onClose={() => setEditing(undefined)}
          onSaved={() => {
            setEditing(undefined)
            reload()
          }}
        />
      ) : null}
      <Overrides overrides={overrides} rules={rules} action={action} confirm={confirm} onChange={reload} />
      <TestRequest />
    </>
  )
}
