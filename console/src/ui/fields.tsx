/** Forms that stay on the page, and labelled controls: the label's text, then the control; the caller keeps the value. */
import type { ComponentChildren, FormHTMLAttributes, InputHTMLAttributes, LooseInputHTMLAttributes } from 'preact'

/**
 * A form whose submission (Enter, or its submit button) calls `onSubmit` rather than leaving the page;
 * without `onSubmit` it does nothing (filters that apply as they change).
 */
export function Form({ onSubmit, children, ...attributes }: Omit<FormHTMLAttributes, 'onSubmit'> & { onSubmit?: () => void; children: ComponentChildren }) {
  return (
    <form
      {...attributes}
      onSubmit={(event) => {
        event.preventDefault()
        onSubmit?.()
      }}
    >
      {children}
    </form>
  )
}

type InputAttributes = Omit<LooseInputHTMLAttributes<HTMLInputElement>, 'label' | 'value' | 'onInput' | 'checked' | 'onChange'> & {
  /** The id of a <datalist> of suggestions. */
  list?: string
}

/** An input (any attribute of one but its value) whose text goes to `onValue` as it is typed. */
export function TextField({
  label,
  value,
  onValue,
  ...attributes
}: InputAttributes & { label: ComponentChildren; value: string; onValue: (value: string) => void }) {
  // Preact's strict input type pairs each `type` with the roles it allows; these attributes pass through as they are.
  return (
    <label>
      {label}
      <input {...(attributes as InputHTMLAttributes)} value={value} onInput={(e) => onValue(e.currentTarget.value)} />
    </label>
  )
}

/** An option that is its own text, or a value with its text. */
export type Choice<T extends string> = T | { readonly value: T; readonly text: ComponentChildren }

/** A select of `choices`; the chosen value goes to `onValue`. */
export function SelectField<T extends string>({
  label,
  value,
  onValue,
  choices,
}: {
  label: ComponentChildren
  value: T
  onValue: (value: T) => void
  choices: readonly Choice<T>[]
}) {
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onValue(e.currentTarget.value as T)}>
        {choices.map((choice) =>
          typeof choice === 'string' ? (
            <option key={choice}>{choice}</option>
          ) : (
            <option key={choice.value} value={choice.value}>
              {choice.text}
            </option>
          ),
        )}
      </select>
    </label>
  )
}

/** A checkbox before its label. */
export function Checkbox({ label, checked, onChecked }: { label: ComponentChildren; checked: boolean; onChecked: (checked: boolean) => void }) {
  return (
    <label>
      <input type="checkbox" checked={checked} onChange={(e) => onChecked(e.currentTarget.checked)} />
      {label}
    </label>
  )
}
