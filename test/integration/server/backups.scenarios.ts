/**
 * The backups list through the admin API (backups.list): on a fresh test server backups.directory does not
 * exist yet, which lists none. A real backup's listing is tested in backups.test.ts (SQLite: no dump tool needed).
 */
import { resolve } from 'node:path'
import { expect } from 'chai'
import type { Scenario } from '../../helpers/admin-fixture.js'

export const backupScenarios: Scenario[] = [
  {
    name: 'lists no backups while backups.directory does not exist yet, naming the folder',
    method: 'get',
    path: '/backups',
    who: 'admin',
    status: 200,
    check: (res, f) => {
      const { environment, workspace } = f.server.runtime
      expect(res.body).to.deep.equal({ directory: resolve(workspace.root, environment.backups.directory), data: [] })
    },
  },
]
