import { join } from 'node:path'
import validatePackageName from 'validate-npm-package-name'
import { ENVIRONMENT_DEFAULTS, WORKSPACE_DEFAULTS } from '../config/defaults.js'
import { formatEnvLines } from '../config/dotenv.js'
import { referencedVariables } from '../config/interpolate.js'
import type { RawConfig } from '../config/schema.js'
import { generateSecret, isSecretName } from '../config/secrets.js'
import { CONFIG_FILE } from '../config/workspace.js'
import { GantryError, inputProblem } from '../core/errors.js'
import { refuseClashes, writePlannedFiles, type PlannedFile, type WrittenFile } from './files.js'
import { addTsxDependency, newPackageJson } from './package-json.js'
import { readTemplate, renderTemplate } from './render.js'

export const DATABASES = ['postgres', 'mariadb'] as const
export type ComposeDatabase = (typeof DATABASES)[number]

/** What docker-compose.yml runs for each database: its name, URL scheme and port. */
const COMPOSE_DATABASE: Readonly<Record<ComposeDatabase, { label: string; scheme: string; port: number }>> = {
  postgres: { label: 'PostgreSQL 16', scheme: 'postgres', port: 5432 },
  mariadb: { label: 'MariaDB 11', scheme: 'mysql', port: 3306 },
}

/**
 * The Dockerfile lines that install the database's client tools, which `gantry db backup` and `migrate
 * latest --backup` run: pg_dump must be at least the server's major version, and Debian 12 ships 15, so
 * PostgreSQL's own repository provides 16 (the compose file's server); Debian's mariadb-client reads MariaDB 11.
 */
const DUMP_TOOLS: Readonly<Record<ComposeDatabase, string>> = {
  postgres: [
    '# pg_dump and pg_restore 16 (`gantry db backup`, `migrate latest --backup`): Debian 12 has 15, which refuses a',
    "# PostgreSQL 16 server, so they come from PostgreSQL's own repository. Match the major version to your server's.",
    'RUN apt-get update \\',
    ' && apt-get install -y --no-install-recommends ca-certificates curl \\',
    ' && install -d /usr/share/postgresql-common/pgdg \\',
    ' && curl -fsSo /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc https://www.postgresql.org/media/keys/ACCC4CF8.asc \\',
    ' && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" > /etc/apt/sources.list.d/pgdg.list \\',
    ' && apt-get update && apt-get install -y --no-install-recommends postgresql-client-16 \\',
    ' && apt-get purge -y curl && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*',
  ].join('\n'),
  mariadb: [
    '# mariadb-dump and mariadb (`gantry db backup`, `migrate latest --backup`).',
    'RUN apt-get update && apt-get install -y --no-install-recommends mariadb-client && rm -rf /var/lib/apt/lists/*',
  ].join('\n'),
}

/** The answers `gantry init` asks for (each also a flag). */
export interface InitAnswers {
  readonly name: string
  readonly database: ComposeDatabase
  readonly redis: boolean
  readonly migrationsExtension: 'ts' | 'js'
}

/** The GitHub Actions workflow `gantry init` writes. */
export const DEPLOY_WORKFLOW = '.github/workflows/deploy.yml'

/** Where the development database lives: a file in the workspace, nothing to install. */
export const DEVELOPMENT_DATABASE = 'sqlite:./.gantry/development.sqlite3'

/**
 * gantry.config.json's `$schema`: the schema as the project's own install of gantry ships it. A path into
 * wherever this CLI runs from (a global install, a clone) would hold on this machine only; this one holds for
 * every collaborator and the Docker image once the project depends on gantry, as the Dockerfile needs anyway.
 */
export const CONFIG_SCHEMA_REF = './node_modules/gantry/schema/gantry.config.schema.json'

/** The name a folder suggests, made one npm accepts: `Shop Front` → `shop-front`. */
export function defaultProjectName(folder: string): string {
  const name = folder
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, '-')
    .replace(/^[._-]+|-+$/g, '')
    .slice(0, 214)
  return name || 'app'
}

/**
 * Refuses a project name npm would refuse for a new package (it names the Docker image and the compose
 * project too, which accept no less): one line naming what is wrong.
 */
export function checkProjectName(name: string): void {
  const verdict = validatePackageName(name)
  if (verdict.validForNewPackages) return
  const why = [...(verdict.errors ?? []), ...(verdict.warnings ?? [])].join('; ')
  throw new GantryError('INVALID_INPUT', `Project name "${name}" is not one npm accepts: ${why}.`, {
    details: inputProblem(['name'], 'project-name-invalid'),
  })
}

