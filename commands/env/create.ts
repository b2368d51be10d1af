import { Args, Flags } from '@oclif/core'
import { z } from 'zod'
import { GantryCommand } from '../../src/cli/base-command.js'
import { createEnvironment } from '../../src/scaffold/environment.js'

const resultSchema = z.object({
  name: z.string(),
  from: z.string().nullable(),
  protected: z.boolean(),
  variablesFrom: z.string().nullable(),
  variables: z.array(z.object({ name: z.string(), value: z.enum(['generated', 'copied', 'empty', 'cleared']) })),
  files: z.array(z.object({ path: z.string(), action: z.enum(['created', 'overwritten', 'updated']) })),
})

export default class EnvCreate extends GantryCommand<typeof EnvCreate> {
  static override summary = 'Add an environment to gantry.config.json and write its .env.<name> file.'
  static override description =
    'The new environment copies the settings of --from (else the defaults of a custom environment) and is protected when ' +
    '--from is (--protected / --no-protected decide otherwise). .env.<name> (mode 0600) gets the keys of .env.<from> ' +
    '(else .env.example): secret-like values (SECRET, PASSWORD, TOKEN, KEY, PASS) are freshly generated, service URLs ' +
    '(a database or Redis of the source) left empty to fill in, the others copied.'
  static override examples = [
    '<%= config.bin %> env create qa',
    '<%= config.bin %> env create preprod --from production --protected',
    '<%= config.bin %> env create review-42 --from staging --json',
  ]
  static override args = { name: Args.string({ description: 'Name of the new environment (lower-case letters, digits and -).', required: true }) }
  static override flags = {
    from: Flags.string({ summary: 'Environment whose settings and variables to copy.' }),
    protected: Flags.boolean({ allowNo: true, summary: 'Protected: destructive commands need --force (default: as --from).' }),
    force: Flags.boolean({ summary: 'Replace an existing .env.<name> file.' }),
  }
  static override resultSchema = resultSchema

  async run(): Promise<z.infer<typeof resultSchema>> {
    const created = createEnvironment(this.workspace(), {
      name: this.args.name,
      from: this.flags.from,
      protected: this.flags.protected,
      force: this.flags.force ?? false,
    })
    const origin = created.from ? ` from ${created.from}` : ''
    this.ui.out(`Environment ${created.name} created${origin}${created.protected ? ' (protected)' : ''}.`)
    for (const file of created.files) this.ui.out(`  ${this.ui.color.green(file.action.padEnd(9))} ${file.path}`)
    const empty = created.variables.filter((v) => v.value === 'empty' || v.value === 'cleared').map((v) => v.name)
    if (empty.length > 0) this.ui.out(`Fill in ${empty.join(', ')} in .env.${created.name}, then run \`gantry env check -e ${created.name}\`.`)
    else this.ui.out(`Next: \`gantry env check -e ${created.name}\`.`)
    return created
  }
}
