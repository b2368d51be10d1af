/** `gantry --help` against the Node floor: start-up plus oclif's help (manifest, topics), no command loaded. */
import { gantry, nodeFloor } from '../lib/commands.mjs'

export default {
  name: 'startup-help',
  description: 'Cold start of the built CLI printing its root help, as a ratio to `node -e 0` (issue 20 target: <= 2.0x).',
  target: { ratio: 2.0, comparison: '<=' },
  whenMissed:
    'Root help loads no command (oclif reads their flags and summaries from the manifest), so what it costs over Node is @oclif/core itself: ' +
    'compiling its chunk (~700 KB with the packages its config loader needs: semver, minimatch, picomatch, tinyglobby, ejs, cli-spinners), ' +
    'evaluating its index (it loads config, help, parser, errors and ux at once, ~50 ms profiled), loading the config and the manifest, and ' +
    'rendering the help. What would reach 2.0x: a compile cache for the chunk (Node 22 has module.enableCompileCache; Node 20 none for ESM), ' +
    'or answering root help without @oclif/core as --version is (a second help renderer to keep identical to oclif\u2019s).',
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
