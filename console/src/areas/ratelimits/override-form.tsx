/** Setting an override: a subject, the rule (or every rule counting by its kind), its own figures or a block. */
import { useState } from 'preact/hooks'
import type { RuleView } from '../../../../src/core/ratelimits/ratelimits.schema.js'
import { call } from '../../api.js'
import { Form, SelectField, TextField } from '../../ui/fields.js'
import { useAction } from '../../ui/hooks.js'
import { Outcome } from '../../ui/parts.js'
import { LimitFields, limitInput, type LimitFigures } from './limit-fields.js'

const SUBJECT_KINDS = [
  { kind: 'ip', label: 'IP address', ruleKey: 'ip', placeholder: '203.0.113.7' },
  { kind: 'user', label: 'User (email)', ruleKey: 'user', placeholder: 'ops@example.com' },
  { kind: 'apikey', label: 'API key (id)', ruleKey: 'apiKey', placeholder: 'key id' },
] as const
type SubjectKind = (typeof SUBJECT_KINDS)[number]['kind']
const KIND_CHOICES = SUBJECT_KINDS.map((k) => ({ value: k.kind, text: k.label }))

export function OverrideForm({ rules, onSaved }: { rules: readonly RuleView[]; onSaved: () => void }) {
  const [kind, setKind] = useState<SubjectKind>('ip')
  const [value, setValue] = useState('')
  const [rule, setRule] = useState('*')
  const [block, setBlock] = useState(false)
  const [figures, setFigures] = useState<LimitFigures>({ limit: '', per: '1m', burst: '' })
  const [expires, setExpires] = useState('')
  const [reason, setReason] = useState('')
  const action = useAction()
  const subjectKind = SUBJECT_KINDS.find((k) => k.kind === kind) ?? SUBJECT_KINDS[0]
  // Only a rule that counts by the subject's kind can take its override.
  const fitting = rules.filter((r) => r.key === subjectKind.ruleKey)
  return (
    <>
      <Form
        class="inline-form"
        onSubmit={() => {
          const subject = `${kind}:${value.trim()}`
          const overriding = block ? { block: true } : { ...limitInput(figures), block: false }
          void action
            .run(
              () =>
                call('ratelimits.override', { subject, rule, ...overriding, ...(expires.trim() ? { expires: expires.trim() } : {}), reason: reason.trim() }),
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
        <SelectField
          label="Subject kind"
          value={kind}
          onValue={(next) => {
            setKind(next)
            setRule('*')
          }}
          choices={KIND_CHOICES}
        />
        <TextField label={subjectKind.label} required placeholder={subjectKind.placeholder} value={value} onValue={setValue} />
        <SelectField
          label="Rule"
          value={rule}
          onValue={setRule}
          choices={[
            {
              value: '*',
              text: <>every rule counting by {subjectKind.ruleKey}</>,
            },
            ...fitting.map((r) => ({ value: r.name, text: r.name })),
          ]}
        />
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
        {block ? null : <LimitFields figures={figures} onChange={setFigures} />}
        <TextField label="Expires after (optional)" placeholder="24h" value={expires} onValue={setExpires} />
        <TextField label="Reason" maxLength={500} value={reason} onValue={setReason} />
        <button type="submit" class="primary" disabled={action.busy}>
          Set the override
        </button>
      </Form>
      <Outcome of={action} />
    </>
  )
}
