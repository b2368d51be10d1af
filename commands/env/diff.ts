import { Args } from '@oclif/core'
import { z } from 'zod'
import { GantryCommand } from '../../src/cli/base-command.js'
import { diffEnvironments } from '../../src/config/diff.js'

const side = z.object({ source: z.string(), value: z.string().nullable() })
const resultSchema = z.object({
  a: z.string(),
  b: z.string(),
  same: z.boolean(),
  settings: z.array(z.object({ path: z.string(), kind: z.enum(['only-in-a', 'only-in-b', 'differs']), a: z.unknown().optional(), b: z.unknown().optional() })),
  variables: z.array(z.object({ name: z.string(), kind: z.enum(['missing-in-a', 'missing-in-b', 'differs']), secret: z.boolean(), a: side, b: side })),
})

export default class EnvDiff extends GantryCommand<typeof EnvDiff> {
  static override summary = 'Compare two environments: settings and variables that differ or are missing.'
  static override description =
    'Settings are compared path by path (built-in defaults included, before interpolation); variables are those either ' +
    'environment uses or sets in .env.<name>. Values of secret-like variables are never printed. A report: exits 0 ' +
    'whatever it finds — use it to catch a variable missing in production before the deploy.'
  static override examples = ['<%= config.bin %> env diff staging production', '<%= config.bin %> env diff development qa --json']
  static override args = {
    a: Args.string({ description: 'First environment.', required: true }),
    b: Args.string({ description: 'Second environment.', required: true }),
  }
  static override resultSchema = resultSchema

  async run(): Promise<z.infer<typeof resultSchema>> {
    const { a, b } = this.args
    const diff = diffEnvironments(this.workspace(), a, b)
    const same = diff.settings.length === 0 && diff.variables.length === 0
    const show = (value: unknown): string => (value === undefined ? '-' : typeof value === 'string' ? value : JSON.stringify(value))
    const { yellow, red } = this.ui.color
    // The difference in words that name the environments; what differs stands out on a colour terminal.
    const words: Record<string, string> = {
      'only-in-a': `only in ${a}`,
      'only-in-b': `only in ${b}`,
      'missing-in-a': `missing in ${a}`,
      'missing-in-b': `missing in ${b}`,
    }
    const named = (kind: string): string => (kind === 'differs' ? yellow('differs') : red(words[kind] ?? kind))
    if (same) this.ui.out(`${a} and ${b} have the same settings and variables.`)
    if (diff.settings.length > 0) {
      this.ui.out(this.ui.color.bold('Settings'))
      this.ui.table(
        diff.settings.map((d) => ({ ...d, kind: named(d.kind), a: show(d.a), b: show(d.b) })),
        [
          ['path', 'SETTING'],
          ['kind', 'DIFFERENCE'],
          ['a', a],
          ['b', b],
        ],
      )
    }
    if (diff.variables.length > 0) {
      if (diff.settings.length > 0) this.ui.out('')
      this.ui.out(this.ui.color.bold('Variables'))
      // Unset (or empty, which counts as unset) reads `(unset)`: a masked `***` would look like a value.
      const cell = (s: { source: string; value: string | null }, secret: boolean, missing: boolean): string =>
        missing ? red('(unset)') : `${secret ? '***' : s.value} (${s.source})`
      this.ui.table(
        diff.variables.map((d) => ({
          name: d.name,
          kind: named(d.kind),
          a: cell(d.a, d.secret, d.kind === 'missing-in-a'),
          b: cell(d.b, d.secret, d.kind === 'missing-in-b'),
        })),
        [
          ['name', 'VARIABLE'],
          ['kind', 'DIFFERENCE'],
          ['a', a],
          ['b', b],
        ],
      )
    }
    return { a, b, same, ...diff }
  }
}
