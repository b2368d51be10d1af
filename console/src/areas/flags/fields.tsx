/** What the flag forms offer: the known context attributes, the lifetimes, a flag's variants. */
import type { FlagView } from '../../../../src/core/flags/flags.schema.js'
import type { Choice } from '../../ui/fields.js'

/** The context attributes Gantry knows (any other name is the app's own). */
const KNOWN_ATTRIBUTES = ['userId', 'email', 'emailDomain', 'role', 'permissions', 'apiKeyId', 'ip']

/** The known attributes as the suggestions of a field whose `list` is `id`. */
export function KnownAttributes({ id }: { id: string }) {
  return (
    <datalist id={id}>
      {KNOWN_ATTRIBUTES.map((a) => (
        <option key={a} value={a} />
      ))}
    </datalist>
  )
}

export const LIFETIMES: readonly Choice<FlagView['lifetime']>[] = [
  { value: 'temporary', text: 'temporary (stale after a while)' },
  { value: 'permanent', text: 'permanent' },
]

export const variantNames = (flag: FlagView): string[] => flag.variants.map((v) => v.name)
