// @ts-check
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import importX from 'eslint-plugin-import-x'
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript'
import { readdirSync } from 'node:fs'

/**
 * DESIGN.md's import rules, as data. Each package may be imported (as a value, statically or with
 * `import()`) only by the areas listed; type-only imports are free everywhere, since the types of knex,
 * ioredis or express describe what one area hands another.
 */
const UI = ['chalk', 'ora', '@inquirer/prompts', 'inquirer']
const onlyIn = [
  { names: ['express'], areas: ['server'], why: 'express belongs to src/server only (DESIGN.md).' },
  { names: ['axios'], areas: ['client'], why: 'axios belongs to src/client only (DESIGN.md).' },
  { names: UI, areas: ['cli'], why: 'chalk, ora and inquirer belong to src/cli only (DESIGN.md).' },
  { names: ['@oclif/core'], areas: ['cli', 'commands', 'commands-db'], why: 'oclif belongs to commands/ and src/cli (DESIGN.md).' },
  {
    names: ['knex', 'pg', 'mysql2', 'better-sqlite3', 'libsql'],
    areas: ['db'],
    why: 'Database clients are made in src/db; elsewhere take a Knex handed in (DESIGN.md).',
  },
  { names: ['ioredis'], areas: ['db'], why: 'Redis clients are made in src/db (src/runtime wires them); elsewhere take one handed in (DESIGN.md).' },
]

/**
 * The areas, each a set of files no other area's globs reach (flat config replaces a rule's options per
 * file, so each file gets its whole list from exactly one area).
 */
const areas = [
  { name: 'core', files: ['src/core/**/*.ts'] },
  { name: 'cli', files: ['src/cli/**/*.ts'] },
  { name: 'server', files: ['src/server/**/*.ts'] },
  { name: 'client', files: ['src/client/**/*.ts'] },
  { name: 'db', files: ['src/db/**/*.ts'] },
  { name: 'other-src', files: ['src/**/*.ts'], ignores: ['src/{core,cli,server,client,db}/**'] },
  { name: 'commands', files: ['commands/**/*.ts'], ignores: ['commands/{migrate,seed,db}/**'] },
  { name: 'commands-db', files: ['commands/{migrate,seed,db}/**/*.ts'] },
]

/** Path patterns an area may not import, beyond the packages (the zones below cover src/ itself). */
const commandPatterns = [
  { group: ['**/src/server/**'], message: 'Only `serve` uses src/server (DESIGN.md).' },
  { group: ['**/src/client/**'], message: 'Commands reach the server through src/admin (HttpAdmin), not src/client.' },
]
const patternsOf = {
  commands: [
    { group: ['**/src/db/**'], message: 'Only migrate, seed and db commands use src/db; others go through src/runtime or src/admin (DESIGN.md).' },
    ...commandPatterns,
  ],
  'commands-db': commandPatterns,
}

/** Syntax an area may not hold, beyond loading a banned package. */
const syntaxOf = {
  core: [
    {
      selector: 'Literal[value=/(^|[\\s(`"\'])--[a-z]/], TemplateElement[value.raw=/(^|[\\s(`"\'])--[a-z]/]',
      message: 'src/core is door-neutral: name the input fields in details (inputProblem) and let each door word them (src/cli/hints.ts, src/server/hints.ts).',
    },
  ],
}

const areaConfig = ({ name, files, ignores }) => {
  const banned = onlyIn.filter(({ areas }) => !areas.includes(name))
  const names = banned.flatMap(({ names }) => names)
  return {
    files,
    ...(ignores ? { ignores } : {}),
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: banned.flatMap(({ names, why }) => names.map((n) => ({ name: n, message: why, allowTypeImports: true }))),
          patterns: patternsOf[name] ?? [],
        },
      ],
      // A dynamic import() is checked too: a lazy load must not be the way around a rule.
      'no-restricted-syntax': [
        'error',
        {
          selector: `ImportExpression[source.value=/^(${names.map((n) => n.replace(/[/@.-]/g, (c) => `\\${c}`)).join('|')})$/]`,
          message: `This package may not be loaded here: ${[...new Set(banned.map(({ why }) => why))].join(' ')}`,
        },
        ...(syntaxOf[name] ?? []),
      ],
    },
  }
}

/**
 * A feature of src/core reaches another feature's data through that feature's service or directory, never
 * its repo. settings.repo is the one shared store (a key-value table several features keep a row in).
 */
const coreFeatures = readdirSync('src/core', { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
const repoOf = (feature) =>
  readdirSync(`src/core/${feature}`)
    .filter((file) => file.endsWith('.repo.ts'))
    .map((file) => `./src/core/${feature}/${file}`)
const featureZones = coreFeatures.map((feature) => ({
  target: `./src/core/${feature}`,
  from: coreFeatures.filter((other) => other !== feature && other !== 'settings').flatMap(repoOf),
  message: `src/core/${feature} reaches another feature's data through its service or directory (users.directory.ts, apikeys.directory.ts), not its repo.`,
}))

/** Where each area may not reach inside the repository (DESIGN.md's picture: imports only run down). */
const zones = [
  { target: './src', from: './commands', message: 'src/ never imports commands/.' },
  {
    target: './src/core',
    from: [
      './src/cli',
      './src/server',
      './src/client',
      './src/db',
      './src/config',
      './src/scaffold',
      './src/admin',
      './src/ratelimit',
      './src/runtime.ts',
      './src/index.ts',
    ],
    message: 'src/core depends on nothing but itself and zod: it is handed the rest.',
  },
  { target: './src/cli', from: ['./src/server'], message: 'src/cli never imports src/server: a shared payload schema lives in src/core.' },
  {
    target: './src/ratelimit',
    from: ['./src/runtime.ts', './src/server', './src/admin', './src/cli', './src/client', './src/db'],
    message: 'src/ratelimit uses its libraries and src/core types only.',
  },
  {
    target: './src/db',
    from: ['./src/runtime.ts', './src/server', './src/admin', './src/cli', './src/client', './src/ratelimit'],
    message: 'src/db uses its libraries and src/core types only.',
  },
  {
    target: './src/client',
    from: ['./src/runtime.ts', './src/server', './src/admin', './src/cli', './src/db', './src/ratelimit'],
    message: 'src/client speaks HTTP only: it shares schemas through src/core.',
  },
  { target: './migrations', from: ['./src', './commands'], message: 'A migration is frozen in time: knex only.' },
  ...featureZones,
]

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/.work/**', 'coverage/**', 'templates/**', 'bench/results/**', 'test/fixtures/lint/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    // Without a TypeScript resolver a `.js` specifier never resolves to its `.ts` file and the path rules check nothing.
    // The plugin's TypeScript settings let it parse the .ts files it follows (no-cycle reads them).
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver': undefined,
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', performance: 'readonly' } },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'import-x/no-restricted-paths': ['error', { zones }],
    },
  },
  {
    files: ['src/**/*.ts', 'commands/**/*.ts'],
    // A cycle makes load order decide what a module sees; type-only cycles are harmless.
    rules: { 'import-x/no-cycle': 'error' },
  },
  {
    // CommonJS migrations as knex CLI projects write them (the folder's package.json says "commonjs").
    files: ['test/fixtures/migration-history/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { exports: 'writable', module: 'writable', require: 'readonly' } },
  },
  ...areas.map(areaConfig),
  {
    files: ['src/core/**/*.ts'],
    rules: { 'no-restricted-globals': ['error', { name: 'process', message: 'src/core never reads process.env: take it as an argument.' }] },
  },
)
