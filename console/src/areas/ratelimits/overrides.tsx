/** The overrides in force: one address, user or API key with its own figures, or blocked, on a rule or all of its kind. */
import type { OverrideView, RuleView } from '../../../../src/core/ratelimits/ratelimits.schema.js'
import { call } from '../../api.js'
import { actor, type Action, type Confirm } from '../../ui/hooks.js'
import { Gate, Time } from '../../ui/parts.js'
import { Table } from '../../ui/table.js'
import { OverrideForm } from './override-form.js'

export function Overrides({
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
  const remove = (override: OverrideView): Promise<unknown> => {
    const which = override.rule === '*' ? 'every rule of its kind' : `rule "${override.rule}"`
    return actor(action, confirm, onChange)(
      `Remove the override of ${override.subject} for ${which}? The rule's own figures apply to it again.`,
      `Remove override of ${override.subject}`,
      () => call('ratelimits.removeOverride', { subject: override.subject, rule: override.rule }),
      `The override of ${override.subject} is removed.`,
    )
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
        <Table caption="Overrides in force" captionClass="sr-only" columns={['Subject', 'Rule', 'Figures', 'Reason', 'Expires', 'Changed', 'Actions']}>
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
        </Table>
      )}
    </section>
  )
}
