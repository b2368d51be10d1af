/** One subject's own figures, or its block: `ratelimit override` and its removal. */
import { parseDuration } from '../duration.js'
import { GantryError, inputProblem } from '../errors.js'
import { parseInput } from '../pagination.js'
import { requirePermission } from '../roles/permissions.js'
import * as repo from './ratelimits.repo.js'
import { ruleNotFound, type RuleBook } from './ratelimits.rulebook.js'
import type { RateLimitsService } from './ratelimits.service.js'
import { overrideInputSchema, parseSubject, removeOverrideInputSchema, type SubjectType } from './ratelimits.schema.js'
import { subjectText, toOverrideView } from './ratelimits.views.js'

export function overrideOperations(book: RuleBook): Pick<RateLimitsService, 'override' | 'removeOverride'> {
  const { audit, change, knownRules, resolveSubject } = book
  return {
    async override(ctx, input) {
      requirePermission(ctx, 'ratelimits:write')
      const parsed = parseInput(overrideInputSchema, input)
      const target = parseSubject(parsed.subject) as { type: SubjectType; value: string }
      const outcome = await change(async (trx, at) => {
        if (parsed.rule !== '*') {
          const key = (await knownRules(trx)).get(parsed.rule)
          if (key === undefined) throw ruleNotFound(parsed.rule)
          if (key !== target.type)
            throw new GantryError('INVALID_INPUT', `Rule "${parsed.rule}" counts by ${key}: an override for ${target.type} subjects cannot apply to it.`, {
              hint: `Name a rule keyed on ${target.type}, or none (every rule that counts by ${target.type}).`,
              details: inputProblem(['rule'], 'rule-key-mismatch', { subjectType: target.type }),
            })
        }
        const { subject, label } = await resolveSubject(trx, target)
        const existing = await repo.selectOverride(trx, parsed.rule, target.type, subject)
        const row = {
          rule: parsed.rule,
          subject_type: target.type,
          subject,
          label,
          limit_count: parsed.block ? null : (parsed.limit ?? null),
          window_ms: parsed.block || parsed.window === undefined ? null : parseDuration(parsed.window),
          burst: parsed.block ? null : (parsed.burst ?? parsed.limit ?? null),
          blocked: parsed.block,
          reason: parsed.reason,
          expires_at: parsed.expires === undefined ? null : at + parseDuration(parsed.expires),
          created_at: existing?.created_at ?? at,
          updated_at: at,
        }
        await repo.upsertOverride(trx, row)
        const stored = await repo.selectOverride(trx, parsed.rule, target.type, subject)
        if (!stored) throw new GantryError('INTERNAL', 'The override was not stored.')
        const view = toOverrideView(stored)
        await audit.append(trx, ctx, {
          action: 'ratelimits.override',
          targetType: 'ratelimit-override',
          targetId: `${parsed.rule} ${view.subject}`,
          before: existing ? toOverrideView(existing) : undefined,
          after: view,
        })
        return view
      })
      if (!outcome) throw new GantryError('INTERNAL', 'The override was not stored.')
      return outcome.result
    },

    async removeOverride(ctx, input) {
      requirePermission(ctx, 'ratelimits:write')
      const parsed = parseInput(removeOverrideInputSchema, input)
      const target = parseSubject(parsed.subject) as { type: SubjectType; value: string }
      const outcome = await change(async (trx) => {
        const { subject, label } = await resolveSubject(trx, target)
        const existing = await repo.selectOverride(trx, parsed.rule, target.type, subject)
        if (!existing) {
          throw new GantryError(
            'RATELIMIT_OVERRIDE_NOT_FOUND',
            `No override of ${parsed.rule === '*' ? 'every rule' : `rule "${parsed.rule}"`} for ${subjectText(target.type, label)}.`,
          )
        }
        await repo.deleteOverride(trx, existing.id)
        const view = toOverrideView(existing)
        await audit.append(trx, ctx, {
          action: 'ratelimits.override.remove',
          targetType: 'ratelimit-override',
          targetId: `${parsed.rule} ${view.subject}`,
          before: view,
        })
        return view
      })
      if (!outcome) throw new GantryError('INTERNAL', 'The override was not removed.')
      return { removed: outcome.result, version: outcome.version }
    },
  }
}
