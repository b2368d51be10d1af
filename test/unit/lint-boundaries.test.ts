import { fileURLToPath } from 'node:url'
import { expect } from 'chai'
import { ESLint } from 'eslint'

const root = fileURLToPath(new URL('../..', import.meta.url))

/**
 * DESIGN.md's import rules bite: each probe below, linted as if it were the file at `path` in this tree
 * (its imports resolve against the real modules beside it), breaks one rule and must be refused by the
 * rule named; the last probes break none and must pass. `npm run lint` proves the tree keeps the rules;
 * this proves there are rules to keep.
 */
const violations: Array<{ path: string; code: string; rule: string; what: string }> = [
  {
    path: 'src/core/probe.ts',
    code: "import { openDatabase } from '../db/connect.js'\nvoid openDatabase",
    rule: 'import-x/no-restricted-paths',
    what: 'core imports src/db',
  },
  {
    path: 'src/core/probe.ts',
    code: "import { openRuntime } from '../runtime.js'\nvoid openRuntime",
    rule: 'import-x/no-restricted-paths',
    what: 'core imports the runtime',
  },
  {
    path: 'src/core/probe.ts',
    code: "export const load = () => import('../db/connect.js')",
    rule: 'import-x/no-restricted-paths',
    what: 'core imports src/db lazily',
  },
  {
    path: 'src/core/probe.ts',
    code: "import { createRedisStore } from '../ratelimit/index.js'\nvoid createRedisStore",
    rule: 'import-x/no-restricted-paths',
    what: 'core imports src/ratelimit',
  },
  {
    path: 'src/core/roles/probe.ts',
    code: "import { selectUserByEmail } from '../users/users.repo.js'\nvoid selectUserByEmail",
    rule: 'import-x/no-restricted-paths',
    what: "a feature reads another feature's repo",
  },
  { path: 'src/core/probe.ts', code: 'export const url = process.env.DATABASE_URL', rule: 'no-restricted-globals', what: 'core reads process.env' },
  { path: 'src/core/probe.ts', code: "import ora from 'ora'\nvoid ora", rule: '@typescript-eslint/no-restricted-imports', what: 'core uses a spinner' },
  {
    path: 'src/core/probe.ts',
    code: "export const hint = 'Pass --force to overwrite it.'",
    rule: 'no-restricted-syntax',
    what: 'core words a hint with a CLI flag',
  },
  {
    path: 'src/core/probe.ts',
    code: 'export const say = (n: string) => `${n} needs --window`',
    rule: 'no-restricted-syntax',
    what: 'core names a CLI flag in a message',
  },
  {
    path: 'src/cli/probe.ts',
    code: "import { createReadinessProbe } from '../server/readiness.js'\nvoid createReadinessProbe",
    rule: 'import-x/no-restricted-paths',
    what: 'cli imports src/server',
  },
  { path: 'src/cli/probe.ts', code: "import express from 'express'\nvoid express", rule: '@typescript-eslint/no-restricted-imports', what: 'cli uses express' },
  { path: 'src/cli/probe.ts', code: "import axios from 'axios'\nvoid axios", rule: '@typescript-eslint/no-restricted-imports', what: 'cli uses axios' },
  { path: 'src/cli/probe.ts', code: "import knex from 'knex'\nvoid knex", rule: '@typescript-eslint/no-restricted-imports', what: 'cli makes a knex' },
  { path: 'src/server/probe.ts', code: "import knex from 'knex'\nvoid knex", rule: '@typescript-eslint/no-restricted-imports', what: 'server makes a knex' },
  { path: 'src/server/probe.ts', code: "export const load = () => import('axios')", rule: 'no-restricted-syntax', what: 'server loads axios lazily' },
  {
    path: 'src/ratelimit/probe.ts',
    code: "import { openRuntime } from '../runtime.js'\nvoid openRuntime",
    rule: 'import-x/no-restricted-paths',
    what: 'ratelimit imports the runtime',
  },
  { path: 'src/ratelimit/probe.ts', code: "export const load = () => import('express')", rule: 'no-restricted-syntax', what: 'ratelimit loads express lazily' },
  {
    path: 'src/ratelimit/probe.ts',
    code: "import { createApp } from '../server/app.js'\nvoid createApp",
    rule: 'import-x/no-restricted-paths',
    what: 'ratelimit imports src/server',
  },
  {
    path: 'src/db/probe.ts',
    code: "import { openRuntime } from '../runtime.js'\nvoid openRuntime",
    rule: 'import-x/no-restricted-paths',
    what: 'db imports the runtime',
  },
  {
    path: 'src/db/probe.ts',
    code: "import { createLocalAdmin } from '../admin/local-admin.js'\nvoid createLocalAdmin",
    rule: 'import-x/no-restricted-paths',
    what: 'db imports src/admin',
  },
  {
    path: 'src/client/probe.ts',
    code: "import { createReadinessProbe } from '../server/readiness.js'\nvoid createReadinessProbe",
    rule: 'import-x/no-restricted-paths',
    what: 'client imports src/server',
  },
  {
    path: 'src/admin/probe.ts',
    code: "import express from 'express'\nvoid express",
    rule: '@typescript-eslint/no-restricted-imports',
    what: 'admin uses express',
  },
  {
    path: 'src/probe.ts',
    code: "import { Redis } from 'ioredis'\nvoid Redis",
    rule: '@typescript-eslint/no-restricted-imports',
    what: 'a top-level module makes a Redis client',
  },
  {
    path: 'commands/users/probe.ts',
    code: "import { openDatabase } from '../../src/db/connect.js'\nvoid openDatabase",
    rule: '@typescript-eslint/no-restricted-imports',
    what: 'a command other than migrate uses src/db',
  },
  {
    path: 'commands/migrate/probe.ts',
    code: "import { createApp } from '../../src/server/app.js'\nvoid createApp",
    rule: '@typescript-eslint/no-restricted-imports',
    what: 'migrate uses src/server',
  },
  {
    path: 'commands/migrate/probe.ts',
    code: "import knex from 'knex'\nvoid knex",
    rule: '@typescript-eslint/no-restricted-imports',
    what: 'migrate makes a knex',
  },
  { path: 'src/probe.ts', code: "import { x } from '../commands/users/list.js'\nvoid x", rule: 'import-x/no-restricted-paths', what: 'src imports commands' },
  {
    path: 'migrations/probe.ts',
    code: "import { GantryError } from '../src/core/errors.js'\nvoid GantryError",
    rule: 'import-x/no-restricted-paths',
    what: 'a migration imports src',
  },
  // errors.ts is imported by duration.ts: errors.ts importing duration.ts closes a cycle.
  {
    path: 'src/core/errors.ts',
    code: "import { parseDuration } from './duration.js'\nvoid parseDuration",
    rule: 'import-x/no-cycle',
    what: 'a cycle of value imports',
  },
]

