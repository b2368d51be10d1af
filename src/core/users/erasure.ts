/**
 * The right to erasure (`gantry users delete --erase`): the user goes as a delete removes them (their
 * refresh tokens and API keys with them, by the foreign keys), and every email and name they were known by
 * is replaced, wherever Gantry wrote it, with a random pseudonym (`erased-<16 base62>`: drawn, never derived
 * from the email, so no guess can be checked against it). Where they were written:
 * - the audit log: actor and target columns, and the before/after documents; the IP of the entries they
 *   (or their keys) acted in is cleared, an address being personal data too;
 * - webhook messages (the bodies kept for redelivery: a redelivery sends the pseudonym);
 * - text columns an email may have been copied into (erasure.repo.ts TEXT_COLUMNS): replaced in place, cut to
 *   the column's length where the pseudonym made the text longer;
 * - rate-limit overrides of the user, of their keys and of their OAuth clients: deleted (nobody they could
 *   apply to is left).
 * Their keys, OAuth clients and linked identities at identity providers (the provider's subject and email)
 * go with their row by the foreign keys; what their keys and clients did stays in the audit log, like what
 * they did themselves, without their address.
 * Not rewritten: feature flag rules and segments (they target the app's own users, and rewriting one
 * changes who gets a feature): those that name an email are reported for the operator to edit. Ids stay:
 * without the user's row they identify nobody, and the ledger needs them.
 *
 * Each erasure is one row of the ledger (gantry_erasures), with no personal data; `db restore` re-applies
 * the ledger (reapplyErasures), so restoring an older backup cannot bring the person back.
 */
import type { Knex } from 'knex'
import { randomBase62 } from '../random.js'
import {
  AUDIT_TABLE,
  ERASURES_TABLE,
  TEXT_COLUMNS,
  fitColumn,
  insertErasure,
  isMariaDb,
  orMentions,
  selectAuditConcerning,
  selectErasures,
  tableExists,
  type AuditCells,
  type ColumnMax,
  type ErasureRow,
} from './erasure.repo.js'
import { USERS_TABLE } from './users.repo.js'
import { normaliseEmail } from './users.schema.js'

/**
 * What a person was known by: every email and name the user had (their audit entries hold the old ones), and
 * their keys and OAuth clients (which act as them) — less any email another user holds now (identityOf).
 */
export interface Identity {
  readonly userId: number
  readonly emails: ReadonlySet<string>
  readonly names: ReadonlySet<string>
  readonly keyIds: readonly string[]
  /** Their OAuth clients' public ids. */
  readonly clientIds: readonly string[]
}

/** The actors of the audit log that are the person: themselves, each of their keys and OAuth clients. */
export function actorsOf(who: Pick<Identity, 'userId' | 'keyIds' | 'clientIds'>): string[] {
  return [`user:${who.userId}`, ...who.keyIds.map((id) => `apikey:${id}`), ...who.clientIds.map((id) => `client:${id}`)]
}

/** Whether an audit entry's or event's target is the person: their user, one of their keys or OAuth clients. */
export function isAboutPerson(who: Pick<Identity, 'userId' | 'keyIds' | 'clientIds'>, type: unknown, id: unknown): boolean {
  const target = String(id)
  return (
    (type === 'user' && target === String(who.userId)) ||
    (type === 'apikey' && who.keyIds.includes(target)) ||
    (type === 'oauth-client' && who.clientIds.includes(target))
  )
}

/** What one erasure changed. */
export interface ErasedTraces {
  readonly auditEntries: number
  readonly webhookMessages: number
  readonly otherCells: number
  readonly rateLimitOverrides: number
  /** Flags and segments whose definitions name one of the emails: left for the operator (see above). */
  readonly flagsNaming: string[]
}

/** A new pseudonym: random, 95 bits. */
export function newPseudonym(): string {
  return `erased-${randomBase62(16)}`
}

const PAGE = 500

/**
 * Collects the identity of the user `row`: the row's email and name, those in audit entries about them, their
 * keys. An old email that another user holds now (X changed a@ to b@, then Y signed up as a@) is Y's: it is
 * left out, or erasing X would rewrite Y's traces. Names are kept whoever else bears one: the scrubber replaces
 * a name only in records about the person (see scrubber), so another user of the same name is never touched.
 */
