import { Args } from '@oclif/core'
import { z } from 'zod'
import { GantryCommand } from '../../src/cli/base-command.js'
import { runSeeds } from '../../src/db/migrator/index.js'

const resultSchema = z.object({ seeds: z.array(z.object({ name: z.string(), durationMs: z.number() })) })

export default class SeedRun extends GantryCommand<typeof SeedRun> {
  static override summary = 'Run the seed files (or only NAME), in name order.'
  static override description = "Each seed's `seed(knex)` export runs in its own transaction."
  static override examples = ['<%= config.bin %> seed run', '<%= config.bin %> seed run 01_users']
  static override args = { name: Args.string({ description: 'Run only this seed (with or without extension).' }) }
  static override resultSchema = resultSchema

  async run(): Promise<z.infer<typeof resultSchema>> {
    const runtime = await this.runtime()
    const db = await runtime.database()
    const seeds = await this.ui.spin('Seeding', () => runSeeds(db.knex, runtime.workspace.seeds.directory, this.args.name))
    if (seeds.length === 0) this.ui.out(`No seed files in ${runtime.workspace.seeds.directory}.`)
    for (const s of seeds) this.ui.out(`${this.ui.color.green('✔')} ${s.name} ${this.ui.color.dim(`(${s.durationMs} ms)`)}`)
    return { seeds }
  }
}
