/**
 * Feature flags: the environment's flags with their state, rollout and rules; create, switch on and off, set
 * a percentage rollout, delete; a flag's detail with its variants and its rules in order (add one, remove
 * one); and the segments the rules reuse, read only.
 */
import { useEffect, useRef, useState } from 'preact/hooks'
import type {
  Condition,
  ConditionOperator,
  CreateFlagInput,
  FlagType,
  FlagView,
  JsonValue,
  Rollout,
  Rule,
  SegmentView,
  Variant,
} from '../../../src/core/flags/flags.schema.js'
import { ApiError, call } from '../api.js'
import { useAction, useLoad, type Action } from '../ui/hooks.js'
import { Done, ErrorNote, Gate, Time, useConfirm } from '../ui/parts.js'

type Confirm = (question: string, act: string) => Promise<boolean>

/** How each operator reads in a rule (the CLI's condition language). */
const OPERATOR_TEXT: Record<ConditionOperator, string> = {
  equals: '=',
  in: 'in',
  notIn: 'not in',
  startsWith: 'startsWith',
  endsWith: 'endsWith',
  lt: '<',
  lte: '<=',
  gt: '>',
  gte: '>=',
  semverEq: 'semver =',
  semverLt: 'semver <',
  semverLte: 'semver <=',
  semverGt: 'semver >',
  semverGte: 'semver >=',
  inCidr: 'in cidr',
}
const OPERATORS = Object.keys(OPERATOR_TEXT) as ConditionOperator[]
/** The context attributes Gantry knows (any other name is the app's own). */
const KNOWN_ATTRIBUTES = ['userId', 'email', 'emailDomain', 'role', 'permissions', 'apiKeyId', 'ip']
const ROLLOUT_BUCKETS = 100_000

/** A share of the 100,000 buckets in percent, at most three decimals. */
const percentOf = (weight: number): number => Math.round(weight) / 1000
const percentText = (weight: number): string => `${percentOf(weight)}%`

/** The rule `flags.rollout` changes when it names none: the last one with no condition that serves a rollout. */
function rolloutRuleOf(flag: FlagView): { index: number; rollout: Rollout } | undefined {
  for (let index = flag.rules.length - 1; index >= 0; index--) {
    const rule = flag.rules[index]
    if (rule && rule.conditions.length === 0 && rule.segments.length === 0 && 'rollout' in rule.serve) return { index, rollout: rule.serve.rollout }
  }
  return undefined
}

function splitText(rollout: Rollout): string {
  return rollout.variants.map((v) => `${v.variant} ${percentText(v.weight)}`).join(' · ')
}

function conditionText(condition: Condition): string {
  const values =
    condition.values.length === 1 && condition.operator !== 'in' && condition.operator !== 'notIn' ? condition.values[0] : `[${condition.values.join(', ')}]`
  return `${condition.attribute} ${OPERATOR_TEXT[condition.operator]} ${values}`
}

function whenText(rule: Rule): string {
  const clauses = [...rule.conditions.map(conditionText), ...rule.segments.map((s) => `segment ${s}`)]
  return clauses.length > 0 ? clauses.join(' and ') : 'everyone'
}

function serveText(rule: Rule): string {
  if ('variant' in rule.serve) return rule.serve.variant
  const { rollout } = rule.serve
  return `rollout by ${rollout.by}: ${splitText(rollout)} (without ${rollout.by}: ${rollout.fallback})`
}

