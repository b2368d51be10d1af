/**
 * Keyset pages over the API's cursor (each page costs the same at any depth): the cursors of the pages before
 * the one shown, and the Previous/Next buttons that pop and push them.
 */
import { useCallback, useState } from 'preact/hooks'

export interface CursorPages {
  /** The cursor of the page shown; undefined on the first page. */
  readonly cursor: string | undefined
  /** How many pages lie before the one shown. */
  readonly before: number
  /** `, page N` past the first page: the end of the table's caption. */
  readonly captionSuffix: string
  back(): void
  forward(next: string): void
  /** Back to the first page (a filter changed). */
  reset(): void
}

export function useCursorPages(): CursorPages {
  // The cursors of the pages before this one: Back pops, Next pushes.
  const [cursors, setCursors] = useState<string[]>([])
  return {
    cursor: cursors.at(-1),
    before: cursors.length,
    captionSuffix: cursors.length > 0 ? `, page ${cursors.length + 1}` : '',
    back: useCallback(() => setCursors((c) => c.slice(0, -1)), []),
    forward: useCallback((next: string) => setCursors((c) => [...c, next]), []),
    reset: useCallback(() => setCursors([]), []),
  }
}

/** Previous and Next, in a navigation named `Pages of ${of}`; `next` is the API's cursor of the next page, if any. */
export function Pager({ of, pages, next }: { of: string; pages: CursorPages; next: string | null | undefined }) {
  return (
    <nav class="pager" aria-label={`Pages of ${of}`}>
      <button type="button" disabled={pages.before === 0} onClick={pages.back}>
        Previous page
      </button>
      <button type="button" disabled={!next} onClick={() => next && pages.forward(next)}>
        Next page
      </button>
    </nav>
  )
}
