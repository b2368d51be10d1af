/** `gantry --help` against the Node floor: start-up plus oclif's help (manifest, topics, plugins). */
import { gantry, nodeFloor } from '../lib/commands.mjs'

export default {
  name: 'startup-help',
  description: 'Cold start of the built CLI printing its root help, as a ratio to `node -e 0` (report only: issue 2 sets no target).',
  target: null,
  pairs: { full: 30, quick: 12 },
  setup({ root }) {
    const subject = gantry(root, ['--help'], {
      check(stdout) {
        if (!stdout.includes('USAGE') || !stdout.includes('TOPICS')) throw new Error(`gantry --help printed no USAGE/TOPICS:\n${stdout}`)
      },
    })
    return { subject, reference: nodeFloor }
  },
}
