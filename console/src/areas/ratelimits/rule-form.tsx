/** A rule's fields, to add a rule or change one; the editor of one rule opens below the table. */
import { useState } from 'preact/hooks'
import type { RuleView, SetRuleInput } from '../../../../src/core/ratelimits/ratelimits.schema.js'
import { call } from '../../api.js'
import { Checkbox, Form, SelectField, TextField } from '../../ui/fields.js'
import { useAction, type Action } from '../../ui/hooks.js'
import { OpenedCard, Outcome } from '../../ui/parts.js'
import { STORE_ERROR_LABEL } from './labels.js'
import { LimitFields, limitInput, type LimitFigures } from './limit-fields.js'

const KEYS: readonly { value: NonNullable<SetRuleInput['key']>; text: string }[] = [
  { value: 'ip', text: 'ip (client address)' },
  { value: 'user', text: 'user' },
  { value: 'apiKey', text: 'apiKey' },
  { value: 'global', text: 'global (one budget for all)' },
]
const STORE_ERRORS = (['open', 'closed', 'local'] as const).map((value) => ({ value, text: STORE_ERROR_LABEL[value] }))

/** The editor of one rule, below the table; focus moves to its heading when it opens. */
export function EditRule({ rule, action, onClose, onSaved }: { rule: RuleView; action: Action; onClose: () => void; onSaved: () => void }) {
  return (
    <OpenedCard labelId="edit-rule" title={`Edit rule ${rule.name}`}>
      {rule.source === 'config' ? <p class="muted">This is the environment default from the config: saving stores a rule "default" that replaces it.</p> : null}
      {/* The page's action: the editor closes on success, and the page's note says it was saved. */}
      <RuleForm rule={rule} action={action} onSaved={onSaved} onCancel={onClose} />
    </OpenedCard>
  )
}

/** A rule's fields: a new rule when `rule` is absent, else the changes to it. */
export function RuleForm({ rule, action: given, onSaved, onCancel }: { rule?: RuleView; action?: Action; onSaved: () => void; onCancel?: () => void }) {
  const [name, setName] = useState('')
  const [match, setMatch] = useState(rule?.match ?? '* /api/*')
  const [key, setKey] = useState<NonNullable<SetRuleInput['key']>>(rule && rule.key !== 'account' && rule.key !== 'client' ? rule.key : 'ip')
  const [figures, setFigures] = useState<LimitFigures>({ limit: String(rule?.limit ?? 100), per: rule?.window ?? '1m', burst: rule ? String(rule.burst) : '' })
  const [shadow, setShadow] = useState(rule?.mode === 'shadow')
  const [onStoreError, setOnStoreError] = useState<RuleView['onStoreError']>(rule?.onStoreError ?? 'open')
  const [enabled, setEnabled] = useState(rule?.enabled ?? true)
  const own = useAction()
  const action = given ?? own
  const ruleName = rule?.name ?? name.trim()
  return (
    <>
      <Form
        class="inline-form"
        onSubmit={() => {
          const input: SetRuleInput = {
            match,
            key,
            ...limitInput(figures),
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
        {rule ? null : <TextField label="Name" required placeholder="api-writes" value={name} onValue={setName} />}
        <TextField label="Match (method and path)" required placeholder="POST /api/v1/*" value={match} onValue={setMatch} />
        <SelectField label="Count by" value={key} onValue={setKey} choices={KEYS} />
        <LimitFields figures={figures} onChange={setFigures} />
        <SelectField label="If the store fails" value={onStoreError} onValue={setOnStoreError} choices={STORE_ERRORS} />
        <div class="checklist">
          <Checkbox label="Shadow mode (count, never refuse)" checked={shadow} onChecked={setShadow} />
          <Checkbox label="Enabled" checked={enabled} onChecked={setEnabled} />
        </div>
        <button type="submit" class="primary" disabled={action.busy}>
          {rule ? `Save rule ${rule.name}` : 'Add the rule'}
        </button>
        {onCancel ? (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </Form>
      {given ? null : <Outcome of={action} />}
    </>
  )
}
