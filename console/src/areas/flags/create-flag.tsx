/** Creating a flag: its key, type, lifetime and variants, written as `name = value` lines. */
import { useState } from 'preact/hooks'
import type { CreateFlagInput, FlagType, FlagView, JsonValue, Variant } from '../../../../src/core/flags/flags.schema.js'
import { ApiError, call } from '../../api.js'
import { Form, SelectField, TextField } from '../../ui/fields.js'
import { useAction } from '../../ui/hooks.js'
import { Outcome } from '../../ui/parts.js'
import { LIFETIMES } from './fields.js'

const TYPES: readonly FlagType[] = ['boolean', 'string', 'number', 'json']

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

export function CreateFlag({ onCreated }: { onCreated: (key: string) => void }) {
  const [key, setKey] = useState('')
  const [description, setDescription] = useState('')
  const [type, setType] = useState<FlagType>('boolean')
  const [lifetime, setLifetime] = useState<FlagView['lifetime']>('temporary')
  const [variants, setVariants] = useState('')
  const action = useAction()
  const ownVariants = type !== 'boolean' || variants.trim() !== ''
  return (
    <details class="card">
      <summary>Create a flag</summary>
      <p class="muted">A new flag is off until switched on. A boolean flag gets the variants on (true) and off (false) unless you name its own.</p>
      <Form
        class="inline-form"
        onSubmit={() => {
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
        <TextField label="Key" required maxLength={100} placeholder="new-checkout" value={key} onValue={setKey} />
        <TextField label="Description" maxLength={1000} value={description} onValue={setDescription} />
        <SelectField label="Type" value={type} onValue={setType} choices={TYPES.map((t) => ({ value: t, text: t }))} />
        <SelectField label="Lifetime" value={lifetime} onValue={setLifetime} choices={LIFETIMES} />
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
      </Form>
      <p class="muted">The first variant is served by default and while off unless you change it afterwards.</p>
      <Outcome of={action} />
    </details>
  )
}