export async function identityOf(k: Knex, row: { id: number; email: string; name: string }): Promise<Identity> {
  const emails = new Set([normaliseEmail(row.email)])
  const names = new Set(row.name === '' ? [] : [row.name])
  const collect = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(collect)
    if (value === null || typeof value !== 'object') return
    const record = value as Record<string, unknown>
    // A user's public view (users.schema userSchema) as the users feature audits it.
    if (typeof record.email === 'string' && record.email.includes('@')) {
      emails.add(normaliseEmail(record.email))
      if (typeof record.name === 'string' && record.name !== '') names.add(record.name)
    }
    Object.values(record).forEach(collect)
  }
  const about = (await k(AUDIT_TABLE)
    .select('before', 'after')
    .where({ target_type: 'user', target_id: String(row.id) })) as AuditCells[]
  for (const entry of about) for (const doc of [entry.before, entry.after]) if (doc !== null) collect(parse(doc))
  const heldByOthers = (await k(USERS_TABLE)
    .select('email')
    .whereIn('email', [...emails])
    .whereNot('id', row.id)) as Array<{ email: string }>
  for (const other of heldByOthers) emails.delete(normaliseEmail(other.email))
  const keyIds = ((await k('gantry_api_keys').select('key_id').where({ owner_id: row.id })) as Array<{ key_id: string }>).map((r) => r.key_id)
  // A restored database older than OAuth clients has no table of them.
  // Their accounts' subjects at identity providers (users.link and its event name them): replaced, like a
  // name, as whole values in the records about them.
  if (await tableExists(k, 'gantry_user_identities'))
    for (const r of (await k('gantry_user_identities').select('subject').where({ user_id: row.id })) as Array<{ subject: string }>) names.add(r.subject)
  const clientIds = (await tableExists(k, 'gantry_oauth_clients'))
    ? ((await k('gantry_oauth_clients').select('client_id').where({ owner_id: row.id })) as Array<{ client_id: string }>).map((r) => r.client_id)
    : []
  return { userId: row.id, emails, names, keyIds, clientIds }
}

/** Replaces the identity's traces with `pseudonym` in every place listed above (in `k`, the erasure's transaction). */
export async function eraseTraces(k: Knex, identity: Identity, pseudonym: string): Promise<ErasedTraces> {
  const scrub = scrubber(identity, pseudonym)
  const emails = [...identity.emails]
  const actors = actorsOf(identity)

  let auditEntries = 0
  for (let afterId = 0; ;) {
    const rows = await selectAuditConcerning(k, { ...identity, emails }, afterId, PAGE)
    for (const row of rows) {
      const about = isAboutPerson(identity, row.target_type, row.target_id)
      const patch = {
        actor: scrub.text(row.actor).slice(0, 255),
        target_id: scrub.text(row.target_id).slice(0, 255),
        before: scrub.json(row.before, about),
        after: scrub.json(row.after, about),
      }
      if (patch.actor === row.actor && patch.target_id === row.target_id && patch.before === row.before && patch.after === row.after) continue
      await k(AUDIT_TABLE).where({ id: row.id }).update(patch)
      auditEntries += 1
    }
    if (rows.length < PAGE) break
    afterId = Number((rows[rows.length - 1] as AuditCells).id)
  }
  await k(AUDIT_TABLE).whereIn('actor', actors).whereNotNull('ip').update({ ip: null })

  let webhookMessages = 0
  if (await tableExists(k, 'gantry_webhook_messages')) {
    // An event about the user names them by id in its target, as the outbox serialises it.
    const targetJson = JSON.stringify({ type: 'user', id: String(identity.userId) })
    const messages = (await k('gantry_webhook_messages')
      .select('id', 'body')
      .where((w) => orMentions(w, ['body'], [...emails, `"target":${targetJson}`]))) as Array<{ id: string; body: string }>
    for (const message of messages) {
      const body = scrub.json(message.body, messageIsAbout(message.body, identity)) as string
      if (body === message.body) continue
      await k('gantry_webhook_messages').where({ id: message.id }).update({ body })
      webhookMessages += 1
    }
  }

  let rateLimitOverrides = 0
  if (await tableExists(k, 'gantry_rate_limit_overrides')) {
    rateLimitOverrides += Number(
      await k('gantry_rate_limit_overrides')
        .where({ subject_type: 'user', subject: String(identity.userId) })
        .delete(),
    )
    for (const [subjectType, ids] of [
      ['apiKey', identity.keyIds],
      ['client', identity.clientIds],
    ] as const) {
      if (ids.length > 0)
        rateLimitOverrides += Number(await k('gantry_rate_limit_overrides').where({ subject_type: subjectType }).whereIn('subject', ids).delete())
    }
  }

  let otherCells = 0
  const mariaDb = isMariaDb(k)
  for (const { table, key, columns: capacities } of TEXT_COLUMNS) {
    if (!(await tableExists(k, table))) continue
    const columns = Object.keys(capacities)
    const rows = (await k(table)
      .select(key, ...columns)
      .where((w) => orMentions(w, columns, emails))) as Array<Record<string, unknown>>
    for (const row of rows) {
      const patch: Record<string, string> = {}
      for (const column of columns) {
        const value = row[column]
        if (typeof value !== 'string') continue
        // The pseudonym may be longer than the email: cut to the column's capacity, after replacing.
        const scrubbed = scrub.text(value)
        if (scrubbed !== value) patch[column] = fitColumn(scrubbed, capacities[column] as ColumnMax, mariaDb)
      }
      if (Object.keys(patch).length === 0) continue
      await k(table)
        .where({ [key]: row[key] })
        .update(patch)
      otherCells += Object.keys(patch).length
    }
  }

  const flagsNaming: string[] = []
  for (const [table, key] of [
    ['gantry_flags', 'key'],
    ['gantry_flag_segments', 'name'],
  ] as const) {
    if (!(await tableExists(k, table))) continue
    const rows = (await k(table)
      .select(key)
      .where((w) => orMentions(w, ['definition'], emails))) as Array<Record<string, string>>
    flagsNaming.push(...rows.map((r) => `${table === 'gantry_flags' ? 'flag' : 'segment'} ${r[key]}`))
  }
  return { auditEntries, webhookMessages, otherCells, rateLimitOverrides, flagsNaming }
}

