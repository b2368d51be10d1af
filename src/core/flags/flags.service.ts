/**
 * Feature flags of one environment: created, changed rule by rule or as a whole, rolled out by percentage,
 * exported and applied as a file, evaluated. Every change is audited (and so sent as a `flags.*` event) and
 * bumps the flags' version in the same transaction, so each running instance reloads its snapshot within a
 * second (announced on Redis, polled behind it). Evaluation itself happens in process (evaluate.ts) from
 * that snapshot; the service's `evaluate` is the door for callers that hold none (other languages, the CLI).
 */
import type { Knex } from 'knex'
import type { AuditService } from '../audit/audit.service.js'
import type { Clock } from '../clock.js'
import type { ActorContext } from '../context.js'
import { parseDuration } from '../duration.js'
import { GantryError, inputProblem } from '../errors.js'
import { parseInput } from '../pagination.js'
import { requirePermission } from '../roles/permissions.js'
import { isMissingTable } from '../sql.js'
import { compileFlags, type CompiledFlags } from './evaluate.js'
import { flagProblems, segmentProblems } from './flag-checks.js'
import * as repo from './flags.repo.js'
import {
  addRuleInputSchema,
  applyFlagsInputSchema,
  createFlagInputSchema,
  evaluateInputSchema,
  explainInputSchema,
  flagKeySchema,
  flagListInputSchema,
  rolloutInputSchema,
  ROLLOUT_BUCKETS,
  ruleIndexSchema,
  segmentNameSchema,
  setSegmentInputSchema,
  updateFlagInputSchema,
  type AddRuleInput,
  type ApplyFlagsInput,
  type ApplyFlagsResult,
  type CreateFlagInput,
  type EvaluateInput,
  type EvaluateResult,
  type ExplainResult,
  type FlagChange,
  type FlagDefinition,
  type FlagSnapshot,
  type FlagsFile,
  type FlagListInput,
  type FlagView,
  type Rule,
  type RolloutInput,
  type SegmentDefinition,
  type SegmentView,
  type SetSegmentInput,
  type UpdateFlagInput,
} from './flags.schema.js'

export interface FlagsService {
  /** Needs flags:read; `stale` keeps the flags due for removal. */
  list(ctx: ActorContext, input?: FlagListInput): Promise<{ data: FlagView[] }>
  get(ctx: ActorContext, key: string): Promise<FlagView>
  /** Needs flags:write. */
  create(ctx: ActorContext, input: CreateFlagInput): Promise<FlagView>
  update(ctx: ActorContext, key: string, input: UpdateFlagInput): Promise<FlagView>
  addRule(ctx: ActorContext, key: string, input: AddRuleInput): Promise<FlagView>
  removeRule(ctx: ActorContext, key: string, index: number | string): Promise<FlagView>
  rollout(ctx: ActorContext, key: string, input: RolloutInput): Promise<FlagView>
  delete(ctx: ActorContext, key: string): Promise<FlagView>
  listSegments(ctx: ActorContext): Promise<{ data: SegmentView[] }>
  setSegment(ctx: ActorContext, name: string, input: SetSegmentInput): Promise<SegmentView>
  /** Refused while a flag's rule names it. */
  deleteSegment(ctx: ActorContext, name: string): Promise<SegmentView>
  /** Needs flags:read: every flag and segment, as `apply` reads them back. */
  export(ctx: ActorContext): Promise<FlagsFile>
  /** Makes the stored flags those of a file (and, with prune, only those), in one transaction. */
  apply(ctx: ActorContext, input: ApplyFlagsInput): Promise<ApplyFlagsResult>
  /** Needs flags:evaluate: one flag or every flag for a context, from the live snapshot where there is one. */
  evaluate(ctx: ActorContext, input: EvaluateInput): Promise<EvaluateResult>
  /** Needs flags:read: the evaluation with each rule's conditions and why it did or did not match. */
  explain(ctx: ActorContext, key: string, context: unknown): Promise<ExplainResult>
  /** What evaluation reads (no permission: the server's own read). */
  snapshot(): Promise<FlagSnapshot>
  /** The version instances poll (0 before any change or without Gantry's tables). */
  version(): Promise<number>
  /** Makes `evaluate` read a process's live snapshot (undefined until it loaded) instead of the database: the server's own call. */
  evaluateFrom(live: () => CompiledFlags | undefined): void
}

