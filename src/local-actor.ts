import { hostname, userInfo } from 'node:os'

/**
 * Who acts when the CLI works straight against the database: `local:<os user>@<host>` from the OS (not
 * $USER, which anyone can set), plus GANTRY_ACTOR (a CI job id, say) when set.
 */
export function localActor(env: NodeJS.ProcessEnv = process.env): string {
  let user: string
  try {
    user = userInfo().username
  } catch {
    user = `uid${process.getuid?.() ?? '?'}`
  }
  const base = `local:${user}@${hostname()}`
  return env.GANTRY_ACTOR ? `${base} (${env.GANTRY_ACTOR})` : base
}