const allowed: Array<{ path: string; code: string; what: string }> = [
  {
    path: 'src/core/roles/probe.ts',
    code: "import { userDirectory } from '../users/users.directory.js'\nimport { selectRoles } from './roles.repo.js'\nvoid userDirectory\nvoid selectRoles",
    what: "a feature uses its own repo and another feature's directory",
  },
  {
    path: 'src/core/maintenance/probe.ts',
    code: "import { getSetting } from '../settings/settings.repo.js'\nvoid getSetting",
    what: 'a feature keeps its row in the shared settings store',
  },
  {
    path: 'src/core/probe.ts',
    code: "import type { Knex } from 'knex'\nimport { GantryError } from './errors.js'\nexport type K = Knex\nvoid GantryError",
    what: 'core takes knex types and its own errors',
  },
  {
    path: 'src/core/probe.ts',
    code: "// a comment may say --force\nexport const sql = 'select 1 -- a SQL comment'",
    what: 'core mentions a flag in a comment, and SQL comments',
  },
  {
    path: 'src/server/probe.ts',
    code: "import express from 'express'\nimport type { Redis } from 'ioredis'\nexport type R = Redis\nvoid express",
    what: 'server uses express and Redis types',
  },
  { path: 'src/db/probe.ts', code: "import knex from 'knex'\nexport const load = () => import('ioredis')\nvoid knex", what: 'db makes knex and Redis clients' },
  { path: 'commands/migrate/probe.ts', code: "import { openDatabase } from '../../src/db/connect.js'\nvoid openDatabase", what: 'migrate uses src/db' },
]

describe('lint: the import rules of DESIGN.md are enforced', function () {
  this.timeout(60_000)
  const eslint = new ESLint({ cwd: root })
  const rulesBroken = async (path: string, code: string): Promise<string[]> => {
    const [result] = await eslint.lintText(code, { filePath: `${root}${path}` })
    return (result?.messages ?? []).map((m) => m.ruleId ?? m.message)
  }

  for (const { path, code, rule, what } of violations) {
    it(`refuses: ${what} (${rule})`, async () => {
      expect(await rulesBroken(path, code)).to.include(rule)
    })
  }
  for (const { path, code, what } of allowed) {
    it(`allows: ${what}`, async () => {
      expect(await rulesBroken(path, code)).to.deep.equal([])
    })
  }
})
