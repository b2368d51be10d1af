/**
 * `gantry health --json` against a local `gantry serve` (the SQLite workspace of lib/server-workspace.mjs,
 * fully migrated, so the server is ready) as a ratio to `node -e 0`: what a deploy gate's probe costs a CLI
 * run — start-up, the HTTP client loaded (axios, lazily: only health, login, logout and --remote load it),
 * one round trip and the table or document (issue 6 target: <= 5x).
 */
import { gantry, nodeFloor } from '../lib/commands.mjs'
import { gantryEnv, gantryServe } from '../lib/server-workspace.mjs'

export default {
  name: 'health',
  description: '`gantry health --json` against a local, ready server as a ratio to `node -e 0` (issue 6 target: <= 5x).',
  target: { ratio: 5, comparison: '<=' },
  whenMissed:
    'The command loads oclif, its own chunk and axios (about 80 ms of it), the only command besides the remote ones that does; on busier cores the start-up share grows. ' +
    'What would give a margin: a lighter HTTP client for one GET (each command is its own bundle entry since issue 20, so the rest is what migrate-status pays).',
  pairs: { full: 30, quick: 10 },
  async setup({ root }) {
    const { server, ws } = await gantryServe(root, { key: 'gantry-health-sqlite', probe: '/api/health/ready' })
    const subject = gantry(root, ['health', '--json', '--url', server.url], {
      // The port changes every run: not in the label docs/benchmarks.md shows.
      label: 'gantry health --json',
      cwd: ws.dir,
      env: gantryEnv(),
      check(stdout) {
        const health = JSON.parse(stdout)
        if (health.ready !== true || health.url !== server.url)
          throw new Error(`gantry health printed ready ${health.ready} for ${health.url}, expected ready for ${server.url}`)
      },
    })
    return { subject, reference: nodeFloor, cleanup: () => server.stop() }
  },
}
