/** The small pieces every area is made of: errors, notices, confirmations, secrets shown once, opened cards. */
import type { ComponentChildren } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { ApiError } from '../api.js'
import { can } from '../session.js'
import type { Action, Confirm } from './hooks.js'

/** An API refusal as the API words it: its title, detail and hint. */
export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null
  const problem = error instanceof ApiError ? error.problem : { title: 'Request failed', detail: error instanceof Error ? error.message : String(error) }
  return (
    <div class="note error" role="alert">
      <strong>{problem.title}</strong>
      {problem.detail && problem.detail !== problem.title ? <span> {problem.detail}</span> : null}
      {'hint' in problem && problem.hint ? <div class="hint">{problem.hint}</div> : null}
    </div>
  )
}

export function Done({ message }: { message: string | undefined }) {
  return message ? (
    <div class="note ok" role="status">
      {message}
    </div>
  ) : null
}

/** How an action ended: its refusal as the API words it, or its success. */
export function Outcome({ of: action }: { of: Action }) {
  return (
    <>
      <ErrorNote error={action.error} />
      <Done message={action.done} />
    </>
  )
}

/** Shows its children only to a user who holds `permission` (the server refuses the rest anyway). */
export function Gate({ permission, children }: { permission: string; children: ComponentChildren }) {
  return can(permission) ? <>{children}</> : null
}

/**
 * A confirmation that names what it acts on, in a modal <dialog> (focus moves into it and back; Escape
 * cancels). `ask` resolves true on confirm.
 */
export function useConfirm(): [ComponentChildren, Confirm] {
  const dialog = useRef<HTMLDialogElement>(null)
  const [question, setQuestion] = useState<{ text: string; action: string; resolve: (ok: boolean) => void }>()
  const ask = (text: string, action: string): Promise<boolean> =>
    new Promise((resolve) => {
      setQuestion({ text, action, resolve })
      queueMicrotask(() => dialog.current?.showModal())
    })
  const answer = (ok: boolean): void => {
    dialog.current?.close()
    question?.resolve(ok)
    setQuestion(undefined)
  }
  const element = (
    <dialog ref={dialog} aria-labelledby="confirm-text" onCancel={() => answer(false)}>
      <p id="confirm-text">{question?.text}</p>
      <div class="actions">
        <button type="button" class="danger" onClick={() => answer(true)}>
          {question?.action ?? 'Confirm'}
        </button>
        <button type="button" onClick={() => answer(false)} autofocus>
          Cancel
        </button>
      </div>
    </dialog>
  )
  return [element, ask]
}

/** A secret the API shows this once: selectable, with a copy button. */
export function SecretOnce({ label, value }: { label: string; value: string }) {
  const [copied, setCopied] = useState(false)
  return (
    <div class="note secret" role="status">
      <div>{label} — shown this once; copy it now.</div>
      <code data-secret>{value}</code>
      <button
        type="button"
        onClick={() =>
          void navigator.clipboard.writeText(value).then(
            () => setCopied(true),
            () => setCopied(false),
          )
        }
      >
        {copied ? 'Copied' : 'Copy'}
      </button>
    </div>
  )
}

/**
 * A card a click opens below a table (a detail, an editor): focus moves to its heading when it opens, which
 * takes the reader to it. `labelId` is the heading's id, `id` the card's own (what a toggle's aria-controls names).
 */
export function OpenedCard({ id, labelId, title, children }: { id?: string; labelId: string; title: ComponentChildren; children: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null)
  useEffect(() => heading.current?.focus(), [])
  return (
    <section class="card" id={id} aria-labelledby={labelId}>
      <h2 id={labelId} ref={heading} tabIndex={-1}>
        {title}
      </h2>
      {children}
    </section>
  )
}

/** An ISO time as the reader's local time, the exact instant in its tooltip. */
export function Time({ at }: { at: string | null | undefined }) {
  if (!at) return <span class="muted">—</span>
  return (
    <time dateTime={at} title={at}>
      {new Date(at).toLocaleString()}
    </time>
  )
}