export interface FlagsServiceDeps {
  readonly knex: Knex
  readonly clock: Clock
  readonly audit: AuditService
  /** How old a temporary flag gets before it shows as stale (flags.staleAfter). */
  readonly staleAfter: string
  /** Told after every committed change (Redis pub/sub); it must not throw: instances poll anyway. */
  readonly notify?: ((version: number) => Promise<void>) | undefined
}

/** The variants a boolean flag gets unless it names its own. */
const BOOLEAN_VARIANTS = [
  { name: 'on', value: true },
  { name: 'off', value: false },
] as const

export function createFlagsService(deps: FlagsServiceDeps): FlagsService {
  const { knex, clock, audit } = deps
  const staleAfterMs = parseDuration(deps.staleAfter)
  let live: (() => CompiledFlags | undefined) | undefined

  const view = (stored: repo.StoredFlag): FlagView => ({
    ...stored.flag,
    createdBy: stored.createdBy,
    createdAt: new Date(stored.createdAt).toISOString(),
    updatedAt: new Date(stored.updatedAt).toISOString(),
    stale: stored.flag.lifetime === 'temporary' && clock.now() - stored.createdAt >= staleAfterMs,
  })
  const segmentView = (stored: repo.StoredSegment, flags: readonly FlagDefinition[]): SegmentView => ({
    ...stored.segment,
    createdAt: new Date(stored.createdAt).toISOString(),
    updatedAt: new Date(stored.updatedAt).toISOString(),
    usedBy: flags.filter((f) => f.rules.some((r) => r.segments.includes(stored.segment.name))).map((f) => f.key),
  })

  /** Refuses a flag whose parts do not fit together (a rule serving a variant it lacks …), naming each problem. */
  const check = async (k: Knex, flag: FlagDefinition): Promise<void> => {
    const segments = new Set((await repo.selectSegments(k)).map((s) => s.segment.name))
    refuse(flagProblems(flag, segments))
  }

  /**
   * One change, in one transaction: the version row locked first (changes queue), the change and its audit
   * row, the version bumped; instances are told once it committed.
   */
  const change = async <T>(ctx: ActorContext, work: (trx: Knex.Transaction, at: number) => Promise<T>): Promise<T> => {
    requirePermission(ctx, 'flags:write')
    const now = clock.now()
    const { result, version } = await knex.transaction(async (trx) => {
      await repo.lockVersion(trx)
      const result = await work(trx, now)
      return { result, version: await repo.bumpVersion(trx, new Date(now)) }
    })
    await deps.notify?.(version).catch(() => undefined)
    return result
  }

  const load = async (k: Knex, key: string): Promise<repo.StoredFlag> => {
    const stored = await repo.selectFlag(k, key)
    if (!stored) throw notFound(key)
    return stored
  }

  /** Reads the flag, lets `edit` make the new definition, checks and saves it, audited as flags.update. */
  const edit = (ctx: ActorContext, rawKey: string, editFlag: (flag: FlagDefinition) => FlagDefinition): Promise<FlagView> =>
    change(ctx, async (trx, at) => {
      const before = await load(trx, parseInput(flagKeySchema, rawKey))
      const flag = editFlag(before.flag)
      await check(trx, flag)
      await repo.updateFlag(trx, flag, at)
      const after = { ...before, flag, updatedAt: at }
      await audit.append(trx, ctx, { action: 'flags.update', targetType: 'flag', targetId: flag.key, before: view(before), after: view(after) })
      return view(after)
    })

  const localSnapshot = async (): Promise<FlagSnapshot> => {
    // The version first: read beside the rows, a change committing in between could label old rows with its
    // new version, and no poll would reload them. Read before, a snapshot is at worst labelled older than
    // it is, and the next poll reloads it.
    const version = await repo.readVersion(knex)
    const [flags, segments] = await Promise.all([repo.selectFlags(knex), repo.selectSegments(knex)])
    return { version, flags: flags.map((s) => s.flag), segments: segments.map((s) => s.segment) }
  }

  return {
    async list(ctx, input = {}) {
      requirePermission(ctx, 'flags:read')
      const { stale } = parseInput(flagListInputSchema, input)
      const data = (await repo.selectFlags(knex)).map(view)
      return { data: stale ? data.filter((f) => f.stale) : data }
    },

    async get(ctx, key) {
      requirePermission(ctx, 'flags:read')
      return view(await load(knex, parseInput(flagKeySchema, key)))
    },

    async create(ctx, rawInput) {
      const input = parseInput(createFlagInputSchema, rawInput)
      const variants = input.variants ?? (input.type === 'boolean' ? BOOLEAN_VARIANTS.map((v) => ({ ...v })) : undefined)
      if (!variants)
        throw new GantryError('INVALID_INPUT', `A ${input.type} flag names its variants: give at least one.`, {
          details: inputProblem(['variants'], 'flag-variants-missing', { type: input.type }),
        })
      const first = variants[0]?.name ?? ''
      const boolean = input.type === 'boolean' && !input.variants
      const flag: FlagDefinition = {
        key: input.key,
        description: input.description ?? '',
        type: input.type,
        variants,
        defaultVariant: input.defaultVariant ?? (boolean ? 'on' : first),
        offVariant: input.offVariant ?? (boolean ? 'off' : first),
        enabled: input.enabled ?? false,
        rules: input.rules ?? [],
        lifetime: input.lifetime ?? 'temporary',
      }
      return change(ctx, async (trx, at) => {
        if (await repo.selectFlag(trx, flag.key)) throw new GantryError('FLAG_EXISTS', `Flag ${flag.key} already exists.`, { details: { key: flag.key } })
        await check(trx, flag)
        await repo.insertFlag(trx, flag, ctx.actor, at)
        const created = view({ flag, createdBy: ctx.actor, createdAt: at, updatedAt: at })
        await audit.append(trx, ctx, { action: 'flags.create', targetType: 'flag', targetId: flag.key, after: created })
        return created
      })
    },

    async update(ctx, key, rawInput) {
      const input = parseInput(updateFlagInputSchema, rawInput)
      return edit(ctx, key, (flag) => ({ ...flag, ...definedFields(input) }))
    },

    async addRule(ctx, key, rawInput) {
      const { rule, position } = parseInput(addRuleInputSchema, rawInput)
      return edit(ctx, key, (flag) => {
        const rules = [...flag.rules]
        rules.splice(position ?? rules.length, 0, rule)
        return { ...flag, rules }
      })
    },

    async removeRule(ctx, key, rawIndex) {
      const index = parseInput(ruleIndexSchema, rawIndex)
      return edit(ctx, key, (flag) => {
        if (index >= flag.rules.length) throw invalid('rule', `Flag ${flag.key} has ${flag.rules.length} rule(s): there is no rule ${index}.`)
        return { ...flag, rules: flag.rules.filter((_, i) => i !== index) }
      })
    },

    async rollout(ctx, key, rawInput) {
      const input = parseInput(rolloutInputSchema, rawInput)
      return edit(ctx, key, (flag) => withRollout(flag, input))
    },

    async delete(ctx, rawKey) {
      const key = parseInput(flagKeySchema, rawKey)
      return change(ctx, async (trx) => {
        const removed = view(await load(trx, key))
        await repo.deleteFlag(trx, key)
        await audit.append(trx, ctx, { action: 'flags.delete', targetType: 'flag', targetId: key, before: removed })
        return removed
      })
    },

    async listSegments(ctx) {
      requirePermission(ctx, 'flags:read')
      const [segments, flags] = await Promise.all([repo.selectSegments(knex), repo.selectFlags(knex)])
      const defs = flags.map((f) => f.flag)
      return { data: segments.map((s) => segmentView(s, defs)) }
    },

    async setSegment(ctx, rawName, rawInput) {
      const name = parseInput(segmentNameSchema, rawName)
      const input = parseInput(setSegmentInputSchema, rawInput)
      return change(ctx, async (trx, at) => {
        const before = (await repo.selectSegments(trx)).find((s) => s.segment.name === name)
        const segment: SegmentDefinition = { name, description: input.description ?? before?.segment.description ?? '', conditions: input.conditions }
        refuse(segmentProblems(segment))
        await repo.upsertSegment(trx, segment, at)
        const flags = (await repo.selectFlags(trx)).map((f) => f.flag)
        const after = segmentView({ segment, createdAt: before?.createdAt ?? at, updatedAt: at }, flags)
        await audit.append(trx, ctx, {
          action: 'flags.segment.set',
          targetType: 'segment',
          targetId: name,
          before: before ? segmentView(before, flags) : null,
          after,
        })
        return after
      })
    },

    async deleteSegment(ctx, rawName) {
      const name = parseInput(segmentNameSchema, rawName)
      return change(ctx, async (trx) => {
        const stored = (await repo.selectSegments(trx)).find((s) => s.segment.name === name)
        if (!stored) throw new GantryError('FLAG_SEGMENT_NOT_FOUND', `There is no segment ${name}.`, { details: { segment: name } })
        const removed = segmentView(
          stored,
          (await repo.selectFlags(trx)).map((f) => f.flag),
        )
        if (removed.usedBy.length > 0)
          throw new GantryError('FLAG_SEGMENT_IN_USE', `Segment ${name} is named by the rules of ${removed.usedBy.join(', ')}.`, {
            details: { segment: name, usedBy: removed.usedBy },
          })
        await repo.deleteSegment(trx, name)
        await audit.append(trx, ctx, { action: 'flags.segment.delete', targetType: 'segment', targetId: name, before: removed })
        return removed
      })
    },

    async export(ctx) {
      requirePermission(ctx, 'flags:read')
      const { flags, segments } = await localSnapshot()
      return { flags: [...flags], segments: [...segments] }
    },

    async apply(ctx, rawInput) {
      const { file, dryRun, prune } = parseInput(applyFlagsInputSchema, rawInput)
      refuse(
        duplicates(
          file.flags.map((f) => f.key),
          'flags',
        ),
      )
      refuse(
        duplicates(
          file.segments.map((s) => s.name),
          'segments',
        ),
      )
      refuse(file.segments.flatMap((s, i) => within(`segments[${i}]`, segmentProblems(s))))
      /** What the file changes; with `write`, also makes the changes (in the caller's transaction). */
      const run = async (trx: Knex, at: number, write: boolean): Promise<FlagChange[]> => {
        const storedFlags = new Map((await repo.selectFlags(trx)).map((s) => [s.flag.key, s]))
        const storedSegments = new Map((await repo.selectSegments(trx)).map((s) => [s.segment.name, s]))
        // The segments there will be: the file's, and without prune those only stored as well.
        const segmentNames = new Set([...file.segments.map((s) => s.name), ...(prune ? [] : storedSegments.keys())])
        refuse(file.flags.flatMap((f, i) => within(`flags[${i}]`, flagProblems(f, segmentNames))))
        const changes: FlagChange[] = [
          ...file.segments.map((segment) => ({
            kind: 'segment' as const,
            name: segment.name,
            change: changeOf(storedSegments.get(segment.name)?.segment, segment),
          })),
          ...file.flags.map((flag) => ({ kind: 'flag' as const, name: flag.key, change: changeOf(storedFlags.get(flag.key)?.flag, flag) })),
        ]
        if (prune) {
          const keep = new Set(file.flags.map((f) => f.key))
          for (const key of storedFlags.keys()) if (!keep.has(key)) changes.push({ kind: 'flag', name: key, change: 'delete' })
          for (const name of storedSegments.keys()) if (!segmentNames.has(name)) changes.push({ kind: 'segment', name, change: 'delete' })
        }
        if (!write) return changes
        // Segments before the flags whose rules name them; deletions of flags before their segments.
        for (const segment of file.segments)
          if (changeOf(storedSegments.get(segment.name)?.segment, segment) !== 'unchanged') await repo.upsertSegment(trx, segment, at)
        for (const flag of file.flags) {
          const before = storedFlags.get(flag.key)
          if (!before) await repo.insertFlag(trx, flag, ctx.actor, at)
          else if (changeOf(before.flag, flag) === 'update') await repo.updateFlag(trx, flag, at)
        }
        for (const c of changes) if (c.change === 'delete' && c.kind === 'flag') await repo.deleteFlag(trx, c.name)
        for (const c of changes) if (c.change === 'delete' && c.kind === 'segment') await repo.deleteSegment(trx, c.name)
        const changed = changes.filter((c) => c.change !== 'unchanged')
        if (changed.length > 0) await audit.append(trx, ctx, { action: 'flags.apply', targetType: 'flags', targetId: '*', after: { changes: changed } })
        return changes
      }
      requirePermission(ctx, 'flags:write')
      const preview = await run(knex, clock.now(), false)
      // A dry run, or nothing to change: no version bumped, no instance made to reload, nothing audited.
      if (dryRun || preview.every((c) => c.change === 'unchanged')) return { dryRun, version: await repo.readVersion(knex), changes: preview }
      const changes = await change(ctx, (trx, at) => run(trx, at, true))
      return { dryRun, version: await repo.readVersion(knex), changes }
    },

    async evaluate(ctx, rawInput) {
      requirePermission(ctx, 'flags:evaluate')
      const { key, context } = parseInput(evaluateInputSchema, rawInput)
      const flags = live?.() ?? compileFlags(await localSnapshot())
      const data = (key === undefined ? flags.keys() : [key]).map((k) => flags.evaluate(k, context))
      if (key !== undefined && data[0]?.reason === 'FLAG_NOT_FOUND') throw notFound(key)
      return { version: flags.version, data }
    },

    async explain(ctx, rawKey, rawContext) {
      requirePermission(ctx, 'flags:read')
      const key = parseInput(flagKeySchema, rawKey)
      const { context } = parseInput(explainInputSchema, { context: rawContext })
      const compiled = compileFlags(await localSnapshot())
      if (!compiled.has(key)) throw notFound(key)
      // The explanation's lists are readonly for the evaluator, plain arrays for the doors: the same values.
      return { evaluation: compiled.evaluate(key, context), explanation: compiled.explain(key, context) } as ExplainResult
    },

    // No Gantry tables yet (a server started before `migrate latest`): there are no flags, so code gets its defaults.
    snapshot: () => localSnapshot().catch((err: unknown) => (isMissingTable(err) ? { version: 0, flags: [], segments: [] } : Promise.reject(err))),

    version: () => repo.readVersion(knex).catch((err: unknown) => (isMissingTable(err) ? 0 : Promise.reject(err))),

    evaluateFrom(source) {
      live = source
    },
  }
}

