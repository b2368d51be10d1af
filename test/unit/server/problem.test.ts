/**
 * The members of a problem answer that do not depend on a running server: its `type` (one per code, a row
 * of the problem types page the server serves), `title` (the catalog's) and `instance` (the request id as a URN).
 */
import { expect } from 'chai'
import { errorCodes, GantryError } from '../../../src/core/errors.js'
import { PROBLEM_DOCS_PATH, problemInstance, problemTypeUri, toProblem } from '../../../src/server/problem.js'
import { problemsPage } from '../../../src/server/problems-page.js'

describe('problem details', () => {
  it('each code has its own type: its row of the page at /api/problems, a relative reference, its anchor on the page', () => {
    const types = errorCodes.map(problemTypeUri)
    expect(new Set(types).size).to.equal(errorCodes.length)
    const page = problemsPage('0.0.0')
    for (const [i, type] of types.entries()) {
      const resolved = new URL(type, 'http://127.0.0.1:3000/api/v1/users')
      expect(resolved.pathname, type).to.equal(PROBLEM_DOCS_PATH)
      expect(resolved.hash, type).to.match(/^#error-[a-z0-9]+(-[a-z0-9]+)*$/)
      expect(page, type).to.include(`<tr id="${resolved.hash.slice(1)}"><td><code>${errorCodes[i]}</code></td>`)
    }
    expect(problemTypeUri('RATE_LIMITED')).to.equal('/api/problems#error-rate-limited')
  })

  it('instance: urn:uuid: for a UUID request id, urn:gantry:request: for another, the path without one', () => {
    const uuid = '0b7e2c4e-6a51-4d0e-9f7a-2d8c1b3a4e5f'
    expect(problemInstance(uuid, '/api/v1/x')).to.equal(`urn:uuid:${uuid}`)
    expect(problemInstance('probe-1', '/api/v1/x')).to.equal('urn:gantry:request:probe-1')
    expect(problemInstance('trace:a.b-1', '/api/v1/x')).to.equal('urn:gantry:request:trace:a.b-1')
    expect(problemInstance(undefined, '/api/v1/x')).to.equal('/api/v1/x')
  })

  it('a problem carries the title of its code, and the 500 it becomes has the title of INTERNAL', () => {
    const refused = toProblem(new GantryError('RATE_LIMITED', 'Slow down.'), 'r-1', '/api/v1/auth/login')
    expect(refused).to.include({
      type: problemTypeUri('RATE_LIMITED'),
      title: 'Too many requests',
      status: 429,
      detail: 'Slow down.',
      instance: 'urn:gantry:request:r-1',
      code: 'RATE_LIMITED',
      requestId: 'r-1',
    })
    const hidden = toProblem(new Error('SQLITE_ERROR: no such table'), 'r-2', '/api/v1/admin/users')
    expect(hidden).to.include({ type: problemTypeUri('INTERNAL'), title: 'Internal error', code: 'INTERNAL', instance: 'urn:gantry:request:r-2' })
  })
})
