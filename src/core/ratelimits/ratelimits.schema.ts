/**
 * Rate-limit rules and overrides as every door takes and shows them (DESIGN.md "Rate limiting"): the rule
 * the limiter enforces, what `ratelimit set`, `apply`, `override` and `test` take, and what they return.
 */
import { z } from 'zod'
import { durationSchema, isDuration, parseDuration } from '../duration.js'
import { exactlyOneOf, requiredWith } from '../input-rules.js'

/** What a stored rule may count by. */
export const ruleKeySchema = z.enum(['ip', 'user', 'apiKey', 'global'])
/** What any rule counts by: `account` (the login's email) and `client` (a token request's client_id) are the built-in rules' alone. */
export const anyRuleKeySchema = z.enum([...ruleKeySchema.options, 'account', 'client'])
export type RuleKey = z.infer<typeof anyRuleKeySchema>
export const ruleModeSchema = z.enum(['enforce', 'shadow'])
/**
 * When the store (Redis) cannot answer: `open` admits (logged and counted), `closed` refuses with 503,
 * `local` decides from this instance's memory alone (each instance then grants the whole budget).
 */
export const onStoreErrorSchema = z.enum(['open', 'closed', 'local'])
export type OnStoreError = z.infer<typeof onStoreErrorSchema>

/** One rule as the limiter enforces it: which requests, keyed on what, at which GCRA figures. */
export interface RateLimitRule {
  readonly name: string
  /** `method` is an HTTP method or '*'; `path` a pattern on the normalised path ('/api/*', '/*'). */
  readonly match: { readonly method: string; readonly path: string }
  /** Path patterns this rule skips (health and /metrics for the environment default). */
  readonly exempt?: readonly string[] | undefined
  readonly key: RuleKey
  /** Requests per window, sustained. */
  readonly limit: number
  readonly windowMs: number
  /** An integer >= 1: how many are admitted at once from idle. */
  readonly burst: number
  /** `shadow` counts and reports but never refuses: a rule can be tried on live traffic first. */
  readonly mode: 'enforce' | 'shadow'
  /** Default: open. */
  readonly onStoreError?: OnStoreError | undefined
}

/** Names Gantry's own rules use: a stored rule may replace `default`, never the login rules. */
export const RESERVED_RULE_NAMES = ['login-ip', 'login-account', 'oauth-token-ip', 'oauth-token-client', 'sso-ip'] as const

/** A rule name: store keys and RateLimit fields carry it, so letters, digits, `.`, `_` and `-` only. */
export const ruleNameSchema = z
  .string()
  .trim()
  // Lower case: MariaDB compares names without case, SQLite and PostgreSQL with it; one spelling keeps them alike.
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'a rule name is letters, digits, ".", "_" and "-" (at most 64), starting with a letter or digit')

const METHOD = /^(\*|[A-Za-z]{1,16})$/
const PATH = /^\/[\x21-\x7e]{0,254}$/

/** `METHOD PATH` as read from flags and files; undefined when it is not one. A bare path means every method. */
export function parseMatch(text: string): { method: string; path: string } | undefined {
  const parts = text.trim().split(/\s+/)
  const [method, path] = parts.length === 1 ? ['*', parts[0] ?? ''] : parts
  if (parts.length > 2 || !METHOD.test(method ?? '') || !PATH.test(path ?? '')) return undefined
  return { method: (method ?? '*').toUpperCase(), path: path ?? '/' }
}

/**
 * The most `*` a match path may hold. The matcher's time does not grow with them (src/ratelimit/paths.ts:
 * linear in the path), but a rule needs two or three at most, and a cap turns a pasted or hostile pattern
 * into an input error instead of a rule every request is matched against.
 */
export const MAX_MATCH_WILDCARDS = 8

