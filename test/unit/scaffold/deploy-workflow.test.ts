import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { parse as parseYaml } from 'yaml'
import type { GantryError } from '../../../src/core/errors.js'
import { DEPLOY_WORKFLOW, initWorkspace, planWorkspace, type InitAnswers } from '../../../src/scaffold/init.js'

interface Step {
  name?: string
  uses?: string
  run?: string
  with?: Record<string, unknown>
}
interface Workflow {
  name: string
  on: Record<string, unknown>
  concurrency: { group: string; 'cancel-in-progress': boolean }
  jobs: Record<string, { environment?: string; env: Record<string, string>; steps: Step[] }>
}

describe('scaffold: CI workflow', () => {
  const answers: InitAnswers = { name: 'my-shop', database: 'postgres', redis: true, migrationsExtension: 'ts' }
  const content = (): string => {
    const file = planWorkspace(answers).find((f) => f.path === DEPLOY_WORKFLOW)
    if (!file) throw new Error(`${DEPLOY_WORKFLOW} not planned`)
    return file.content
  }

  it('is planned as .github/workflows/deploy.yml, replaced only with --force like the other files', () => {
    const file = planWorkspace(answers).find((f) => f.path === DEPLOY_WORKFLOW)
    expect(file?.strategy ?? 'replace').to.equal('replace')
    const root = mkdtempSync(join(tmpdir(), 'gantry-workflow-'))
    try {
      mkdirSync(join(root, '.github', 'workflows'), { recursive: true })
      writeFileSync(join(root, DEPLOY_WORKFLOW), 'mine')
      try {
        initWorkspace(root, answers, { force: false })
        expect.fail('should refuse')
      } catch (err) {
        expect((err as GantryError).code).to.equal('FILE_EXISTS')
        expect((err as GantryError).message).to.include('deploy.yml')
      }
      expect(readFileSync(join(root, DEPLOY_WORKFLOW), 'utf8')).to.equal('mine')
      const written = initWorkspace(root, answers, { force: true })
      expect(written.find((f) => f.path === DEPLOY_WORKFLOW)?.action).to.equal('overwritten')
      expect(readFileSync(join(root, DEPLOY_WORKFLOW), 'utf8')).to.equal(content())
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('installs, migrates production as a release step, then gates on health --wait 120, in that order', () => {
    const workflow = parseYaml(content()) as Workflow
    expect(Object.keys(workflow.on)).to.include('push')
    expect(workflow.concurrency['cancel-in-progress'], 'a newer push never cancels a migration half-way').to.equal(false)
    const job = workflow.jobs.deploy
    if (!job) throw new Error('no deploy job')
    expect(job.environment).to.equal('production')
    const runs = job.steps.map((s) => s.run?.trim()).filter((r): r is string => r !== undefined)
    expect(runs[0]).to.match(/^npm ci\b/)
    expect(runs[0]).to.include('node_modules/.bin" >> "$GITHUB_PATH"')
    expect(runs.slice(1)).to.deep.equal(['gantry migrate latest -e production --json', 'gantry health -e production --wait 120'])
    expect(job.steps.some((s) => s.uses?.startsWith('actions/checkout@'))).to.equal(true)
    expect(job.steps.find((s) => s.uses?.startsWith('actions/setup-node@'))?.with?.['node-version']).to.equal(20)
  })

  it('takes the database URL from a secret and the server URL from a variable; no secret and no placeholder in the file', () => {
    const text = content()
    const env = (parseYaml(text) as Workflow).jobs.deploy?.env ?? {}
    expect(env.DATABASE_URL).to.equal('${{ secrets.DATABASE_URL }}')
    expect(env.GANTRY_URL, 'production server.publicUrl is ${GANTRY_URL:-}').to.equal('${{ vars.GANTRY_URL }}')
    expect(env.GANTRY_ENV).to.equal('production')
    expect(text)
      .to.include('# my-shop: the release')
      .and.not.match(/\{\{\s*name\s*\}\}/)
    expect(text).not.to.match(/postgres:\/\/|mysql:\/\/|GANTRY_AUTH_SECRET:/)
  })
})
