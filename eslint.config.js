// @ts-check
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import importX from 'eslint-plugin-import-x'

const uiPackages = ['chalk', 'ora', '@inquirer/prompts', 'inquirer']
const banned = (names, why) => names.map((name) => ({ name, message: why }))

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/.work/**', 'coverage/**', 'templates/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', performance: 'readonly' } },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // DESIGN.md: imports only run down the picture; src never reaches into commands.
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            { target: './src', from: './commands', message: 'src/ never imports commands/.' },
            { target: './src/core', from: ['./src/cli', './src/server', './src/client', './src/db', './src/config', './src/scaffold', './src/runtime.ts'], message: 'src/core depends on nothing but itself and zod.' },
            { target: './migrations', from: ['./src', './commands'], message: 'A migration is frozen in time: knex only.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: banned(['express', '@oclif/core', 'axios', 'ioredis', ...uiPackages], 'src/core is framework-free (DESIGN.md).'),
        patterns: [{ group: ['**/commands/**'], message: 'src/ never imports commands/.' }],
      }],
      'no-restricted-globals': ['error', { name: 'process', message: 'src/core never reads process.env: take it as an argument.' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**', 'src/core/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: banned(uiPackages, 'chalk, ora and inquirer belong to src/cli only.'),
        patterns: [{ group: ['**/commands/**'], message: 'src/ never imports commands/.' }],
      }],
    },
  },
  {
    files: ['commands/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: banned(['knex', 'express', 'ioredis', 'axios', 'pg', 'mysql2', 'better-sqlite3', ...uiPackages], 'Commands stay thin: go through src/cli, src/runtime, src/admin or src/db.'),
        patterns: [
          { group: ['**/src/db/**'], message: 'Only migrate and seed commands use src/db; others go through src/runtime or src/admin (DESIGN.md).' },
          { group: ['**/src/server/**'], message: 'Only `serve` uses src/server (DESIGN.md).' },
          { group: ['**/src/client/**'], message: 'Commands reach the server through src/admin (HttpAdmin), not src/client.' },
        ],
      }],
    },
  },
  {
    files: ['commands/migrate/**/*.ts', 'commands/seed/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: banned(['knex', 'express', 'ioredis', 'axios', 'pg', 'mysql2', 'better-sqlite3', ...uiPackages], 'Commands stay thin: go through src/cli, src/runtime or src/db.'),
      }],
    },
  },
  {
    files: ['src/db/**/*.ts', 'src/config/**/*.ts', 'src/scaffold/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: banned([...uiPackages, 'express', 'axios', '@oclif/core'], 'src/db, src/config and src/scaffold serve every front door: no terminal, HTTP or CLI framework (DESIGN.md).'),
        patterns: [{ group: ['**/commands/**'], message: 'src/ never imports commands/.' }],
      }],
    },
  },
)