/** `METHOD PATH` as flags and files write it ('POST /api/v1/auth/login', '* /api/*'); kept as text, read with parseMatch. */
export const matchSchema = z
  .string()
  .trim()
  .refine(
    (text) => parseMatch(text) !== undefined,
    'a match is "METHOD /path" (method or *, path starting with /, * for any run), e.g. "POST /api/v1/auth/login" or "* /api/*"',
  )
  .refine((text) => (parseMatch(text)?.path.split('*').length ?? 1) - 1 <= MAX_MATCH_WILDCARDS, `a match path has at most ${MAX_MATCH_WILDCARDS} "*"`)

/** The `match` of a rule, written back the way matchSchema reads it. */
export function formatMatch(match: { method: string; path: string }): string {
  return `${match.method} ${match.path}`
}

const limitSchema = z.coerce.number().int().min(1).max(1_000_000_000)
const burstSchema = z.coerce.number().int().min(1).max(1_000_000)
/** A window from 1 s to 1 day: GCRA's T = window / limit, and Redis keys live at most a window × burst. */
const windowSchema = durationSchema.refine((w) => {
  // zod runs this even when the regex above failed: a malformed duration is left to its issue (parseDuration
  // would throw past zod, and the error would name no field).
  if (!isDuration(w)) return true
  try {
    const ms = parseDuration(w)
    return ms >= 1000 && ms <= 86_400_000
  } catch {
    return false // too long to count in ms
  }
}, 'a window is from 1s to 24h, e.g. 1m')

/** A whole rule as `ratelimit apply` reads it from a file and `export` writes it. */
export const fileRuleSchema = z
  .object({
    name: ruleNameSchema,
    match: matchSchema,
    key: ruleKeySchema.default('ip'),
    limit: limitSchema,
    window: windowSchema,
    /** Default: the limit (a window's worth at once, then the sustained rate). */
    burst: burstSchema.optional(),
    mode: ruleModeSchema.default('enforce'),
    onStoreError: onStoreErrorSchema.default('open'),
    enabled: z.boolean().default(true),
  })
  // A misspelt field ("mod": "shadow") must not quietly put an enforcing rule on live traffic.
  .strict()
export type FileRule = z.input<typeof fileRuleSchema>

/** What `ratelimit set NAME` changes: every field optional; a new rule needs match, limit and window. */
export const setRuleInputSchema = z.object({
  match: matchSchema.optional(),
  key: ruleKeySchema.optional(),
  limit: limitSchema.optional(),
  window: windowSchema.optional(),
  burst: burstSchema.optional(),
  mode: ruleModeSchema.optional(),
  onStoreError: onStoreErrorSchema.optional(),
  enabled: z.boolean().optional(),
})
export type SetRuleInput = z.input<typeof setRuleInputSchema>

const countsSchema = z.object({
  admitted: z.number().int(),
  refused: z.number().int(),
  shadowRefused: z.number().int(),
  storeErrors: z.number().int(),
  since: z.string().nullable().describe('ISO 8601: when the first of these was counted; null: never'),
})
export type RuleCounts = z.infer<typeof countsSchema>

/** A rule as lists show it, with where it comes from and what it has decided across every instance. */
export const ruleViewSchema = z.object({
  name: z.string(),
  match: z.string(),
  key: anyRuleKeySchema,
  limit: z.number().int(),
  window: z.string(),
  burst: z.number().int(),
  mode: ruleModeSchema,
  onStoreError: onStoreErrorSchema,
  enabled: z.boolean(),
  source: z.enum(['database', 'config', 'builtin']).describe('database: set with gantry ratelimit; config: the environment default; builtin: the login rules'),
  counts: countsSchema,
  updatedAt: z.string().nullable(),
})
export type RuleView = z.infer<typeof ruleViewSchema>

/** What an override is for: an address, a user, an API key, or an OAuth client (the token rules' `client` key). */
export type SubjectType = 'ip' | 'user' | 'apiKey' | 'client'

