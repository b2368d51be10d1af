/** Command specs shared by benchmarks: the built gantry binary and the Node floor. */
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { spawnSync } from 'node:child_process'
import { benchEnv } from './measure.mjs'

/** `node -e 0`: the cost of starting Node and doing nothing, the floor every CLI start-up is compared to. */
export const nodeFloor = { label: 'node -e 0', args: ['-e', '0'] }

/** The built CLI (bin/run.js of the package at `root`) with these arguments. */
export function gantry(root, args, options = {}) {
  return { label: `gantry ${args.join(' ')}`, args: [join(root, 'bin', 'run.js'), ...args], env: benchEnv(), ...options }
}

/**
 * What oclif itself prints for `--version` in this package, loading @oclif/core the ordinary way (whatever
 * bin/run.js does first), so a shortcut in bin/run.js can be checked byte for byte.
 */
export function oclifVersionLine(root) {
  const dir = pathToFileURL(join(root, 'bin', 'run.js')).href
  const script = `import { execute } from '@oclif/core'; await execute({ dir: ${JSON.stringify(dir)}, args: ['--version'] })`
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, env: benchEnv(), encoding: 'utf8' })
  if (run.status !== 0) throw new Error(`oclif --version failed: ${run.stderr}`)
  return run.stdout
}
