/** A rate-limit rule's row: its figures, its counts across every instance, and what may be done to it. */
import type { RuleView } from '../../../../src/core/ratelimits/ratelimits.schema.js'
import { call } from '../../api.js'
import { actor, type Action, type Confirm } from '../../ui/hooks.js'
import { Gate, Time } from '../../ui/parts.js'
import { SOURCE_LABEL, STORE_ERROR_LABEL } from './labels.js'

export function RuleRow({
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
  const act = actor(action, confirm, onChange)
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
