import { hostname, userInfo } from 'node:os'
import { GantryError } from './core/errors.js'
import { findControlCharacter } from './core/text.js'

/**
 * Who acts when the CLI works straight against the database: `local:<os user>@<host>` from the OS (not
 * $USER, which anyone can set), plus GANTRY_ACTOR (a CI job id, say) when set. A GANTRY_ACTOR with a control
 * character is refused rather than cleaned: it is written to the audit log, and a changed name there would
 * no longer be the one the job was given.
 */
export function localActor(env: NodeJS.ProcessEnv = process.env): string {
  let user: string
  try {
    user = userInfo().username
  } catch {
    user = `uid${process.getuid?.() ?? '?'}`
  }
  const base = `local:${user}@${hostname()}`
  if (!env.GANTRY_ACTOR) return base
  const found = findControlCharacter(env.GANTRY_ACTOR)
  if (found) {
    throw new GantryError('INVALID_INPUT', `GANTRY_ACTOR contains a control character (${found}).`, {
      hint: 'Set GANTRY_ACTOR to one line of printable text, e.g. the CI job id.',
      details: { field: 'GANTRY_ACTOR' },
    })
  }
  return `${base} (${env.GANTRY_ACTOR})`
}
