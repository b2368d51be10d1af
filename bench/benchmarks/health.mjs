/**
 * `gantry health --json` against a local `gantry serve` (the SQLite workspace of lib/server-workspace.mjs,
 * fully migrated, so the server is ready) as a ratio to `node -e 0`: what a deploy gate's probe costs a CLI
 * run — start-up, the HTTP client loaded (axios, lazily: only health, login, logout and --remote load it),
 * one round trip and the table or document (issue 6 target: <= 5x).
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { gantry, nodeFloor } from '../lib/commands.mjs'
import { freePort, startServer } from '../lib/server-load.mjs'
import { gantryEnv, gantryWorkspace } from '../lib/server-workspace.mjs'

export default {
  name: 'health',
  description: '`gantry health --json` against a local, ready server as a ratio to `node -e 0` (issue 6 target: <= 5x).',
  target: { ratio: 5, comparison: '<=' },
  pairs: { full: 30, quick: 10 },
  async setup({ root }) {
    const ws = await gantryWorkspace(root, 'sqlite')
    const logs = join(root, 'bench', '.work', 'server-logs')
    mkdirSync(logs, { recursive: true })
    const port = await freePort()
    const server = await startServer({
      key: 'gantry-health-sqlite',
      label: 'gantry serve (sqlite)',
      args: [join(root, 'bin', 'run.js'), 'serve', '--port', String(port), '--host', '127.0.0.1'],
      cwd: ws.dir,
      env: gantryEnv(),
      port,
      stderrFile: join(logs, 'gantry-health-sqlite.stderr.log'),
      probe: '/api/health/ready',
    })
    const subject = gantry(root, ['health', '--json', '--url', server.url], {
      // The port changes every run: not in the label the README shows.
      label: 'gantry health --json',
      cwd: ws.dir,
      env: gantryEnv(),
      check(stdout) {
        const health = JSON.parse(stdout)
        if (health.ready !== true || health.url !== server.url) throw new Error(`gantry health printed ready ${health.ready} for ${health.url}, expected ready for ${server.url}`)
      },
    })
    return { subject, reference: nodeFloor, cleanup: () => server.stop() }
  },
}
