/** A limit's figures as a rule and an override take them: how many requests, per what window, what burst. */
import type { Dispatch, StateUpdater } from 'preact/hooks'
import { TextField } from '../../ui/fields.js'

/** The fields' text. */
export interface LimitFigures {
  readonly limit: string
  readonly per: string
  readonly burst: string
}

/** The figures as the API takes them: no burst when its field is empty (the limit, then). */
export const limitInput = ({ limit, per, burst }: LimitFigures) => ({
  limit: Number(limit),
  window: per.trim(),
  ...(burst.trim() ? { burst: Number(burst) } : {}),
})

export function LimitFields({ figures, onChange }: { figures: LimitFigures; onChange: Dispatch<StateUpdater<LimitFigures>> }) {
  const field = (name: keyof LimitFigures) => ({ value: figures[name], onValue: (value: string) => onChange((f) => ({ ...f, [name]: value })) })
  return (
    <>
      <TextField label="Limit (requests)" type="number" required min={1} step={1} {...field('limit')} />
      <TextField label="Per window" required placeholder="1m" {...field('per')} />
      <TextField label="Burst (optional)" type="number" min={1} step={1} placeholder="= limit" {...field('burst')} />
    </>
  )
}
