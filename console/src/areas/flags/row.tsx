/** A flag's row in the list, with its actions; and switching a flag on or off, which its detail offers too. */
import type { FlagView } from '../../../../src/core/flags/flags.schema.js'
import { call } from '../../api.js'
import { actor, type Action, type Confirm } from '../../ui/hooks.js'
import { Gate, Time } from '../../ui/parts.js'
import { rolloutRuleOf, splitText } from './describe.js'

/** On or off: switching asks first, naming what the flag will serve. */
export function switchFlag(flag: FlagView, action: Action, confirm: Confirm, onChange: () => void): void {
  void actor(action, confirm, onChange)(
    flag.enabled
      ? `Switch flag ${flag.key} off? Everyone gets its off variant "${flag.offVariant}", on every instance within a second.`
      : `Switch flag ${flag.key} on? It serves its rules and default variant "${flag.defaultVariant}", on every instance within a second.`,
    flag.enabled ? `Switch ${flag.key} off` : `Switch ${flag.key} on`,
    () => call('flags.update', { key: flag.key }, { enabled: !flag.enabled }),
    (f) => `Flag ${f.key} is ${f.enabled ? 'on' : 'off'}.`,
  )
}

/** Whether the flag is on, and stale. */
export function FlagState({ flag }: { flag: FlagView }) {
  return (
    <>
      <span class={`badge ${flag.enabled ? 'pass' : 'warn'}`}>{flag.enabled ? 'on' : 'off'}</span>
      {flag.stale ? <span class="badge fail">stale</span> : null}
    </>
  )
}

export function FlagRow({
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
  const remove = (): Promise<unknown> =>
    actor(action, confirm, onDeleted)(
      `Delete the flag ${flag.key}? Code that still reads it falls back to its own default. This cannot be undone.`,
      `Delete ${flag.key}`,
      () => call('flags.delete', { key: flag.key }),
      `Flag ${flag.key} is deleted.`,
    )
  return (
    <tr>
      <th scope="row">
        <code>{flag.key}</code>
      </th>
      <td>{flag.description || <span class="muted">—</span>}</td>
      <td>{flag.type}</td>
      <td>
        <FlagState flag={flag} />
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
          <button type="button" class="danger" onClick={() => void remove()}>
            Delete<span class="sr-only"> {flag.key}</span>
          </button>
        </Gate>
      </td>
    </tr>
  )
}