const notFound = (key: string): GantryError => new GantryError('FLAG_NOT_FOUND', `There is no flag ${key}.`, { details: { key } })

function invalid(field: string, message: string): GantryError {
  return new GantryError('INVALID_INPUT', message, { details: { issues: [{ path: field, message }] } })
}

/** Throws INVALID_INPUT naming the first problem, with all of them in details. */
function refuse(problems: ReadonlyArray<{ path: string; message: string }>): void {
  const first = problems[0]
  if (first) throw new GantryError('INVALID_INPUT', `${first.path}: ${first.message}`, { details: { issues: problems } })
}

function duplicates(names: readonly string[], what: string): Array<{ path: string; message: string }> {
  const seen = new Set<string>()
  return names.flatMap((name, i) => (seen.has(name) ? [{ path: `${what}[${i}]`, message: `${name} appears twice` }] : (seen.add(name), [])))
}

function definedFields<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as Partial<T>
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)

const changeOf = (before: unknown, after: unknown): 'create' | 'update' | 'unchanged' =>
  before === undefined ? 'create' : sameJson(before, after) ? 'unchanged' : 'update'

const within = (prefix: string, problems: ReadonlyArray<{ path: string; message: string }>) =>
  problems.map((p) => ({ path: `${prefix}.${p.path}`, message: p.message }))