export function Flags() {
  const [staleOnly, setStaleOnly] = useState(false)
  const [search, setSearch] = useState('')
  const [selected, setSelected] = useState<string>()
  const list = useLoad(() => call('flags.list', staleOnly ? { stale: true } : {}), [staleOnly])
  const segments = useLoad(() => call('flags.segments'), [])
  const action = useAction()
  const [confirmDialog, confirm] = useConfirm()
  const needle = search.trim().toLowerCase()
  const flags = (list.data?.data ?? []).filter((f) => !needle || f.key.includes(needle) || f.description.toLowerCase().includes(needle))
  const flag = list.data?.data.find((f) => f.key === selected)
  const segmentNames = segments.data?.data.map((s) => s.name) ?? []
  const changed = (): void => {
    list.reload()
    segments.reload()
  }

  return (
    <>
      <h1>Feature flags</h1>
      <Gate permission="flags:write">
        <CreateFlag
          onCreated={(key) => {
            list.reload()
            setSelected(key)
          }}
        />
      </Gate>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search
          <input type="search" placeholder="key or description" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
        </label>
        <div class="checklist">
          <label>
            <input type="checkbox" checked={staleOnly} onChange={(e) => setStaleOnly(e.currentTarget.checked)} />
            Only stale flags
          </label>
        </div>
      </form>
      <ErrorNote error={list.error} />
      <ErrorNote error={action.error} />
      <Done message={action.done} />
      {confirmDialog}
      <div class="table-wrap">
        <table aria-busy={list.loading} data-table="flags">
          <caption>
            {list.data ? `${flags.length} ${staleOnly ? 'stale ' : ''}flag${flags.length === 1 ? '' : 's'}` : 'Feature flags'}
            {needle ? ` matching "${search.trim()}"` : ''}
          </caption>
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Description</th>
              <th scope="col">Type</th>
              <th scope="col">State</th>
              <th scope="col">Rollout</th>
              <th scope="col">Rules</th>
              <th scope="col">Updated</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {flags.map((f) => (
              <FlagRow
                key={f.key}
                flag={f}
                action={action}
                confirm={confirm}
                onOpen={() => setSelected(f.key)}
                onChange={changed}
                onDeleted={() => {
                  if (selected === f.key) setSelected(undefined)
                  changed()
                }}
              />
            ))}
          </tbody>
        </table>
      </div>
      {list.data && flags.length === 0 ? <p class="muted">{staleOnly ? 'No stale flag.' : needle ? 'No flag matches.' : 'No flag yet.'}</p> : null}
      {flag ? (
        <FlagDetail
          key={flag.key}
          flag={flag}
          segments={segmentNames}
          action={action}
          confirm={confirm}
          onChange={changed}
          onClose={() => setSelected(undefined)}
        />
      ) : null}
      <Segments segments={segments.data?.data} error={segments.error} loading={segments.loading} />
    </>
  )
}

/** On or off: switching asks first, naming what the flag will serve. */
function switchFlag(flag: FlagView, action: Action, confirm: Confirm, onChange: () => void): void {
  const question = flag.enabled
    ? `Switch flag ${flag.key} off? Everyone gets its off variant "${flag.offVariant}", on every instance within a second.`
    : `Switch flag ${flag.key} on? It serves its rules and default variant "${flag.defaultVariant}", on every instance within a second.`
  void (async () => {
    if (!(await confirm(question, flag.enabled ? `Switch ${flag.key} off` : `Switch ${flag.key} on`))) return
    const done = await action.run(
      () => call('flags.update', { key: flag.key }, { enabled: !flag.enabled }),
      (f) => `Flag ${f.key} is ${f.enabled ? 'on' : 'off'}.`,
    )
    if (done) onChange()
  })()
}

