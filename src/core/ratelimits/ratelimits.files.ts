/** The stored rules as one file: `ratelimit export`, and `ratelimit apply`, which makes them a file's in one change. */
import { GantryError } from '../errors.js'
import { parseInput } from '../pagination.js'
import { requirePermission } from '../roles/permissions.js'
import * as repo from './ratelimits.repo.js'
import { storedName, type RuleBook } from './ratelimits.rulebook.js'
import type { RateLimitsService } from './ratelimits.service.js'
import { applyInputSchema, type ApplyResult, type FieldValue } from './ratelimits.schema.js'
import { changedFields, fileRuleFields } from './ratelimits.views.js'

export function fileOperations(book: RuleBook): Pick<RateLimitsService, 'export' | 'apply'> {
  const { knex, audit, change, dropRule, loadRows, exportRules } = book
  return {
    async export(ctx) {
      requirePermission(ctx, 'ratelimits:read')
      return exportRules(await loadRows(knex))
    },

    async apply(ctx, input) {
      requirePermission(ctx, 'ratelimits:write')
      const parsed = parseInput(applyInputSchema, input)
      const names = parsed.rules.map((r) => storedName(r.name))
      const duplicate = names.find((n, i) => names.indexOf(n) !== i)
      if (duplicate) throw new GantryError('INVALID_INPUT', `The file names rule "${duplicate}" twice.`)
      let diff: Omit<ApplyResult, 'applied' | 'version'> = { added: [], changed: [], removed: [], kept: [], unchanged: [] }
      const outcome = await change(async (trx, at) => {
        const rows = await repo.selectRules(trx)
        const byName = new Map(rows.map((r) => [r.name, r]))
        const wanted = parsed.rules.map((rule, position) => ({ name: rule.name, position, fields: fileRuleFields(rule) }))
        // The file's order among the rules already stored: one that moves has changed too ('order').
        const storedOrder = rows.map((r) => r.name).filter((n) => names.includes(n))
        const fileOrder = wanted.map((w) => w.name).filter((n) => byName.has(n))
        const moved = new Set(fileOrder.filter((n, i) => storedOrder[i] !== n))
        const fieldsOf = (w: (typeof wanted)[number], before: repo.RuleRow) => [...changedFields(before, w.fields), ...(moved.has(w.name) ? ['order'] : [])]
        diff = {
          added: wanted.filter((w) => !byName.has(w.name)).map((w) => w.name),
          changed: wanted.flatMap((w) => {
            const before = byName.get(w.name)
            if (!before) return []
            const fields = fieldsOf(w, before)
            if (fields.length === 0) return []
            // Old and new values as a rules file writes them (match, window as text), each side exported alike.
            const [from, to] = exportRules([before, { ...before, ...w.fields }]).rules as unknown as Array<Record<string, FieldValue>>
            const changes = fields.map((field) =>
              field === 'order'
                ? { field, from: storedOrder.indexOf(w.name) + 1, to: fileOrder.indexOf(w.name) + 1 }
                : { field, from: from?.[field] ?? null, to: to?.[field] ?? null },
            )
            return [{ name: w.name, fields, changes }]
          }),
          removed: parsed.prune ? rows.filter((r) => !names.includes(r.name)).map((r) => r.name) : [],
          kept: parsed.prune ? [] : rows.filter((r) => !names.includes(r.name)).map((r) => r.name),
          unchanged: wanted.filter((w) => byName.has(w.name) && fieldsOf(w, byName.get(w.name) as repo.RuleRow).length === 0).map((w) => w.name),
        }
        if (parsed.dryRun || diff.added.length + diff.changed.length + diff.removed.length === 0) return undefined
        for (const w of wanted)
          await repo.upsertRule(trx, {
            name: w.name,
            position: w.position,
            ...w.fields,
            created_at: byName.get(w.name)?.created_at ?? at,
            updated_at: diff.unchanged.includes(w.name) ? (byName.get(w.name)?.updated_at ?? at) : at,
          })
        // Rules the file leaves out keep their order, after the file's.
        for (const [i, name] of diff.kept.entries())
          await trx(repo.RULES_TABLE)
            .where({ name })
            .update({ position: wanted.length + i })
        for (const name of diff.removed) await dropRule(trx, name)
        await audit.append(trx, ctx, {
          action: 'ratelimits.apply',
          targetType: 'ratelimit',
          targetId: '*',
          before: exportRules(rows),
          after: { ...exportRules(await repo.selectRules(trx)), ...diff },
        })
        return true
      })
      return { ...diff, applied: outcome !== undefined, version: outcome?.version ?? (await repo.readVersion(knex).catch(() => 0)) }
    },
  }
}
