import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'dotenv'

/** Reads one .env file; a missing file is an empty set. */
export function readEnvFile(path: string): Record<string, string> {
  try {
    return parse(readFileSync(path))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw err
  }
}

/** The .env file that holds one environment's variables. */
export function envFilePath(root: string, environment: string): string {
  return join(root, `.env.${environment}`)
}

/**
 * The variables an environment sees. Precedence: the process environment, then `.env.<env>`, then `.env`.
 * The process environment is never modified.
 */
export function environmentVariables(
  root: string,
  environment: string,
  processEnv: NodeJS.ProcessEnv,
): Record<string, string | undefined> {
  return { ...readEnvFile(join(root, '.env')), ...readEnvFile(envFilePath(root, environment)), ...processEnv }
}
