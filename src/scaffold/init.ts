import { join, relative, sep } from 'node:path'
import { ENVIRONMENT_DEFAULTS, WORKSPACE_DEFAULTS } from '../config/defaults.js'
import { formatEnvLines } from '../config/dotenv.js'
import { referencedVariables } from '../config/interpolate.js'
import type { RawConfig } from '../config/schema.js'
import { generateSecret, isSecretName } from '../config/secrets.js'
import { CONFIG_FILE } from '../config/workspace.js'
import { packageRoot } from '../package-root.js'
import { writePlannedFiles, type PlannedFile, type WrittenFile } from './files.js'
import { readTemplate, renderTemplate } from './render.js'

export const DATABASES = ['postgres', 'mariadb'] as const
export type ComposeDatabase = (typeof DATABASES)[number]

/** The answers `gantry init` asks for (each also a flag). */
export interface InitAnswers {
  readonly name: string
  readonly database: ComposeDatabase
  readonly redis: boolean
  readonly migrationsExtension: 'ts' | 'js'
}

/** Where the development database lives: a file in the workspace, nothing to install. */
export const DEVELOPMENT_DATABASE = 'sqlite:./.gantry/development.sqlite3'

/** The shipped JSON Schema of gantry.config.json. */
export function configSchemaPath(): string {
  return join(packageRoot(), 'schema', 'gantry.config.schema.json')
}

/** gantry.config.json for a new workspace: every built-in environment written out, so the user sees it. */
export function initialConfig(root: string, answers: InitAnswers): RawConfig {
  const schema = relative(root, configSchemaPath()).split(sep).join('/')
  const { development, staging, production } = ENVIRONMENT_DEFAULTS
  return {
    $schema: schema.startsWith('.') ? schema : `./${schema}`,
    name: answers.name,
    migrations: { ...WORKSPACE_DEFAULTS.migrations, extension: answers.migrationsExtension },
    seeds: { ...WORKSPACE_DEFAULTS.seeds },
    environments: {
      development: { ...development, database: DEVELOPMENT_DATABASE },
      ...(staging ? { staging } : {}),
      ...(production ? { production } : {}),
    },
  }
}

/** Example values for .env.example; anything not listed (and every secret) is left empty. */
function exampleValues(answers: InitAnswers, dbName: string): Record<string, string> {
  const db = answers.database === 'postgres' ? `postgres://gantry@127.0.0.1:5432/${dbName}` : `mysql://gantry@127.0.0.1:3306/${dbName}`
  return {
    DATABASE_URL: db,
    REDIS_URL: answers.redis ? 'redis://127.0.0.1:6379' : '',
    PORT: '3000',
    DB_USER: 'gantry',
    DB_NAME: dbName,
    DB_PORT: answers.database === 'postgres' ? '5432' : '3306',
    REDIS_PORT: '6379',
  }
}

/** The variables a docker-compose file uses (`${VAR}`, `${VAR:-x}`, `${VAR:?msg}`; `$${` is literal). */
export function composeVariables(text: string): string[] {
  return [...new Set([...text.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] ?? ''))].filter(Boolean)
}

/** docker-compose.yml: the chosen database (with a healthcheck and a named volume) and Redis when chosen. */
export function renderCompose(answers: InitAnswers, dbName: string): string {
  const services = [renderTemplate(readTemplate(`init/docker-compose/${answers.database}.yml`), { dbName })]
  const volumes = ['  db-data:']
  if (answers.redis) {
    services.push(readTemplate('init/docker-compose/redis.yml'))
    volumes.push('  redis-data:')
  }
  const summary = `${answers.database === 'postgres' ? 'PostgreSQL 16' : 'MariaDB 11'}${answers.redis ? ' and Redis 7' : ''}`
  return renderTemplate(readTemplate('init/docker-compose.yml'), {
    name: answers.name,
    summary,
    services: services.map((s) => s.trimEnd()).join('\n'),
    volumes: volumes.join('\n'),
  })
}

/** Every file `gantry init` writes, in the order it reports them. */
export function planWorkspace(root: string, answers: InitAnswers): PlannedFile[] {
  const dbName = answers.name.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '') || 'app'
  const config = initialConfig(root, answers)
  const compose = renderCompose(answers, dbName)
  const examples = exampleValues(answers, dbName)
  const variables = [...new Set([...referencedVariables(config.environments), ...composeVariables(compose)])]
  const example = variables.map((name) => [name, isSecretName(name) ? '' : (examples[name] ?? '')] as const)
  const developmentSecrets = referencedVariables(config.environments?.development).filter(isSecretName)
  return [
    { path: CONFIG_FILE, content: `${JSON.stringify(config, null, 2)}\n` },
    { path: '.env.example', content: renderTemplate(readTemplate('init/env.example'), { name: answers.name, variables: formatEnvLines(example) }) },
    {
      path: '.env.development',
      content: renderTemplate(readTemplate('init/env.development'), {
        variables: formatEnvLines(developmentSecrets.map((name) => [name, generateSecret()] as const)),
      }),
      mode: 0o600,
    },
    { path: '.gitignore', content: readTemplate('init/gitignore'), strategy: 'lines' },
    { path: join(config.migrations?.directory ?? 'migrations', '.gitkeep'), content: '', strategy: 'keep' },
    { path: join(config.seeds?.directory ?? 'seeds', '.gitkeep'), content: '', strategy: 'keep' },
    { path: 'docker-compose.yml', content: compose },
  ]
}

/** Scaffolds a workspace in `root` (created if missing); refuses to replace files without `force`. */
export function initWorkspace(root: string, answers: InitAnswers, options: { force: boolean }): WrittenFile[] {
  return writePlannedFiles(root, planWorkspace(root, answers), options)
}