function FlagRow({
  flag,
  action,
  confirm,
  onOpen,
  onChange,
  onDeleted,
}: {
  flag: FlagView
  action: Action
  confirm: Confirm
  onOpen: () => void
  onChange: () => void
  onDeleted: () => void
}) {
  const rollout = rolloutRuleOf(flag)
  return (
    <tr>
      <th scope="row">
        <code>{flag.key}</code>
      </th>
      <td>{flag.description || <span class="muted">—</span>}</td>
      <td>{flag.type}</td>
      <td>
        <span class={`badge ${flag.enabled ? 'pass' : 'warn'}`}>{flag.enabled ? 'on' : 'off'}</span>
        {flag.stale ? <span class="badge fail">stale</span> : null}
        {flag.lifetime === 'permanent' ? <span class="badge shadow">permanent</span> : null}
      </td>
      <td>{rollout ? splitText(rollout.rollout) : <span class="muted">—</span>}</td>
      <td>{flag.rules.length}</td>
      <td>
        <Time at={flag.updatedAt} />
      </td>
      <td class="row-actions">
        <button type="button" onClick={onOpen}>
          Details<span class="sr-only"> of {flag.key}</span>
        </button>
        <Gate permission="flags:write">
          <button type="button" onClick={() => switchFlag(flag, action, confirm, onChange)}>
            {flag.enabled ? 'Switch off' : 'Switch on'}
            <span class="sr-only"> {flag.key}</span>
          </button>
          <button
            type="button"
            class="danger"
            onClick={() =>
              void (async () => {
                if (
                  !(await confirm(
                    `Delete the flag ${flag.key}? Code that still reads it falls back to its own default. This cannot be undone.`,
                    `Delete ${flag.key}`,
                  ))
                )
                  return
                if (await action.run(() => call('flags.delete', { key: flag.key }), `Flag ${flag.key} is deleted.`)) onDeleted()
              })()
            }
          >
            Delete<span class="sr-only"> {flag.key}</span>
          </button>
        </Gate>
      </td>
    </tr>
  )
}