/**
 * Erases the user `row` in `trx`: traces, the row itself (its tokens and keys go by cascade), and the ledger's
 * row. A user the ledger names already (back from a restore that could not erase them again) keeps their
 * pseudonym: one person, one pseudonym, one ledger row.
 */
export async function eraseUser(
  trx: Knex,
  row: { id: number; email: string; name: string; created_at: number | string },
  by: { actor: string; at: number },
): Promise<ErasedTraces & { pseudonym: string }> {
  const createdAt = Number(row.created_at)
  const known = (await selectErasures(trx)).find((e) => e.user_id === row.id && e.user_created_at === createdAt)
  const pseudonym = known?.pseudonym ?? newPseudonym()
  const traces = await eraseTraces(trx, await identityOf(trx, row), pseudonym)
  await trx(USERS_TABLE).where({ id: row.id }).delete()
  if (!known) await insertErasure(trx, { user_id: row.id, user_created_at: createdAt, pseudonym, erased_at: by.at, erased_by: by.actor })
  return { pseudonym, ...traces }
}

/** The ledger as it stands, to be passed to reapplyErasures after the database is replaced. */
export const readErasureLedger = (k: Knex): Promise<ErasureRow[]> => selectErasures(k)

/**
 * After a restore, first: writes back the rows of `earlier` (the ledger read before the restore) that the
 * restore lost, and answers the ledger as it now stands. Its own step, committed before any user is erased
 * again: should that fail, the ledger is whole in the database, and a second restore reads it from there.
 */
export async function restoreErasureLedger(trx: Knex, earlier: readonly ErasureRow[]): Promise<ErasureRow[]> {
  // A backup older than the ledger's migration restores no ledger table: the target's own stays (a restore
  // leaves tables the backup lacks as they are), so its rows are there already.
  if (!(await tableExists(trx, ERASURES_TABLE))) return [...earlier]
  const restored = await selectErasures(trx)
  const seen = new Set(restored.map((e) => `${e.user_id}/${e.user_created_at}`))
  const lost = earlier.filter((e) => !seen.has(`${e.user_id}/${e.user_created_at}`) && !restored.some((r) => r.pseudonym === e.pseudonym))
  for (const entry of lost) await insertErasure(trx, entry)
  return [...restored, ...lost]
}

