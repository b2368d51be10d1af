/** Loading and acting: the state every area keeps around a call. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks'

export interface Loaded<T> {
  readonly data: T | undefined
  readonly error: unknown
  readonly loading: boolean
  reload(): void
}

/** Runs `load` now and whenever `deps` change; the answer of a superseded run is dropped. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined)
  const [error, setError] = useState<unknown>(undefined)
  const [loading, setLoading] = useState(true)
  const [round, setRound] = useState(0)
  useEffect(() => {
    let current = true
    setLoading(true)
    load().then(
      (value) => {
        if (!current) return
        setData(value)
        setError(undefined)
        setLoading(false)
      },
      (err: unknown) => {
        if (!current) return
        setError(err)
        setLoading(false)
      },
    )
    return () => {
      current = false
    }
    // `load` is a new closure each render: the caller names what it depends on in `deps`.
  }, [...deps, round])
  return { data, error, loading, reload: useCallback(() => setRound((n) => n + 1), []) }
}

export interface Action {
  readonly busy: boolean
  readonly error: unknown
  readonly done: string | undefined
  /** Runs `act`; its error is kept for the page to show, `message` (or what `act` returns) announced on success. */
  run<T>(act: () => Promise<T>, message?: string | ((result: T) => string)): Promise<T | undefined>
  clear(): void
}

/** Asks `question` in a dialog whose confirming button reads `action` (useConfirm); true on confirm. */
export type Confirm = (question: string, action: string) => Promise<boolean>

/** One action at a time, with its outcome. */
export function useAction(): Action {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(undefined)
  const [done, setDone] = useState<string | undefined>(undefined)
  const mounted = useRef(true)
  useEffect(
    () => () => {
      mounted.current = false
    },
    [],
  )
  const run = useCallback(async <T>(act: () => Promise<T>, message?: string | ((result: T) => string)): Promise<T | undefined> => {
    setBusy(true)
    setError(undefined)
    setDone(undefined)
    try {
      const result = await act()
      if (mounted.current) setDone(typeof message === 'function' ? message(result) : message)
      return result
    } catch (err) {
      if (mounted.current) setError(err)
      return undefined
    } finally {
      if (mounted.current) setBusy(false)
    }
  }, [])
  const clear = useCallback(() => {
    setError(undefined)
    setDone(undefined)
  }, [])
  return { busy, error, done, run, clear }
}

/**
 * Marks the moment an area's main table first shows its rows (`gantry:table-rendered`), once per page: the
 * benchmark (bench/benchmarks/console.mjs) reads it, as a real-user monitor would.
 */
export function useRenderedMark(rendered: boolean): void {
  useEffect(() => {
    if (rendered && performance.getEntriesByName('gantry:table-rendered').length === 0) performance.mark('gantry:table-rendered')
  }, [rendered])
}

/**
 * What a row's or a card's buttons do: ask `question` first (unless there is none), `label` on the confirming
 * button, then run `run` through `action`, announcing `done`; `onDone` follows a success. Resolves to the
 * result, or undefined when declined or failed.
 */
export function actor(action: Action, confirm: Confirm, onDone: () => void) {
  return async <T>(question: string | undefined, label: string, run: () => Promise<T>, done: string | ((result: T) => string)): Promise<T | undefined> => {
    if (question && !(await confirm(question, label))) return undefined
    const result = await action.run(run, done)
    if (result !== undefined) onDone()
    return result
  }
}
