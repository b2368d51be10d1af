/** A flag's description, lifetime, and the variants it serves by default and while off. */
import { useState } from 'preact/hooks'
import type { FlagView } from '../../../../src/core/flags/flags.schema.js'
import { call } from '../../api.js'
import { Form, SelectField, TextField } from '../../ui/fields.js'
import { useAction } from '../../ui/hooks.js'
import { Outcome } from '../../ui/parts.js'
import { LIFETIMES, variantNames } from './fields.js'

export function FlagSettings({ flag, onSaved }: { flag: FlagView; onSaved: () => void }) {
  const [description, setDescription] = useState(flag.description)
  const [lifetime, setLifetime] = useState(flag.lifetime)
  const [defaultVariant, setDefaultVariant] = useState(flag.defaultVariant)
  const [offVariant, setOffVariant] = useState(flag.offVariant)
  const action = useAction()
  return (
    <details class="card">
      <summary>Change the settings</summary>
      <Form
        class="inline-form"
        onSubmit={() => {
          void action
            .run(
              () => call('flags.update', { key: flag.key }, { description: description.trim(), lifetime, defaultVariant, offVariant }),
              `Flag ${flag.key} is saved.`,
            )
            .then((f) => f && onSaved())
        }}
      >
        <TextField label="Description" maxLength={1000} value={description} onValue={setDescription} />
        <SelectField label="Lifetime" value={lifetime} onValue={setLifetime} choices={LIFETIMES} />
        <SelectField label="Default variant" value={defaultVariant} onValue={setDefaultVariant} choices={variantNames(flag)} />
        <SelectField label="Off variant" value={offVariant} onValue={setOffVariant} choices={variantNames(flag)} />
        <button type="submit" class="primary" disabled={action.busy}>
          Save the settings
        </button>
      </Form>
      <Outcome of={action} />
    </details>
  )
}