/**
 * Then: erases again, under the same pseudonym, each user of `ledger` whose row is back — the same id and the
 * same account creation time, so another environment's user who merely has that id is left alone. Returns
 * how many users were erased again.
 */
export async function reapplyErasures(trx: Knex, ledger: readonly ErasureRow[]): Promise<number> {
  if (!(await tableExists(trx, USERS_TABLE))) return 0
  let reapplied = 0
  for (const entry of ledger) {
    const row = (await trx(USERS_TABLE).select('id', 'email', 'name').where({ id: entry.user_id, created_at: entry.user_created_at }).first()) as
      { id: number | string; email: string; name: string } | undefined
    if (!row) continue
    await eraseTraces(trx, await identityOf(trx, { ...row, id: Number(row.id) }), entry.pseudonym)
    await trx(USERS_TABLE).where({ id: entry.user_id }).delete()
    reapplied += 1
  }
  return reapplied
}

/**
 * Whether a stored webhook message is about the person: its event's target is their user, one of their keys
 * or OAuth clients (the outbox serialises `data.target` as `{ type, id }`).
 */
function messageIsAbout(body: string, identity: Identity): boolean {
  // The event's own fields are under `data` (webhooks' envelope: type, timestamp, environment, data).
  const target = (parse(body) as { data?: { target?: { type?: unknown; id?: unknown } } } | undefined)?.data?.target
  if (target === undefined || target === null || typeof target !== 'object') return false
  return isAboutPerson(identity, target.type, target.id)
}

/**
 * Rewrites texts and JSON documents: every email replaced, and the names where they are the person's. Two
 * people may share a name, so a name is replaced only where it is known to be the person's: inside an object
 * that is their user (its email one of theirs), or, as any whole value, in a record about them (an audit entry
 * or event whose target is their user or key: `about`). A record found only because it mentions their email
 * may be about someone else (Y's entry quoting X's address): there another person's equal name stays. The
 * choice over "skip names another current user holds": that would leave the person's name in their own
 * records whenever a namesake exists, and still rewrite a past user's name that nobody holds now.
 */
function scrubber(identity: Identity, pseudonym: string) {
  const text = (value: string): string => {
    let out = value
    for (const email of identity.emails) out = replaceIgnoringCase(out, email, pseudonym)
    return out
  }
  const walk = (value: unknown, about: boolean): unknown => {
    if (typeof value === 'string') return about && identity.names.has(value) ? pseudonym : text(value)
    if (Array.isArray(value)) return value.map((v) => walk(v, about))
    if (value === null || typeof value !== 'object') return value
    const record = value as Record<string, unknown>
    const person = typeof record.email === 'string' && identity.emails.has(normaliseEmail(record.email))
    return Object.fromEntries(
      Object.entries(record).map(([key, v]) => [key, person && key === 'name' && typeof v === 'string' && v !== '' ? pseudonym : walk(v, about)]),
    )
  }
  return {
    text,
    /**
     * A JSON document rewritten (the same text when nothing changed); `about`: the record is about the person
     * (see above). A name is replaced only as a whole value: a short name is part of many other words.
     */
    json(doc: string | null, about: boolean): string | null {
      if (doc === null) return null
      const parsed = parse(doc)
      if (parsed === undefined) return text(doc)
      const out = JSON.stringify(walk(parsed, about))
      return out === JSON.stringify(parsed) ? doc : out
    },
  }
}

function parse(doc: string): unknown {
  try {
    return JSON.parse(doc) as unknown
  } catch {
    return undefined
  }
}

/** `text` with every occurrence of `needle` (compared lower-cased) replaced: an email is matched in any case. */
function replaceIgnoringCase(text: string, needle: string, replacement: string): string {
  const lower = text.toLowerCase()
  // Lower-casing changed some character's length: positions would not line up, so match exactly.
  if (lower.length !== text.length) return text.replaceAll(needle, replacement)
  let out = ''
  let from = 0
  for (let at = lower.indexOf(needle); at >= 0; at = lower.indexOf(needle, from)) {
    out += text.slice(from, at) + replacement
    from = at + needle.length
  }
  return out + text.slice(from)
}