function FlagDetail({
  flag,
  segments,
  action,
  confirm,
  onChange,
  onClose,
}: {
  flag: FlagView
  segments: readonly string[]
  action: Action
  confirm: Confirm
  onChange: () => void
  onClose: () => void
}) {
  const heading = useRef<HTMLHeadingElement>(null)
  useEffect(() => heading.current?.focus(), [])
  const rollout = rolloutRuleOf(flag)
  const removeRule = async (index: number, rule: Rule): Promise<void> => {
    const named = rule.description ? ` ("${rule.description}")` : ''
    if (!(await confirm(`Remove rule ${index}${named} of flag ${flag.key}? It serves ${serveText(rule)} to ${whenText(rule)}.`, `Remove rule ${index}`))) return
    if (await action.run(() => call('flags.remove-rule', { key: flag.key, index }), `Rule ${index} of ${flag.key} is removed.`)) onChange()
  }
  return (
    <section class="card" aria-labelledby="flag-detail">
      <h2 id="flag-detail" ref={heading} tabIndex={-1}>
        Flag <code>{flag.key}</code> <span class={`badge ${flag.enabled ? 'pass' : 'warn'}`}>{flag.enabled ? 'on' : 'off'}</span>
        {flag.stale ? <span class="badge fail">stale</span> : null}
      </h2>
      <p>{flag.description || <span class="muted">No description.</span>}</p>
      {flag.stale ? <p class="note">This temporary flag is past the environment's flags.staleAfter: remove it from the code, then here.</p> : null}
      <dl>
        <dt>Type</dt>
        <dd>{flag.type}</dd>
        <dt>Lifetime</dt>
        <dd>{flag.lifetime}</dd>
        <dt>Serves while on, when no rule matches</dt>
        <dd>{flag.defaultVariant}</dd>
        <dt>Serves while off</dt>
        <dd>{flag.offVariant}</dd>
        <dt>Created</dt>
        <dd>
          <Time at={flag.createdAt} /> by {flag.createdBy}
        </dd>
        <dt>Updated</dt>
        <dd>
          <Time at={flag.updatedAt} />
        </dd>
      </dl>
      <div class="actions">
        <Gate permission="flags:write">
          <button type="button" onClick={() => switchFlag(flag, action, confirm, onChange)}>
            {flag.enabled ? 'Switch off' : 'Switch on'}
          </button>
        </Gate>
        <button type="button" onClick={onClose}>
          Close the details
        </button>
      </div>
      <div class="table-wrap">
        <table>
          <caption>Variants of {flag.key}</caption>
          <thead>
            <tr>
              <th scope="col">Variant</th>
              <th scope="col">Value</th>
              <th scope="col">Role</th>
            </tr>
          </thead>
          <tbody>
            {flag.variants.map((variant) => (
              <tr key={variant.name}>
                <th scope="row">{variant.name}</th>
                <td>
                  <code>{JSON.stringify(variant.value)}</code>
                </td>
                <td>
                  {variant.name === flag.defaultVariant ? <span class="badge pass">default</span> : null}
                  {variant.name === flag.offVariant ? <span class="badge shadow">off</span> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div class="table-wrap">
        <table>
          <caption>Rules of {flag.key}, in order: the first that matches decides</caption>
          <thead>
            <tr>
              <th scope="col">Index</th>
              <th scope="col">Description</th>
              <th scope="col">When</th>
              <th scope="col">Serves</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {flag.rules.map((rule, index) => (
              <tr key={index}>
                <th scope="row">{index}</th>
                <td>{rule.description || <span class="muted">—</span>}</td>
                <td>
                  <code>{whenText(rule)}</code>
                </td>
                <td>
                  {serveText(rule)}
                  {rollout?.index === index ? <div class="muted">the rollout that "Set the rollout" changes</div> : null}
                </td>
                <td class="row-actions">
                  <Gate permission="flags:write">
                    <button type="button" class="danger" onClick={() => void removeRule(index, rule)}>
                      Remove<span class="sr-only"> rule {index}</span>
                    </button>
                  </Gate>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {flag.rules.length === 0 ? <p class="muted">No rule: while on, everyone gets {flag.defaultVariant}.</p> : null}
      <Gate permission="flags:write">
        <RolloutForm flag={flag} onSaved={onChange} />
        <AddRule flag={flag} segments={segments} onSaved={onChange} />
        <FlagSettings flag={flag} onSaved={onChange} />
      </Gate>
    </section>
  )
}

/**
 * The percentage rollout: one share for a flag of two variants (the other gets the rest), a share for each
 * variant otherwise. It changes the last unconditional rollout rule, or adds one after the rules.
 */
function RolloutForm({ flag, onSaved }: { flag: FlagView; onSaved: () => void }) {
  const current = rolloutRuleOf(flag)?.rollout
  const weightOf = (name: string): number | undefined => current?.variants.find((v) => v.variant === name)?.weight
  const pair = flag.variants.length === 2
  // With two variants: the share of the one that is not the off variant.
  const rising = flag.variants.find((v) => v.name !== flag.offVariant)?.name ?? flag.variants[0]?.name ?? ''
  const other = flag.variants.find((v) => v.name !== rising)?.name ?? ''
  const [shares, setShares] = useState<Record<string, string>>(() =>
    Object.fromEntries(
      flag.variants.map((v) => [v.name, String(percentOf(weightOf(v.name) ?? (current ? 0 : v.name === flag.offVariant ? ROLLOUT_BUCKETS : 0)))]),
    ),
  )
  const [by, setBy] = useState(current?.by ?? 'userId')
  const action = useAction()
  const thousandths = (text: string): number => Math.round(Number(text || '0') * 1000)
  const total = pair ? ROLLOUT_BUCKETS : flag.variants.reduce((sum, v) => sum + thousandths(shares[v.name] ?? '0'), 0)
  const split = pair
    ? [
        { variant: rising, percent: thousandths(shares[rising] ?? '0') / 1000 },
        { variant: other, percent: (ROLLOUT_BUCKETS - thousandths(shares[rising] ?? '0')) / 1000 },
      ]
    : flag.variants.map((v) => ({ variant: v.name, percent: thousandths(shares[v.name] ?? '0') / 1000 }))
  return (
    <details class="card">
      <summary>Set the rollout</summary>
      <p class="muted">
        {current ? `Now: ${splitText(current)}, by ${current.by}.` : 'No rollout yet: this adds one after the rules, for everyone they leave.'} Users are hashed
        into 100,000 buckets; a growing share keeps everyone it had.{flag.enabled ? '' : ` The flag is off: it serves ${flag.offVariant} until switched on.`}
      </p>
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault()
          void action
            .run(
              () => call('flags.rollout', { key: flag.key }, { split, by: by.trim() || 'userId' }),
              (f) => {
                const now = rolloutRuleOf(f)
                return now ? `Flag ${f.key} now rolls out ${splitText(now.rollout)}.` : `Flag ${f.key} is saved.`
              },
            )
            .then((f) => f && onSaved())
        }}
      >
        {pair ? (
          <label>
            Percent served {rising} (the rest: {other})
            <input
              type="number"
              required
              min={0}
              max={100}
              step={0.001}
              value={shares[rising] ?? '0'}
              onInput={(e) => {
                const value = e.currentTarget.value
                setShares((s) => ({ ...s, [rising]: value }))
              }}
            />
          </label>
        ) : (
          flag.variants.map((variant) => (
            <label key={variant.name}>
              Percent served {variant.name}
              <input
                type="number"
                required
                min={0}
                max={100}
                step={0.001}
                value={shares[variant.name] ?? '0'}
                onInput={(e) => {
                  const value = e.currentTarget.value
                  setShares((s) => ({ ...s, [variant.name]: value }))
                }}
              />
            </label>
          ))
        )}
        <label>
          Bucket by attribute
          <input required list="flag-attributes" value={by} onInput={(e) => setBy(e.currentTarget.value)} />
        </label>
        <button type="submit" class="primary" disabled={action.busy || total !== ROLLOUT_BUCKETS}>
          Set the rollout
        </button>
        {pair ? null : (
          <span class={total === ROLLOUT_BUCKETS ? 'muted' : 'badge warn'} role="status">
            Total {percentText(total)}
            {total === ROLLOUT_BUCKETS ? '' : ' (must be 100%)'}
          </span>
        )}
      </form>
      <datalist id="flag-attributes">
        {KNOWN_ATTRIBUTES.map((a) => (
          <option key={a} value={a} />
        ))}
      </datalist>
      <ErrorNote error={action.error} />
      <Done message={action.done} />
    </details>
  )
}

/** A rule of one condition (or none: everyone) and optionally a segment, serving one variant, after the others. */
function AddRule({ flag, segments, onSaved }: { flag: FlagView; segments: readonly string[]; onSaved: () => void }) {
  const [description, setDescription] = useState('')
  const [attribute, setAttribute] = useState('')
  const [operator, setOperator] = useState<ConditionOperator>('in')
  const [values, setValues] = useState('')
  const [segment, setSegment] = useState('')
  const [variant, setVariant] = useState(flag.defaultVariant)
  const action = useAction()
  return (
    <details class="card">
      <summary>Add a rule</summary>
      <p class="muted">The rule goes after the existing ones. Leave the attribute empty for a rule without a condition.</p>
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault()
          const list = values
            .split(',')
            .map((v) => v.trim())
            .filter(Boolean)
          const conditions = attribute.trim() ? [{ attribute: attribute.trim(), operator, values: list }] : []
          void action
            .run(
              () =>
                call(
                  'flags.add-rule',
                  { key: flag.key },
                  { rule: { description: description.trim(), conditions, segments: segment ? [segment] : [], serve: { variant } } },
                ),
              (f) => `Added rule ${f.rules.length - 1} to flag ${f.key}.`,
            )
            .then((f) => {
              if (!f) return
              setDescription('')
              setValues('')
              onSaved()
            })
        }}
      >
        <label>
          Description
          <input maxLength={500} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </label>
        <label>
          Attribute
          <input list="flag-rule-attributes" placeholder="role" value={attribute} onInput={(e) => setAttribute(e.currentTarget.value)} />
        </label>
        <datalist id="flag-rule-attributes">
          {KNOWN_ATTRIBUTES.map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
        <label>
          Operator
          <select value={operator} onChange={(e) => setOperator(e.currentTarget.value as ConditionOperator)}>
            {OPERATORS.map((op) => (
              <option key={op} value={op}>
                {OPERATOR_TEXT[op]} ({op})
              </option>
            ))}
          </select>
        </label>
        <label>
          Values (comma-separated)
          <input required={attribute.trim() !== ''} placeholder="admin, operator" value={values} onInput={(e) => setValues(e.currentTarget.value)} />
        </label>
        <label>
          Segment
          <select value={segment} onChange={(e) => setSegment(e.currentTarget.value)}>
            <option value="">none</option>
            {segments.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Serve variant
          <select value={variant} onChange={(e) => setVariant(e.currentTarget.value)}>
            {flag.variants.map((v) => (
              <option key={v.name}>{v.name}</option>
            ))}
          </select>
        </label>
        <button type="submit" class="primary" disabled={action.busy}>
          Add the rule
        </button>
      </form>
      <ErrorNote error={action.error} />
      <Done message={action.done} />
    </details>
  )
}

/** Description, lifetime, and the variants served by default and while off. */
function FlagSettings({ flag, onSaved }: { flag: FlagView; onSaved: () => void }) {
  const [description, setDescription] = useState(flag.description)
  const [lifetime, setLifetime] = useState(flag.lifetime)
  const [defaultVariant, setDefaultVariant] = useState(flag.defaultVariant)
  const [offVariant, setOffVariant] = useState(flag.offVariant)
  const action = useAction()
  return (
    <details class="card">
      <summary>Change the settings</summary>
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault()
          void action
            .run(
              () => call('flags.update', { key: flag.key }, { description: description.trim(), lifetime, defaultVariant, offVariant }),
              `Flag ${flag.key} is saved.`,
            )
            .then((f) => f && onSaved())
        }}
      >
        <label>
          Description
          <input maxLength={1000} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </label>
        <label>
          Lifetime
          <select value={lifetime} onChange={(e) => setLifetime(e.currentTarget.value as FlagView['lifetime'])}>
            <option value="temporary">temporary (stale after a while)</option>
            <option value="permanent">permanent</option>
          </select>
        </label>
        <label>
          Default variant
          <select value={defaultVariant} onChange={(e) => setDefaultVariant(e.currentTarget.value)}>
            {flag.variants.map((v) => (
              <option key={v.name}>{v.name}</option>
            ))}
          </select>
        </label>
        <label>
          Off variant
          <select value={offVariant} onChange={(e) => setOffVariant(e.currentTarget.value)}>
            {flag.variants.map((v) => (
              <option key={v.name}>{v.name}</option>
            ))}
          </select>
        </label>
        <button type="submit" class="primary" disabled={action.busy}>
          Save the settings
        </button>
      </form>
      <ErrorNote error={action.error} />
      <Done message={action.done} />
    </details>
  )
}

/** `name = value` lines as the variants of a flag of `type`; a problem with a line is thrown as the API would word it. */
function parseVariants(type: FlagType, text: string): Variant[] {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
  return lines.map((line, at) => {
    const eq = line.indexOf('=')
    const name = (eq === -1 ? line : line.slice(0, eq)).trim()
    const raw = eq === -1 ? name : line.slice(eq + 1).trim()
    const problem = (detail: string) => new ApiError(400, { title: 'Check the variants', detail: `Line ${at + 1} (${name}): ${detail}` })
    let value: JsonValue = raw
    if (type === 'number') {
      value = Number(raw)
      if (raw === '' || !Number.isFinite(value)) throw problem('the value is not a number.')
    } else if (type === 'json') {
      try {
        value = JSON.parse(raw) as JsonValue
      } catch {
        throw problem('the value is not JSON.')
      }
    } else if (type === 'boolean') {
      if (raw !== 'true' && raw !== 'false') throw problem('the value is true or false.')
      value = raw === 'true'
    }
    return { name, value }
  })
}

function CreateFlag({ onCreated }: { onCreated: (key: string) => void }) {
  const [key, setKey] = useState('')
  const [description, setDescription] = useState('')
  const [type, setType] = useState<FlagType>('boolean')
  const [lifetime, setLifetime] = useState<'temporary' | 'permanent'>('temporary')
  const [variants, setVariants] = useState('')
  const action = useAction()
  const ownVariants = type !== 'boolean' || variants.trim() !== ''
  return (
    <details class="card">
      <summary>Create a flag</summary>
      <p class="muted">A new flag is off until switched on. A boolean flag gets the variants on (true) and off (false) unless you name its own.</p>
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault()
          void action
            .run(
              () => {
                const input: CreateFlagInput = {
                  key: key.trim(),
                  type,
                  description: description.trim(),
                  lifetime,
                  ...(ownVariants ? { variants: parseVariants(type, variants) } : {}),
                }
                return call('flags.create', input)
              },
              (f) => `Created flag ${f.key} (off).`,
            )
            .then((f) => {
              if (!f) return
              setKey('')
              setDescription('')
              setVariants('')
              onCreated(f.key)
            })
        }}
      >
        <label>
          Key
          <input required maxLength={100} placeholder="new-checkout" value={key} onInput={(e) => setKey(e.currentTarget.value)} />
        </label>
        <label>
          Description
          <input maxLength={1000} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </label>
        <label>
          Type
          <select value={type} onChange={(e) => setType(e.currentTarget.value as FlagType)}>
            <option value="boolean">boolean</option>
            <option value="string">string</option>
            <option value="number">number</option>
            <option value="json">json</option>
          </select>
        </label>
        <label>
          Lifetime
          <select value={lifetime} onChange={(e) => setLifetime(e.currentTarget.value as 'temporary' | 'permanent')}>
            <option value="temporary">temporary (stale after a while)</option>
            <option value="permanent">permanent</option>
          </select>
        </label>
        <label>
          Variants, one per line: name = value{type === 'boolean' ? ' (optional)' : ''}
          <textarea
            rows={3}
            required={type !== 'boolean'}
            placeholder={type === 'json' ? 'small = {"size": 1}' : type === 'number' ? 'low = 10' : type === 'boolean' ? 'on = true' : 'blue = blue'}
            value={variants}
            onInput={(e) => setVariants(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="primary" disabled={action.busy}>
          Create the flag
        </button>
      </form>
      <p class="muted">The first variant is served by default and while off unless you change it afterwards.</p>
      <ErrorNote error={action.error} />
      <Done message={action.done} />
    </details>
  )
}

function Segments({ segments, error, loading }: { segments: readonly SegmentView[] | undefined; error: unknown; loading: boolean }) {
  return (
    <section aria-labelledby="flag-segments">
      <h2 id="flag-segments">Segments</h2>
      <ErrorNote error={error} />
      {segments && segments.length === 0 ? (
        <p class="muted">No segment: named condition sets that rules can reuse (gantry flags set-segment).</p>
      ) : (
        <div class="table-wrap">
          <table aria-busy={loading}>
            <caption class="sr-only">Segments, with the flags whose rules name each</caption>
            <thead>
              <tr>
                <th scope="col">Segment</th>
                <th scope="col">Description</th>
                <th scope="col">Conditions</th>
                <th scope="col">Used by</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {segments?.map((segment) => (
                <tr key={segment.name}>
                  <th scope="row">{segment.name}</th>
                  <td>{segment.description || <span class="muted">—</span>}</td>
                  <td>
                    <code>{segment.conditions.map(conditionText).join(' and ')}</code>
                  </td>
                  <td>{segment.usedBy.length > 0 ? segment.usedBy.join(', ') : <span class="muted">no flag</span>}</td>
                  <td>
                    <Time at={segment.updatedAt} />
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
