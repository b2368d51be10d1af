/**
 * The percentage rollout: one share for a flag of two variants (the other gets the rest), a share for each
 * variant otherwise. It changes the last unconditional rollout rule, or adds one after the rules.
 */
import { useState } from 'preact/hooks'
import type { FlagView } from '../../../../src/core/flags/flags.schema.js'
import { call } from '../../api.js'
import { Form, TextField } from '../../ui/fields.js'
import { useAction } from '../../ui/hooks.js'
import { Outcome } from '../../ui/parts.js'
import { percentOf, percentText, ROLLOUT_BUCKETS, rolloutRuleOf, splitText } from './describe.js'
import { KnownAttributes } from './fields.js'

export function RolloutForm({ flag, onSaved }: { flag: FlagView; onSaved: () => void }) {
  const current = rolloutRuleOf(flag)?.rollout
  const weightOf = (name: string): number | undefined => current?.variants.find((v) => v.variant === name)?.weight
  const pair = flag.variants.length === 2
  // With two variants: the share of the one that is not the off variant.
  const rising = flag.variants.find((v) => v.name !== flag.offVariant)?.name ?? flag.variants[0]?.name ?? ''
  const other = flag.variants.find((v) => v.name !== rising)?.name ?? ''
  const [shares, setShares] = useState<Record<string, string>>(() =>
    Object.fromEntries(
      flag.variants.map((v) => [v.name, String(percentOf(weightOf(v.name) ?? (current ? 0 : v.name === flag.offVariant ? ROLLOUT_BUCKETS : 0)))]),
    ),
  )
  const [by, setBy] = useState(current?.by ?? 'userId')
  const action = useAction()
  const thousandths = (text: string): number => Math.round(Number(text || '0') * 1000)
  const total = pair ? ROLLOUT_BUCKETS : flag.variants.reduce((sum, v) => sum + thousandths(shares[v.name] ?? '0'), 0)
  const split = pair
    ? [
        { variant: rising, percent: thousandths(shares[rising] ?? '0') / 1000 },
        { variant: other, percent: (ROLLOUT_BUCKETS - thousandths(shares[rising] ?? '0')) / 1000 },
      ]
    : flag.variants.map((v) => ({ variant: v.name, percent: thousandths(shares[v.name] ?? '0') / 1000 }))
  /** The field of the percent served `variant`. */
  const shareField = (variant: string) =>
    ({
      type: 'number',
      required: true,
      min: 0,
      max: 100,
      step: 0.001,
      value: shares[variant] ?? '0',
      onValue: (value: string) => setShares((s) => ({ ...s, [variant]: value })),
    }) as const
  return (
    <details class="card">
      <summary>Set the rollout</summary>
      <p class="muted">
        {current ? `Now: ${splitText(current)}, by ${current.by}.` : 'No rollout yet: this adds one after the rules, for everyone they leave.'} Users are hashed
        into 100,000 buckets; a growing share keeps everyone it had.{flag.enabled ? '' : ` The flag is off: it serves ${flag.offVariant} until switched on.`}
      </p>
      <Form
        class="inline-form"
        onSubmit={() => {
          void action
            .run(
              () => call('flags.rollout', { key: flag.key }, { split, by: by.trim() || 'userId' }),
              (f) => {
                const now = rolloutRuleOf(f)
                return now ? `Flag ${f.key} now rolls out ${splitText(now.rollout)}.` : `Flag ${f.key} is saved.`
              },
            )
            .then((f) => f && onSaved())
        }}
      >
        {pair ? (
          <TextField
            label={
              <>
                Percent served {rising} (the rest: {other})
              </>
            }
            {...shareField(rising)}
          />
        ) : (
          flag.variants.map((variant) => <TextField key={variant.name} label={<>Percent served {variant.name}</>} {...shareField(variant.name)} />)
        )}
        <TextField label="Bucket by attribute" required list="flag-attributes" value={by} onValue={setBy} />
        <button type="submit" class="primary" disabled={action.busy || total !== ROLLOUT_BUCKETS}>
          Set the rollout
        </button>
        {pair ? null : (
          <span class={total === ROLLOUT_BUCKETS ? 'muted' : 'badge warn'} role="status">
            Total {percentText(total)}
            {total === ROLLOUT_BUCKETS ? '' : ' (must be 100%)'}
          </span>
        )}
      </Form>
      <KnownAttributes id="flag-attributes" />
      <Outcome of={action} />
    </details>
  )
}
