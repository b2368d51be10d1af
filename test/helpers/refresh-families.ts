/**
 * Refresh-token families as stored (gantry_refresh_tokens), and the one judgement every race test makes of
 * them: after concurrent rotations of one token, exactly one live successor and nothing revoked.
 */
import type { Knex } from 'knex'
import { hashToken } from '../../src/core/sessions/token-hash.js'

export interface FamilyRow {
  readonly id: number
  readonly parentId: number | null
  readonly rotated: boolean
  readonly revoked: boolean
  readonly tokenHash: string
}

/** The rows of one family, oldest first. */
export async function familyRows(k: Knex, familyId: string): Promise<FamilyRow[]> {
  return (await k('gantry_refresh_tokens').where({ family_id: familyId }).orderBy('id')).map((r: Record<string, unknown>) => ({
    id: Number(r.id),
    parentId: r.parent_id === null ? null : Number(r.parent_id),
    rotated: r.rotated_at !== null,
    revoked: r.revoked_at !== null,
    tokenHash: String(r.token_hash),
  }))
}

/** The family a token belongs to, if it is stored at all. */
export async function familyOf(k: Knex, token: string): Promise<string | undefined> {
  const row = (await k('gantry_refresh_tokens')
    .where({ token_hash: hashToken(token) })
    .first('family_id')) as { family_id: string } | undefined
  return row?.family_id
}

/**
 * What is wrong with a family after concurrent rotations of `raced`, `winner` being the one successor a
 * client was given: [] when the raced token is rotated, the only row newer than it is the winner's — its
 * child, live — and no row of the family is revoked.
 */
export function raceProblems(rows: readonly FamilyRow[], raced: string, winner: string | undefined): string[] {
  const problems: string[] = []
  const racedRow = rows.find((r) => r.tokenHash === hashToken(raced))
  if (!racedRow) return ['the raced token is not in its family']
  if (!racedRow.rotated) problems.push('the raced token is not rotated')
  const newer = rows.filter((r) => r.id > racedRow.id)
  if (newer.length !== 1) problems.push(`${newer.length} tokens were issued from the raced one, not 1`)
  const successor = newer[0]
  if (successor && (successor.parentId !== racedRow.id || successor.rotated || successor.revoked))
    problems.push('the successor is not a live child of the raced token')
  if (successor && winner !== undefined && successor.tokenHash !== hashToken(winner)) problems.push('the stored successor is not the one the winner was given')
  const revoked = rows.filter((r) => r.revoked).length
  if (revoked) problems.push(`${revoked} token(s) of the family revoked`)
  return problems
}
