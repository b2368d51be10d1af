/** Event patterns as a checklist of the areas the user may read, and a field for any other type or pattern. */
import { eventAreas } from 'gantry:catalog'
import type { ComponentChildren } from 'preact'
import { can } from '../../session.js'
import { Checkbox, TextField } from '../../ui/fields.js'

/** The patterns of the event areas an endpoint can subscribe to, each with the permission that receives it (the creator must hold it). */
export const KNOWN_PATTERNS = new Set(eventAreas.map((a) => a.pattern))

/** The checked patterns and the other field's types, as the API takes them. */
export const eventTypesOf = (chosen: ReadonlySet<string>, other: string): string[] => [
  ...chosen,
  ...other
    .split(/[\s,]+/)
    .map((t) => t.trim())
    .filter(Boolean),
]

export function EventPicker({
  chosen,
  other,
  onChosen,
  onOther,
  children,
}: {
  chosen: ReadonlySet<string>
  other: string
  onChosen: (next: Set<string>) => void
  onOther: (text: string) => void
  /** What follows the field of other types on its line (the form's button). */
  children: ComponentChildren
}) {
  const areas = eventAreas.filter((a) => can(a.permission) || chosen.has(a.pattern))
  return (
    <>
      <fieldset class="checklist">
        <legend>Events</legend>
        {areas.map((area) => (
          <Checkbox
            key={area.pattern}
            label={area.pattern === '*' ? 'every event' : area.pattern}
            checked={chosen.has(area.pattern)}
            onChecked={(on) => {
              const next = new Set(chosen)
              if (on) next.add(area.pattern)
              else next.delete(area.pattern)
              onChosen(next)
            }}
          />
        ))}
      </fieldset>
      <div class="inline-form">
        <TextField label="Other event types or patterns (space or comma separated)" placeholder="users.created orders.*" value={other} onValue={onOther} />
        {children}
      </div>
    </>
  )
}
