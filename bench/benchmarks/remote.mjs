/**
 * `gantry users list --json --remote` against a local `gantry serve` vs the same command in local mode, in
 * the same workspace over the same SQLite database of 1000 users (lib/server-workspace.mjs): what going
 * through the API costs a CLI run (the HTTP client loaded, one authenticated round trip) instead of opening
 * the database and the service layer in the CLI process (target: median ratio <= 1.5). The remote run
 * authenticates with GANTRY_TOKEN (the workspace's admin token) and a config directory of its own.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { gantry } from '../lib/commands.mjs'
import { gantryEnv, gantryServe } from '../lib/server-workspace.mjs'

export default {
  name: 'remote',
  description:
    '`gantry users list --json --remote` against a local server vs `gantry users list --json` on the same SQLite database (1000 users; target: median ratio <= 1.5).',
  target: { ratio: 1.5, comparison: '<=' },
  pairs: { full: 20, quick: 10 },
  async setup({ root }) {
    const { server, ws } = await gantryServe(root, { key: 'gantry-remote-sqlite' })
    const config = join(root, 'bench', '.work', 'remote-config')
    mkdirSync(config, { recursive: true })
    const check = (stdout) => {
      const page = JSON.parse(stdout)
      if (page.data?.length !== 50) throw new Error(`users list printed ${page.data?.length} users, expected a page of 50`)
    }
    const subject = gantry(root, ['users', 'list', '--json', '--remote', '--url', server.url], {
      // The port changes every run: not in the label docs/benchmarks.md shows.
      label: 'gantry users list --json --remote',
      cwd: ws.dir,
      env: { ...gantryEnv(), GANTRY_TOKEN: ws.token, XDG_CONFIG_HOME: config },
      check,
    })
    const reference = gantry(root, ['users', 'list', '--json'], { cwd: ws.dir, env: gantryEnv(), check })
    return { subject, reference, cleanup: () => server.stop() }
  },
}
