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

/** One source of variables, named the way `env show` reports it. */
export interface VariableLayer {
  readonly source: string
  readonly vars: Readonly<Record<string, string | undefined>>
}

/** The sources an environment's variables come from, strongest first: process env, `.env.<env>`, `.env`. */
export function variableLayers(root: string, environment: string, processEnv: NodeJS.ProcessEnv): VariableLayer[] {
  return [
    { source: 'process env', vars: processEnv },
    { source: `.env.${environment}`, vars: readEnvFile(envFilePath(root, environment)) },
    { source: '.env', vars: readEnvFile(join(root, '.env')) },
  ]
}

/**
 * The variables an environment sees. Precedence: the process environment, then `.env.<env>`, then `.env`.
 * The process environment is never modified.
 */
export function environmentVariables(root: string, environment: string, processEnv: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const merged: Record<string, string | undefined> = {}
  for (const layer of variableLayers(root, environment, processEnv).reverse()) Object.assign(merged, layer.vars)
  return merged
}

/** Lines of a .env file; values that dotenv would read differently are quoted. */
export function formatEnvLines(entries: ReadonlyArray<readonly [string, string]>): string {
  return entries.map(([key, value]) => `${key}=${quoteEnvValue(value)}`).join('\n')
}

function quoteEnvValue(value: string): string {
  if (!/[\s#"'`\\]/.test(value)) return value
  // dotenv takes single- and backtick-quoted values literally, and expands only \n inside double quotes.
  if (!value.includes('\n')) {
    const quote = ["'", '`'].find((q) => !value.includes(q))
    if (quote) return `${quote}${value}${quote}`
  }
  return `"${value.replace(/\n/g, '\\n')}"`
}