/**
 * The flag with `input`'s rollout. Variants the rollout already had keep their places (so their ranges keep
 * their starts: a variant that grows keeps everyone it had, when it is the first or the ones before it do
 * not grow); new ones follow; a variant left out of the split gets a share of 0 and keeps its place.
 */
function withRollout(flag: FlagDefinition, input: ReturnType<typeof rolloutInputSchema.parse>): FlagDefinition {
  const target = input.rule ?? lastIndex(flag.rules, (r) => r.conditions.length === 0 && r.segments.length === 0 && 'rollout' in r.serve)
  const existing = target === -1 ? undefined : flag.rules[target]
  if (input.rule !== undefined && !existing) throw invalid('rule', `Flag ${flag.key} has ${flag.rules.length} rule(s): there is no rule ${input.rule}.`)
  const previous = existing && 'rollout' in existing.serve ? existing.serve.rollout : undefined
  const weights = new Map(input.split.map((s) => [s.variant, Math.round(s.percent * 1000)]))
  const order = [...(previous?.variants.map((v) => v.variant) ?? []), ...input.split.map((s) => s.variant)].filter((v, i, all) => all.indexOf(v) === i)
  const rollout = {
    by: input.by ?? previous?.by ?? 'userId',
    variants: order.map((variant) => ({ variant, weight: weights.get(variant) ?? 0 })),
    fallback: input.fallback ?? previous?.fallback ?? flag.offVariant,
  }
  if (rollout.variants.reduce((sum, v) => sum + v.weight, 0) !== ROLLOUT_BUCKETS) throw invalid('split', 'the shares add up to 100%')
  const rule: Rule = existing ? { ...existing, serve: { rollout } } : { description: 'percentage rollout', conditions: [], segments: [], serve: { rollout } }
  const rules = [...flag.rules]
  if (existing) rules[target] = rule
  else rules.push(rule)
  return { ...flag, rules }
}

function lastIndex<T>(items: readonly T[], predicate: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (predicate(items[i] as T)) return i
  return -1
}
