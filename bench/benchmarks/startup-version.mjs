/** `gantry --version` against the Node floor: what a CLI start-up costs before any command runs. */
import { gantry, nodeFloor, oclifVersionLine } from '../lib/commands.mjs'

export default {
  name: 'startup-version',
  description:
    "Cold start of the built CLI printing its version, as a ratio to `node -e 0` (issue 20 target: <= 1.2x). bin/run.js answers --version without loading @oclif/core; its line is checked against oclif's own, byte for byte.",
  target: { ratio: 1.2, comparison: '<=' },
  whenMissed:
    'bin/run.js answers --version from package.json alone (node:fs, node:os), so a miss is noise: both sides are one Node start-up, ' +
    'and a process start on 2 cores shared with other work moves by more than the 20% margin.',
  pairs: { full: 40, quick: 15 },
  setup({ root }) {
    const expected = oclifVersionLine(root)
    const subject = gantry(root, ['--version'], {
      check(stdout) {
        if (stdout !== expected) throw new Error(`gantry --version printed ${JSON.stringify(stdout)}, oclif prints ${JSON.stringify(expected)}`)
      },
    })
    return { subject, reference: nodeFloor }
  },
}
