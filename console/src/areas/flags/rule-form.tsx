/** A rule of one condition (or none: everyone) and optionally a segment, serving one variant, after the others. */
import { useState } from 'preact/hooks'
import type { ConditionOperator, FlagView } from '../../../../src/core/flags/flags.schema.js'
import { call } from '../../api.js'
import { Form, SelectField, TextField } from '../../ui/fields.js'
import { useAction } from '../../ui/hooks.js'
import { Outcome } from '../../ui/parts.js'
import { OPERATOR_TEXT } from '../../../../src/core/flags/condition-text.js'
import { OPERATORS } from './describe.js'
import { KnownAttributes, variantNames } from './fields.js'

const OPERATOR_CHOICES = OPERATORS.map((op) => ({
  value: op,
  text: (
    <>
      {OPERATOR_TEXT[op]} ({op})
    </>
  ),
}))

export function AddRule({ flag, segments, onSaved }: { flag: FlagView; segments: readonly string[]; onSaved: () => void }) {
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
      <Form
        class="inline-form"
        onSubmit={() => {
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
        <TextField label="Description" maxLength={500} value={description} onValue={setDescription} />
        <TextField label="Attribute" list="flag-rule-attributes" placeholder="role" value={attribute} onValue={setAttribute} />
        <KnownAttributes id="flag-rule-attributes" />
        <SelectField label="Operator" value={operator} onValue={setOperator} choices={OPERATOR_CHOICES} />
        <TextField label="Values (comma-separated)" required={attribute.trim() !== ''} placeholder="admin, operator" value={values} onValue={setValues} />
        <SelectField label="Segment" value={segment} onValue={setSegment} choices={[{ value: '', text: 'none' }, ...segments]} />
        <SelectField label="Serve variant" value={variant} onValue={setVariant} choices={variantNames(flag)} />
        <button type="submit" class="primary" disabled={action.busy}>
          Add the rule
        </button>
      </Form>
      <Outcome of={action} />
    </details>
  )
}
