/**
 * Rate limits: the rules in the order a request meets them (the login rules, then the chain), each with what
 * it has admitted and refused across every instance, refreshed every 5 s; add, edit, shadow, disable and
 * remove a rule; the overrides of one address, user or API key; and a test of what the limiter would do with
 * a request, rule by rule, spending nothing.
 */
import { useEffect, useRef, useState } from 'preact/hooks'
import type { OverrideView, RuleView, SetRuleInput, TestResult } from '../../../src/core/ratelimits/ratelimits.schema.js'
import { call } from '../api.js'
import { can } from '../session.js'
import { useAction, useLoad, type Action } from '../ui/hooks.js'
import { Done, ErrorNote, Gate, Time, useConfirm } from '../ui/parts.js'

/** How often the counts are read again while the page is visible. */
const REFRESH_MS = 5_000

type Confirm = (question: string, act: string) => Promise<boolean>

const SOURCE_LABEL: Record<RuleView['source'], string> = { builtin: 'built-in', config: 'config default', database: 'stored' }
const STORE_ERROR_LABEL: Record<RuleView['onStoreError'], string> = {
  open: 'fail open (admit)',
  closed: 'fail closed (503)',
  local: 'local (this instance only)',
}

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
      <ErrorNote error={action.error} />
      <Done message={action.done} />
      {confirmDialog}
      <div class="table-wrap">
        <table aria-busy={list.loading && !list.data} data-table="ratelimits">
          <caption>Rules in the order they apply: the login rules, then the chain every other request meets</caption>
          <thead>
            <tr>
              <th scope="col">Order</th>
              <th scope="col">Rule</th>
              <th scope="col">Match</th>
              <th scope="col">Key</th>
              <th scope="col">Limit</th>
              <th scope="col">Mode</th>
              <th scope="col">If the store fails</th>
              <th scope="col">Admitted</th>
              <th scope="col">Refused</th>
              <th scope="col">Store errors</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {rules.map((rule, index) => (
              <RuleRow key={rule.name} rule={rule} order={index + 1} action={action} confirm={confirm} onEdit={() => setEditing(rule.name)} onChange={reload} />
            ))}
          </tbody>
        </table>
      </div>
      {editedRule && can('ratelimits:write') ? (
        <EditRule
          key={editedRule.name}
          rule={editedRule}
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

function RuleRow({
  rule,
  order,
  action,
  confirm,
  onEdit,
  onChange,
}: {
  rule: RuleView
  order: number
  action: Action
  confirm: Confirm
  onEdit: () => void
  onChange: () => void
}) {
  const act = async (question: string | undefined, label: string, run: () => Promise<unknown>, done: string): Promise<void> => {
    if (question && !(await confirm(question, label))) return
    if ((await action.run(run, done)) !== undefined) onChange()
  }
  const target = { name: rule.name }
  const { counts } = rule
  return (
    <tr>
      <td>{order}</td>
      <th scope="row">
        {rule.name} <span class={`badge ${rule.source === 'database' ? 'pass' : 'shadow'}`}>{SOURCE_LABEL[rule.source]}</span>
        {rule.enabled ? null : <span class="badge warn">disabled</span>}
        {rule.updatedAt ? (
          <div class="muted">
            changed <Time at={rule.updatedAt} />
          </div>
        ) : null}
      </th>
      <td>
        <code>{rule.match}</code>
      </td>
      <td>{rule.key}</td>
      <td>
        {rule.limit} per {rule.window}
        <div class="muted">burst {rule.burst}</div>
      </td>
      <td>{rule.mode === 'shadow' ? <span class="badge shadow">shadow</span> : <span class="badge pass">enforce</span>}</td>
      <td>{STORE_ERROR_LABEL[rule.onStoreError]}</td>
      <td>
        {counts.admitted}
        {counts.since ? (
          <div class="muted">
            since <Time at={counts.since} />
          </div>
        ) : null}
      </td>
      <td>
        {counts.refused > 0 ? <span class="badge fail">{counts.refused}</span> : counts.refused}
        {counts.shadowRefused > 0 || rule.mode === 'shadow' ? <div class="muted">{counts.shadowRefused} would be refused (shadow)</div> : null}
      </td>
      <td>{counts.storeErrors > 0 ? <span class="badge warn">{counts.storeErrors}</span> : counts.storeErrors}</td>
      <td class="row-actions">
        {rule.source === 'builtin' ? (
          <span class="muted">built in; an override can change it for one subject</span>
        ) : (
          <Gate permission="ratelimits:write">
            <button type="button" onClick={onEdit}>
              Edit<span class="sr-only"> rule {rule.name}</span>
            </button>
            {rule.mode === 'shadow' ? (
              <button
                type="button"
                onClick={() =>
                  void act(
                    `Enforce rule "${rule.name}"? Requests over its limit will be refused with 429.`,
                    `Enforce ${rule.name}`,
                    () => call('ratelimits.set', target, { mode: 'enforce' }),
                    `Rule ${rule.name} is enforced.`,
                  )
                }
              >
                Enforce
              </button>
            ) : (
              <button
                type="button"
                onClick={() =>
                  void act(
                    `Put rule "${rule.name}" in shadow mode? It keeps counting but refuses nothing.`,
                    `Shadow ${rule.name}`,
                    () => call('ratelimits.set', target, { mode: 'shadow' }),
                    `Rule ${rule.name} is in shadow mode.`,
                  )
                }
              >
                Shadow mode
              </button>
            )}
            {rule.source === 'database' ? (
              rule.enabled ? (
                <button
                  type="button"
                  onClick={() =>
                    void act(
                      `Disable rule "${rule.name}"? It stops counting and refusing until enabled again.`,
                      `Disable ${rule.name}`,
                      () => call('ratelimits.set', target, { enabled: false }),
                      `Rule ${rule.name} is disabled.`,
                    )
                  }
                >
                  Disable
                </button>
              ) : (
                <button
                  type="button"
                  onClick={() => void act(undefined, 'Enable', () => call('ratelimits.set', target, { enabled: true }), `Rule ${rule.name} is enabled.`)}
                >
                  Enable
                </button>
              )
            ) : null}
            {rule.source === 'database' ? (
              <button
                type="button"
                class="danger"
                onClick={() =>
                  void act(
                    rule.name === 'default'
                      ? 'Remove the stored rule "default"? The environment default from the config applies again.'
                      : `Remove rate-limit rule "${rule.name}"? Its overrides and counts go with it.`,
                    `Remove ${rule.name}`,
                    () => call('ratelimits.remove', target),
                    `Rule ${rule.name} is removed.`,
                  )
                }
              >
                Remove<span class="sr-only"> rule {rule.name}</span>
              </button>
            ) : null}
          </Gate>
        )}
      </td>
    </tr>
  )
}

/** The editor of one rule, below the table; focus moves to its heading when it opens. */
function EditRule({ rule, onClose, onSaved }: { rule: RuleView; onClose: () => void; onSaved: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null)
  useEffect(() => heading.current?.focus(), [])
  return (
    <section class="card" aria-labelledby="edit-rule">
      <h2 id="edit-rule" ref={heading} tabIndex={-1}>
        Edit rule {rule.name}
      </h2>
      {rule.source === 'config' ? <p class="muted">This is the environment default from the config: saving stores a rule "default" that replaces it.</p> : null}
      <RuleForm rule={rule} onSaved={onSaved} onCancel={onClose} />
    </section>
  )
}

/** A rule's fields: a new rule when `rule` is absent, else the changes to it. */
function RuleForm({ rule, onSaved, onCancel }: { rule?: RuleView; onSaved: () => void; onCancel?: () => void }) {
  const [name, setName] = useState('')
  const [match, setMatch] = useState(rule?.match ?? '* /api/*')
  const [key, setKey] = useState<NonNullable<SetRuleInput['key']>>(rule && rule.key !== 'account' ? rule.key : 'ip')
  const [limit, setLimit] = useState(String(rule?.limit ?? 100))
  const [per, setPer] = useState(rule?.window ?? '1m')
  const [burst, setBurst] = useState(rule ? String(rule.burst) : '')
  const [shadow, setShadow] = useState(rule?.mode === 'shadow')
  const [onStoreError, setOnStoreError] = useState<RuleView['onStoreError']>(rule?.onStoreError ?? 'open')
  const [enabled, setEnabled] = useState(rule?.enabled ?? true)
  const action = useAction()
  const ruleName = rule?.name ?? name.trim()
  return (
    <>
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault()
          const input: SetRuleInput = {
            match,
            key,
            limit: Number(limit),
            window: per.trim(),
            ...(burst.trim() ? { burst: Number(burst) } : {}),
            mode: shadow ? 'shadow' : 'enforce',
            onStoreError,
            enabled,
          }
          void action
            .run(
              () => call('ratelimits.set', { name: ruleName }, input),
              (saved) => `Rule ${saved.name} is saved.`,
            )
            .then((saved) => {
              if (!saved) return
              if (!rule) setName('')
              onSaved()
            })
        }}
      >
        {rule ? null : (
          <label>
            Name
            <input required placeholder="api-writes" value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </label>
        )}
        <label>
          Match (method and path)
          <input required placeholder="POST /api/v1/*" value={match} onInput={(e) => setMatch(e.currentTarget.value)} />
        </label>
        <label>
          Count by
          <select value={key} onChange={(e) => setKey(e.currentTarget.value as typeof key)}>
            <option value="ip">ip (client address)</option>
            <option value="user">user</option>
            <option value="apiKey">apiKey</option>
            <option value="global">global (one budget for all)</option>
          </select>
        </label>
        <label>
          Limit (requests)
          <input type="number" required min={1} step={1} value={limit} onInput={(e) => setLimit(e.currentTarget.value)} />
        </label>
        <label>
          Per window
          <input required placeholder="1m" value={per} onInput={(e) => setPer(e.currentTarget.value)} />
        </label>
        <label>
          Burst (optional)
          <input type="number" min={1} step={1} placeholder="= limit" value={burst} onInput={(e) => setBurst(e.currentTarget.value)} />
        </label>
        <label>
          If the store fails
          <select value={onStoreError} onChange={(e) => setOnStoreError(e.currentTarget.value as RuleView['onStoreError'])}>
            <option value="open">{STORE_ERROR_LABEL.open}</option>
            <option value="closed">{STORE_ERROR_LABEL.closed}</option>
            <option value="local">{STORE_ERROR_LABEL.local}</option>
          </select>
        </label>
        <div class="checklist">
          <label>
            <input type="checkbox" checked={shadow} onChange={(e) => setShadow(e.currentTarget.checked)} />
            Shadow mode (count, never refuse)
          </label>
          <label>
            <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />
            Enabled
          </label>
        </div>
        <button type="submit" class="primary" disabled={action.busy}>
          {rule ? `Save rule ${rule.name}` : 'Add the rule'}
        </button>
        {onCancel ? (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </form>
      <ErrorNote error={action.error} />
      <Done message={action.done} />
    </>
  )
}

function Overrides({
  overrides,
  rules,
  action,
  confirm,
  onChange,
}: {
  overrides: readonly OverrideView[]
  rules: readonly RuleView[]
  action: Action
  confirm: Confirm
  onChange: () => void
}) {
  const remove = async (override: OverrideView): Promise<void> => {
    const which = override.rule === '*' ? 'every rule of its kind' : `rule "${override.rule}"`
    if (
      !(await confirm(
        `Remove the override of ${override.subject} for ${which}? The rule's own figures apply to it again.`,
        `Remove override of ${override.subject}`,
      ))
    )
      return
    const removed = await action.run(
      () => call('ratelimits.removeOverride', { subject: override.subject, rule: override.rule }),
      `The override of ${override.subject} is removed.`,
    )
    if (removed !== undefined) onChange()
  }
  return (
    <section class="card" aria-labelledby="overrides">
      <h2 id="overrides">Overrides</h2>
      <Gate permission="ratelimits:write">
        <details class="card">
          <summary>Set an override</summary>
          <OverrideForm rules={rules} onSaved={onChange} />
        </details>
      </Gate>
      {overrides.length === 0 ? (
        <p class="muted">No override: every address, user and API key gets the rules' own figures.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Overrides in force</caption>
            <thead>
              <tr>
                <th scope="col">Subject</th>
                <th scope="col">Rule</th>
                <th scope="col">Figures</th>
                <th scope="col">Reason</th>
                <th scope="col">Expires</th>
                <th scope="col">Changed</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {overrides.map((override) => (
                <tr key={override.id}>
                  <th scope="row">{override.subject}</th>
                  <td>{override.rule === '*' ? <span class="muted">every rule of its kind</span> : override.rule}</td>
                  <td>
                    {override.blocked ? (
                      <span class="badge fail">blocked</span>
                    ) : (
                      <>
                        {override.limit} per {override.window}
                        {override.burst !== null ? <div class="muted">burst {override.burst}</div> : null}
                      </>
                    )}
                  </td>
                  <td>{override.reason || <span class="muted">—</span>}</td>
                  <td>{override.expiresAt ? <Time at={override.expiresAt} /> : <span class="muted">until removed</span>}</td>
                  <td>
                    <Time at={override.updatedAt} />
                  </td>
                  <td class="row-actions">
                    <Gate permission="ratelimits:write">
                      <button type="button" class="danger" onClick={() => void remove(override)}>
                        Remove<span class="sr-only"> the override of {override.subject}</span>
                      </button>
                    </Gate>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  )
}

const SUBJECT_KINDS = [
  { kind: 'ip', label: 'IP address', ruleKey: 'ip', placeholder: '203.0.113.7' },
  { kind: 'user', label: 'User (email)', ruleKey: 'user', placeholder: 'ops@example.com' },
  { kind: 'apikey', label: 'API key (id)', ruleKey: 'apiKey', placeholder: 'key id' },
] as const

function OverrideForm({ rules, onSaved }: { rules: readonly RuleView[]; onSaved: () => void }) {
  const [kind, setKind] = useState<(typeof SUBJECT_KINDS)[number]['kind']>('ip')
  const [value, setValue] = useState('')
  const [rule, setRule] = useState('*')
  const [block, setBlock] = useState(false)
  const [limit, setLimit] = useState('')
  const [per, setPer] = useState('1m')
  const [burst, setBurst] = useState('')
  const [expires, setExpires] = useState('')
  const [reason, setReason] = useState('')
  const action = useAction()
  const subjectKind = SUBJECT_KINDS.find((k) => k.kind === kind) ?? SUBJECT_KINDS[0]
  // Only a rule that counts by the subject's kind can take its override.
  const fitting = rules.filter((r) => r.key === subjectKind.ruleKey)
  return (
    <>
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault()
          const subject = `${kind}:${value.trim()}`
          const figures = block
            ? { block: true }
            : { limit: Number(limit), window: per.trim(), ...(burst.trim() ? { burst: Number(burst) } : {}), block: false }
          void action
            .run(
              () => call('ratelimits.override', { subject, rule, ...figures, ...(expires.trim() ? { expires: expires.trim() } : {}), reason: reason.trim() }),
              (saved) =>
                `${saved.subject} now has ${saved.blocked ? 'a block' : `${saved.limit} per ${saved.window}`} on ${saved.rule === '*' ? 'every rule of its kind' : saved.rule}.`,
            )
            .then((saved) => {
              if (!saved) return
              setValue('')
              setReason('')
              onSaved()
            })
        }}
      >
        <label>
          Subject kind
          <select
            value={kind}
            onChange={(e) => {
              setKind(e.currentTarget.value as typeof kind)
              setRule('*')
            }}
          >
            {SUBJECT_KINDS.map((k) => (
              <option key={k.kind} value={k.kind}>
                {k.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          {subjectKind.label}
          <input required placeholder={subjectKind.placeholder} value={value} onInput={(e) => setValue(e.currentTarget.value)} />
        </label>
        <label>
          Rule
          <select value={rule} onChange={(e) => setRule(e.currentTarget.value)}>
            <option value="*">every rule counting by {subjectKind.ruleKey}</option>
            {fitting.map((r) => (
              <option key={r.name} value={r.name}>
                {r.name}
              </option>
            ))}
          </select>
        </label>
        <fieldset class="checklist">
          <legend>Override</legend>
          <label>
            <input type="radio" name="override-kind" checked={!block} onChange={() => setBlock(false)} />
            Its own limit
          </label>
          <label>
            <input type="radio" name="override-kind" checked={block} onChange={() => setBlock(true)} />
            Block (refuse every request)
          </label>
        </fieldset>
        {block ? null : (
          <>
            <label>
              Limit (requests)
              <input type="number" required min={1} step={1} value={limit} onInput={(e) => setLimit(e.currentTarget.value)} />
            </label>
            <label>
              Per window
              <input required placeholder="1m" value={per} onInput={(e) => setPer(e.currentTarget.value)} />
            </label>
            <label>
              Burst (optional)
              <input type="number" min={1} step={1} placeholder="= limit" value={burst} onInput={(e) => setBurst(e.currentTarget.value)} />
            </label>
          </>
        )}
        <label>
          Expires after (optional)
          <input placeholder="24h" value={expires} onInput={(e) => setExpires(e.currentTarget.value)} />
        </label>
        <label>
          Reason
          <input maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
        </label>
        <button type="submit" class="primary" disabled={action.busy}>
          Set the override
        </button>
      </form>
      <ErrorNote error={action.error} />
      <Done message={action.done} />
    </>
  )
}

/** What the limiter would do with a request: the decision and every rule's part in it. */
function TestRequest() {
  const [method, setMethod] = useState('GET')
  const [path, setPath] = useState('/api/v1/')
  const [ip, setIp] = useState('127.0.0.1')
  const [user, setUser] = useState('')
  const [apiKey, setApiKey] = useState('')
  const [result, setResult] = useState<TestResult>()
  const action = useAction()
  return (
    <section class="card" aria-labelledby="ratelimit-test">
      <h2 id="ratelimit-test">Test a request</h2>
      <p class="muted">What the limiter would decide for such a request now, rule by rule; nothing is spent.</p>
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault()
          setResult(undefined)
          void action
            .run(() =>
              call('ratelimits.test', {
                method: method.trim(),
                path: path.trim(),
                ip: ip.trim(),
                ...(user.trim() ? { user: user.trim() } : {}),
                ...(apiKey.trim() ? { apiKey: apiKey.trim() } : {}),
              }),
            )
            .then((answer) => answer && setResult(answer))
        }}
      >
        <label>
          Method
          <select value={method} onChange={(e) => setMethod(e.currentTarget.value)}>
            {['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </label>
        <label>
          Path
          <input required placeholder="/api/v1/users" value={path} onInput={(e) => setPath(e.currentTarget.value)} />
        </label>
        <label>
          Client IP
          <input required value={ip} onInput={(e) => setIp(e.currentTarget.value)} />
        </label>
        <label>
          User email (optional)
          <input type="email" value={user} onInput={(e) => setUser(e.currentTarget.value)} />
        </label>
        <label>
          API key id (optional)
          <input value={apiKey} onInput={(e) => setApiKey(e.currentTarget.value)} />
        </label>
        <button type="submit" class="primary" disabled={action.busy}>
          Test
        </button>
      </form>
      <ErrorNote error={action.error} />
      {result ? <TestOutcome result={result} /> : null}
    </section>
  )
}

function TestOutcome({ result }: { result: TestResult }) {
  return (
    <div role="status">
      <p>
        <span class={`badge ${result.allowed ? 'pass' : 'fail'}`}>{result.allowed ? 'admitted' : 'refused'}</span>
        {result.decidedBy ? (
          <>
            {result.allowed ? 'most restrictive rule: ' : 'refused by '}
            <strong>{result.decidedBy}</strong>
          </>
        ) : (
          'no rule applies'
        )}
        <span class="muted">{result.shared ? ' — budgets shared by every instance (Redis)' : ' — budgets of this instance only'}</span>
      </p>
      <div class="table-wrap">
        <table>
          <caption class="sr-only">Each rule's part in the decision</caption>
          <thead>
            <tr>
              <th scope="col">Rule</th>
              <th scope="col">Matched</th>
              <th scope="col">Key</th>
              <th scope="col">Mode</th>
              <th scope="col">Figures</th>
              <th scope="col">Override</th>
              <th scope="col">Would admit</th>
              <th scope="col">Remaining</th>
              <th scope="col">Retry after</th>
            </tr>
          </thead>
          <tbody>
            {result.steps.map((step) => (
              <tr key={step.rule}>
                <th scope="row">
                  {step.rule} <span class="muted">({SOURCE_LABEL[step.source]})</span>
                </th>
                <td>{step.matched ? 'yes' : <span class="muted">no{step.reason ? `: ${step.reason}` : ''}</span>}</td>
                <td>
                  <code>{step.key}</code>
                </td>
                <td>{step.mode === 'shadow' ? <span class="badge shadow">shadow</span> : 'enforce'}</td>
                <td>{step.limit !== null ? `${step.limit} per ${step.window ?? '?'}, burst ${step.burst ?? step.limit}` : <span class="muted">—</span>}</td>
                <td>{step.override ?? <span class="muted">—</span>}</td>
                <td>
                  {step.wouldAdmit === undefined ? (
                    <span class="muted">—</span>
                  ) : (
                    <span class={`badge ${step.wouldAdmit ? 'pass' : step.mode === 'shadow' ? 'shadow' : 'fail'}`}>{step.wouldAdmit ? 'yes' : 'no'}</span>
                  )}
                </td>
                <td>{step.remaining ?? <span class="muted">—</span>}</td>
                <td>{step.retryAfter !== undefined ? `${step.retryAfter} s` : <span class="muted">—</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  )
}
