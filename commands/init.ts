import { enumFlag } from '../src/cli/flags.js'
import { mkdirSync } from 'node:fs'
import { basename, relative, resolve } from 'node:path'
import { Args, Flags } from '@oclif/core'
import { z } from 'zod'
import { GantryCommand } from '../src/cli/base-command.js'
import { canPrompt, confirm, valueOrAsk } from '../src/cli/prompts.js'
import { GantryError } from '../src/core/errors.js'
import { imageInstallProblems } from '../src/scaffold/image-install.js'
import { checkInitTarget, checkProjectName, DATABASES, defaultProjectName, initWorkspace, type ComposeDatabase } from '../src/scaffold/init.js'

const EXTENSIONS = ['ts', 'js'] as const

/** What a run without a terminal can do instead of answering. */
const NO_TERMINAL_HINT = 'Pass --yes to take the defaults, or give each answer as a flag (gantry init --help lists them).'

const resultSchema = z.object({
  root: z.string(),
  files: z.array(z.object({ path: z.string(), action: z.enum(['created', 'overwritten', 'updated']) })),
  warnings: z
    .array(z.string())
    .describe(
      "what the workspace would get wrong later (the Dockerfile's image without a working gantry), each with its fix: the lines a terminal shows as Warning:",
    ),
})

export default class Init extends GantryCommand<typeof Init> {
  static override summary = 'Create a Gantry workspace: config, env files, migrations/, seeds/, docker-compose.yml, a Dockerfile and a deploy workflow.'
  static override description =
    'Asks on a terminal for what it needs; every question is also a flag, and --yes takes the defaults. ' +
    'Refuses to replace an existing file unless --force is given, and then writes nothing. ' +
    "With .ts migrations (the default) it adds tsx, which loads them, to the dependencies of the project's package.json (creating one if there is none; an existing one keeps everything else, even with --force); with --migrations-extension js it leaves package.json alone. " +
    'The Dockerfile runs `gantry serve` and installs from the package.json and package-lock.json of the project that depends on gantry; docker-compose.yml runs migrations once, then the server. ' +
    '.github/workflows/deploy.yml runs `gantry migrate latest -e production` as the release step, then `gantry health -e production --wait 120` as the deploy gate (secret DATABASE_URL, variable GANTRY_URL).'
  static override examples = [
    '<%= config.bin %> init',
    '<%= config.bin %> init my-app --yes',
    '<%= config.bin %> init --name shop --database mariadb --no-redis --migrations-extension js',
    '<%= config.bin %> init --yes --force --json',
  ]
  // init makes a workspace rather than acting on one: an environment or a config path would do nothing.
  static override baseFlags: typeof GantryCommand.baseFlags = {
    ...GantryCommand.baseFlags,
    env: { ...GantryCommand.baseFlags.env, hidden: true },
    config: { ...GantryCommand.baseFlags.config, hidden: true },
  }
  static override args = { dir: Args.string({ description: 'Folder of the workspace (created if missing; default: the current folder).' }) }
  static override flags = {
    name: Flags.string({ summary: 'Project name, as npm accepts one (default: the folder name, lower-cased, spaces as -).' }),
    database: enumFlag(DATABASES, 'Database staging and production use, in docker-compose.yml (default: postgres).'),
    redis: Flags.boolean({ summary: 'Give staging and production Redis, in docker-compose.yml (default: yes).', allowNo: true }),
    'migrations-extension': enumFlag(EXTENSIONS, 'File type of new migrations (default: ts, which adds tsx to package.json).'),
    yes: Flags.boolean({ char: 'y', summary: 'Take the default for every question not given as a flag.' }),
    force: Flags.boolean({ summary: 'Replace files that already exist.' }),
  }
  static override resultSchema = resultSchema

  async run(): Promise<z.infer<typeof resultSchema>> {
    const root = resolve(this.args.dir ?? '.')
    const json = this.jsonEnabled()
    const { flags } = this
    // Before any question: answers to a run that cannot write would be wasted.
    checkInitTarget(root, { force: flags.force })
    // On a terminal the defaults are offered in the prompt; elsewhere only --yes takes them.
    const ask = (given: string | undefined, flag: string, message: string, fallback: string, choices?: readonly string[], check?: (value: string) => void) =>
      valueOrAsk(given ?? (flags.yes ? fallback : undefined), {
        flag,
        message,
        choices,
        json,
        default: canPrompt(json) ? fallback : undefined,
        hint: NO_TERMINAL_HINT,
        check,
      })
    const name = await ask(flags.name, 'name', 'Project name', defaultProjectName(basename(root)), undefined, checkProjectName)
    const database = await ask(flags.database, 'database', 'Database for staging and production', 'postgres', DATABASES)
    const redis = flags.redis ?? (flags.yes ? true : await this.askRedis(json))
    const extension = await ask(flags['migrations-extension'], 'migrations-extension', 'File type of migrations', 'ts', EXTENSIONS)

    mkdirSync(root, { recursive: true })
    const files = initWorkspace(
      root,
      { name, database: database as ComposeDatabase, redis, migrationsExtension: extension as 'ts' | 'js' },
      { force: flags.force },
    )
    this.ui.out(`Workspace ${name} in ${root}:`)
    for (const file of files) this.ui.out(`  ${this.ui.color.green(file.action.padEnd(11))} ${file.path}`)
    // Under --json the Ui writes no warnings: the result carries them instead.
    const warnings = imageInstallProblems(root, { typescript: extension === 'ts' })
    for (const warning of warnings) this.ui.warn(warning)
    const cd = relative(process.cwd(), root)
    this.ui.out('')
    this.ui.out('Next steps:')
    if (cd !== '') this.ui.out(`  cd ${cd}`)
    if (files.some((f) => f.path === 'package.json')) this.ui.out('  npm install               # tsx, which loads .ts migrations (now in package.json)')
    this.ui.out('  gantry migrate latest     # create the development database (SQLite, in .gantry/)')
    this.ui.out('  gantry env check          # check the database, Redis and migrations')
    this.ui.out('  gantry serve              # the bundled server on http://127.0.0.1:3000')
    return { root, files, warnings }
  }

  private async askRedis(json: boolean): Promise<boolean> {
    if (!canPrompt(json)) throw new GantryError('MISSING_INPUT', 'Missing --redis or --no-redis: there is no terminal to ask on.', { hint: NO_TERMINAL_HINT })
    return confirm('Redis for staging and production (rate limits and sessions shared by every server)?', { json, fallback: true })
  }
}