/** An override's subject as typed (`ip:203.0.113.7`, `user:ops@example.com`, `apikey:KEYID`, `client:CLIENTID`), read; undefined when it is not one. */
export function parseSubject(text: string): { type: SubjectType; value: string } | undefined {
  const match = /^(ip|user|apikey|client):(.+)$/i.exec(text.trim())
  if (!match) return undefined
  const kind = (match[1] ?? '').toLowerCase()
  return { type: kind === 'apikey' ? 'apiKey' : (kind as 'ip' | 'user' | 'client'), value: (match[2] ?? '').trim() }
}

export const subjectSchema = z
  .string()
  .trim()
  .refine((text) => parseSubject(text) !== undefined, 'a subject is ip:ADDRESS, user:EMAIL, apikey:KEYID or client:CLIENTID')

/** `ratelimit override SUBJECT`: its own limit (with a window) for one subject, or a block; exactly one of the two. */
export const overrideInputSchema = requiredWith(
  exactlyOneOf(
    z.object({
      subject: subjectSchema,
      /** The rule it changes; `*` (default): every rule keyed on the subject's kind. */
      rule: z.union([z.literal('*'), ruleNameSchema]).default('*'),
      limit: limitSchema.optional(),
      window: windowSchema.optional(),
      burst: burstSchema.optional(),
      block: z.boolean().default(false),
      expires: durationSchema.optional(),
      reason: z.string().trim().max(500).default(''),
    }),
    [
      { title: 'Its own limit', schema: z.object({ limit: z.number() }) },
      { title: 'A block', schema: z.object({ block: z.literal(true) }) },
    ],
    () => ({ message: 'an override takes a limit (with a window) or block, not both', path: ['limit'] }),
  ),
  'limit',
  ['window'],
  { message: 'an override with a limit needs a window', path: ['window'] },
)
export type OverrideInput = z.input<typeof overrideInputSchema>

/** One override, as the limiter reads it. */
export interface RateLimitOverride {
  readonly rule: string
  readonly subjectType: SubjectType
  /** An address, a user id, an API key id, a client id: what the limiter sees for that kind. */
  readonly subject: string
  /** Undefined when blocked. */
  readonly limit?: number | undefined
  readonly windowMs?: number | undefined
  readonly burst?: number | undefined
  readonly blocked: boolean
  /** Epoch ms; undefined: until removed. */
  readonly expiresAt?: number | undefined
}

export const overrideViewSchema = z.object({
  id: z.number().int(),
  rule: z.string(),
  subject: z.string().describe('as typed: ip:…, user:EMAIL, apikey:KEYID'),
  limit: z.number().int().nullable(),
  window: z.string().nullable(),
  burst: z.number().int().nullable(),
  blocked: z.boolean(),
  reason: z.string(),
  expiresAt: z.string().nullable(),
  updatedAt: z.string(),
})
export type OverrideView = z.infer<typeof overrideViewSchema>

export const removeOverrideInputSchema = z.object({ subject: subjectSchema, rule: z.union([z.literal('*'), ruleNameSchema]).default('*') })
export type RemoveOverrideInput = z.input<typeof removeOverrideInputSchema>

export const rateLimitListSchema = z.object({
  data: z.array(ruleViewSchema).describe('the login rules, then the chain every other request meets, in order'),
  overrides: z.array(overrideViewSchema),
  version: z.number().int().describe('bumped by every change; instances reload when it moves'),
  nextCursor: z.null(),
})
export type RateLimitList = z.infer<typeof rateLimitListSchema>

/** The stored rules as `export` writes them: a file `apply` reads back as the same rules. */
export const exportSchema = z.object({
  rules: z.array(
    z.object({
      name: z.string(),
      match: z.string(),
      key: ruleKeySchema,
      limit: z.number().int(),
      window: z.string(),
      burst: z.number().int(),
      mode: ruleModeSchema,
      onStoreError: onStoreErrorSchema,
      enabled: z.boolean(),
    }),
  ),
})
export type RulesFile = z.infer<typeof exportSchema>

