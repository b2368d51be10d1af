/** One flag opened below the list: its settings, variants and rules in order, and the forms that change them. */
import type { FlagView, Rule } from '../../../../src/core/flags/flags.schema.js'
import { call } from '../../api.js'
import { actor, type Action, type Confirm } from '../../ui/hooks.js'
import { Gate, OpenedCard, Time } from '../../ui/parts.js'
import { Table } from '../../ui/table.js'
import { describeWhen } from '../../../../src/core/flags/condition-text.js'
import { rolloutRuleOf, serveText } from './describe.js'
import { RolloutForm } from './rollout-form.js'
import { FlagState, switchFlag } from './row.js'
import { AddRule } from './rule-form.js'
import { FlagSettings } from './settings-form.js'

export function FlagDetail({
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
  const rollout = rolloutRuleOf(flag)
  const removeRule = (index: number, rule: Rule): Promise<unknown> => {
    const named = rule.description ? ` ("${rule.description}")` : ''
    return actor(action, confirm, onChange)(
      `Remove rule ${index}${named} of flag ${flag.key}? It serves ${serveText(rule)} to ${describeWhen(rule)}.`,
      `Remove rule ${index}`,
      () => call('flags.remove-rule', { key: flag.key, index }),
      `Rule ${index} of ${flag.key} is removed.`,
    )
  }
  return (
    <OpenedCard
      labelId="flag-detail"
      title={
        <>
          Flag <code>{flag.key}</code> <FlagState flag={flag} />
        </>
      }
    >
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
      <Table caption={`Variants of ${flag.key}`} columns={['Variant', 'Value', 'Role']}>
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
      </Table>
      <Table caption={`Rules of ${flag.key}, in order: the first that matches decides`} columns={['Index', 'Description', 'When', 'Serves', 'Actions']}>
        {flag.rules.map((rule, index) => (
          <tr key={index}>
            <th scope="row">{index}</th>
            <td>{rule.description || <span class="muted">—</span>}</td>
            <td>
              <code>{describeWhen(rule)}</code>
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
      </Table>
      {flag.rules.length === 0 ? <p class="muted">No rule: while on, everyone gets {flag.defaultVariant}.</p> : null}
      <Gate permission="flags:write">
        <RolloutForm flag={flag} onSaved={onChange} />
        <AddRule flag={flag} segments={segments} onSaved={onChange} />
        <FlagSettings flag={flag} onSaved={onChange} />
      </Gate>
    </OpenedCard>
  )
}