/** gantry.config.json for a new workspace: every built-in environment written out, so the user sees it. */
export function initialConfig(answers: InitAnswers): RawConfig {
  const { development, staging, production } = ENVIRONMENT_DEFAULTS
  return {
    $schema: CONFIG_SCHEMA_REF,
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
  const { scheme, port } = COMPOSE_DATABASE[answers.database]
  return {
    DATABASE_URL: `${scheme}://gantry@127.0.0.1:${port}/${dbName}`,
    REDIS_URL: answers.redis ? 'redis://127.0.0.1:6379' : '',
    PORT: '3000',
    DB_USER: 'gantry',
    DB_NAME: dbName,
    DB_PORT: String(port),
    REDIS_PORT: '6379',
  }
}

/** The variables a docker-compose file uses (`${VAR}`, `${VAR:-x}`, `${VAR:?msg}`; `$${` is literal). */
export function composeVariables(text: string): string[] {
  return [...new Set([...text.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] ?? ''))].filter(Boolean)
}

/** One `depends_on` entry of a compose service. */
const dependsOn = (service: string, condition: 'service_healthy' | 'service_completed_successfully'): string =>
  `      ${service}:\n        condition: ${condition}`

/**
 * docker-compose.yml: the chosen database (with a healthcheck and a named volume), Redis when chosen, and
 * the Gantry server built from the Dockerfile, started once a one-shot `migrate` service has succeeded.
 */
export function renderCompose(answers: InitAnswers, dbName: string): string {
  const database = COMPOSE_DATABASE[answers.database]
  const services = [renderTemplate(readTemplate(`init/docker-compose/${answers.database}.yml`), { dbName })]
  const volumes = ['  db-data:']
  if (answers.redis) {
    services.push(readTemplate('init/docker-compose/redis.yml'))
    volumes.push('  redis-data:')
  }
  const dependencies = [dependsOn('migrate', 'service_completed_successfully'), dependsOn('db', 'service_healthy')]
  if (answers.redis) dependencies.push(dependsOn('redis', 'service_healthy'))
  services.push(
    renderTemplate(readTemplate('init/docker-compose/gantry.yml'), {
      databaseUrl: `${database.scheme}://\${DB_USER:-gantry}:\${DB_PASSWORD:?set DB_PASSWORD}@db:${database.port}/\${DB_NAME:-${dbName}}`,
      // Empty: no Redis, rate limits in memory (per instance).
      redisUrl: answers.redis ? 'redis://redis:6379' : '',
      dependsOn: dependencies.join('\n'),
    }),
  )
  const summary = `the Gantry server on ${database.label}${answers.redis ? ' and Redis 7' : ''}`
  return renderTemplate(readTemplate('init/docker-compose.yml'), {
    name: answers.name,
    summary,
    services: services.map((s) => s.trimEnd()).join('\n'),
    volumes: volumes.join('\n'),
  })
}

/** Every file `gantry init` writes, in the order it reports them. */
export function planWorkspace(answers: InitAnswers): PlannedFile[] {
  const dbName =
    answers.name
      .toLowerCase()
      .replace(/[^a-z0-9_]+/g, '_')
      .replace(/^_+|_+$/g, '') || 'app'
  const image = `${
    answers.name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'app'
  }-gantry`
  const config = initialConfig(answers)
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
    { path: 'Dockerfile', content: renderTemplate(readTemplate('init/Dockerfile'), { name: answers.name, image, dumpTools: DUMP_TOOLS[answers.database] }) },
    // Like .gitignore: an existing .dockerignore gains the lines it lacks (without them the image would
    // carry .env files, or host-built node_modules over the image's own).
    { path: '.dockerignore', content: readTemplate('init/dockerignore'), strategy: 'lines' },
    // The release recipe: migrations as a release step, then `gantry health --wait` as the deploy gate.
    { path: DEPLOY_WORKFLOW, content: renderTemplate(readTemplate('init/github-deploy.yml'), { name: answers.name }) },
    // TypeScript migrations load with tsx, which Gantry does not install: the project depends on it itself.
    ...(answers.migrationsExtension === 'ts'
      ? [{ path: 'package.json', content: newPackageJson(answers.name), strategy: 'merge' as const, merge: addTsxDependency }]
      : []),
  ]
}

/** Scaffolds a workspace in `root` (created if missing); refuses to replace files without `force`. */
export function initWorkspace(root: string, answers: InitAnswers, options: { force: boolean }): WrittenFile[] {
  checkProjectName(answers.name)
  return writePlannedFiles(root, planWorkspace(answers), options)
}

/**
 * Refuses, before anyone answers a question, a folder holding files init would replace (without `force`):
 * the answers change what the files say, not which files they are.
 */
export function checkInitTarget(root: string, options: { force: boolean }): void {
  refuseClashes(root, planWorkspace({ name: 'app', database: 'postgres', redis: true, migrationsExtension: 'ts' }), options)
}