export const applyInputSchema = z.object({
  rules: z.array(fileRuleSchema).max(1000),
  /** Remove the stored rules the file does not list. */
  prune: z.boolean().default(false),
  dryRun: z.boolean().default(false),
})
export type ApplyInput = z.input<typeof applyInputSchema>

const fieldValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null()])
export type FieldValue = z.infer<typeof fieldValueSchema>

export const applyResultSchema = z.object({
  added: z.array(z.string()),
  changed: z.array(
    z.object({
      name: z.string(),
      fields: z.array(z.string()),
      changes: z
        .array(z.object({ field: z.string(), from: fieldValueSchema, to: fieldValueSchema }))
        .describe("each changed field's stored value and the file's, as a rules file writes them (order: the rule's position among those both list)"),
    }),
  ),
  removed: z.array(z.string()),
  kept: z.array(z.string()).describe('stored rules the file does not list, left as they are (unless pruning)'),
  unchanged: z.array(z.string()),
  applied: z.boolean().describe('false on a dry run, or when there was nothing to change'),
  version: z.number().int(),
})
export type ApplyResult = z.infer<typeof applyResultSchema>

export const removeRuleResultSchema = z.object({ removed: z.string(), version: z.number().int() })
export const removeOverrideResultSchema = z.object({ removed: overrideViewSchema, version: z.number().int() })

/** `ratelimit test`: a request as the limiter would see it. */
export const testInputSchema = z.object({
  method: z
    .string()
    .trim()
    .regex(/^[A-Za-z]{1,16}$/, 'a method such as GET')
    .default('GET'),
  path: z.string().trim().regex(PATH, 'a path starting with /'),
  ip: z.string().trim().min(1).max(64).default('127.0.0.1'),
  /** A user's email: the rules keyed on `user` count them. */
  user: z.string().trim().min(1).max(254).optional(),
  apiKey: z
    .string()
    .trim()
    .regex(/^[0-9A-Za-z]{1,32}$/, 'an API key id (see gantry apikeys list)')
    .optional(),
})
export type TestInput = z.input<typeof testInputSchema>

export const testStepSchema = z.object({
  rule: z.string(),
  source: z.enum(['database', 'config', 'builtin']),
  matched: z.boolean(),
  /** Why it does not count this request (when not matched). */
  reason: z.string().optional(),
  key: z.string(),
  mode: ruleModeSchema,
  limit: z.number().int().nullable(),
  window: z.string().nullable(),
  burst: z.number().int().nullable(),
  override: z.string().nullable().describe('the override that applies: "blocked" or its limit'),
  /** From the store's current state (not spent): whether the request would be admitted, and how many more at once. */
  wouldAdmit: z.boolean().optional(),
  remaining: z.number().int().optional(),
  retryAfter: z.number().int().optional(),
})
export type TestStep = z.infer<typeof testStepSchema>

export const testResultSchema = z.object({
  allowed: z.boolean(),
  decidedBy: z.string().nullable().describe('the rule that would refuse, or the most restrictive that admits'),
  shared: z.boolean().describe('true when budgets come from Redis (shared by every instance); false: this process only'),
  steps: z.array(testStepSchema),
})
export type TestResult = z.infer<typeof testResultSchema>

/** Everything the limiter needs, read in one go: what `ratelimit` changes reaches instances as this. */
export interface RateLimitSnapshot {
  readonly version: number
  /** The chain every request meets (the environment default unless replaced, then the stored rules), in order, enabled only. */
  readonly rules: readonly RateLimitRule[]
  /** The built-in login rules, checked before the password hash. */
  readonly login: readonly RateLimitRule[]
  /** Overrides not yet expired when read (the limiter checks expiry again on each decision). */
  readonly overrides: readonly RateLimitOverride[]
}

/** One request's figures per rule, as the server adds them to the shared counters. */
export type CountDeltas = Record<string, { admitted: number; refused: number; shadowRefused: number; storeErrors: number }>
