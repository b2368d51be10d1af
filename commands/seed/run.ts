import { Args } from '@oclif/core'
import { z } from 'zod'
import { GantryCommand } from '../../src/cli/base-command.js'
import { sharedFlags } from '../../src/cli/flags.js'
import { noteMigrateTarget } from '../../src/cli/migrate-target.js'
import { confirmDestructive } from '../../src/cli/prompts.js'
import { runSeeds } from '../../src/db/migrator/index.js'

const resultSchema = z.object({ seeds: z.array(z.object({ name: z.string(), durationMs: z.number() })) })

export default class SeedRun extends GantryCommand<typeof SeedRun> {
  static override summary = 'Run the seed files (or only NAME), in name order.'
  static override description =
    "Each seed's `seed(knex)` export runs in its own transaction. In a protected environment it needs --force (or the environment name typed at a prompt)."
  static override examples = ['<%= config.bin %> seed run', '<%= config.bin %> seed run 01_users', '<%= config.bin %> seed run -e production --force']
  static override args = { name: Args.string({ description: 'Run only this seed (with or without extension).' }) }
  static override flags = { force: sharedFlags.force }
  static override resultSchema = resultSchema

  async run(): Promise<z.infer<typeof resultSchema>> {
    const runtime = await this.runtime()
    noteMigrateTarget(this.ui, this.envName, runtime)
    // Connected before asking: a database that is down fails now, not after the operator confirmed.
    const db = await runtime.database()
    await confirmDestructive({
      environment: this.envName,
      isProtected: runtime.environment.protected,
      force: this.flags.force,
      json: this.jsonEnabled(),
      action: this.args.name ? `Running seed ${this.args.name}` : 'Running the seeds',
    })
    const seeds = await this.ui.spin('Seeding', () => runSeeds(db.knex, runtime.workspace.seeds.directory, this.args.name))
    if (seeds.length === 0) this.ui.out(`No seed files in ${runtime.workspace.seeds.directory}.`)
    for (const s of seeds) this.ui.out(`${this.ui.color.green('✔')} ${s.name} ${this.ui.color.dim(`(${s.durationMs} ms)`)}`)
    return { seeds }
  }
}
