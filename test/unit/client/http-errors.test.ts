import { expect } from 'chai'
import { networkFailure, responseError, unreachableError } from '../../../src/client/http-errors.js'

const at = { method: 'GET', url: 'http://127.0.0.1:9/api/v1/admin/users' }
const problem = (body: Record<string, unknown>) => JSON.stringify({ type: 'x', title: body.code, status: 404, ...body })

describe('client error mapping', () => {
  it('a known code becomes that GantryError, with the server message and hint, and details as a local run has them', () => {
    const err = responseError(404, 'Not Found', problem({ code: 'USER_NOT_FOUND', detail: 'No user with email a@x.', requestId: 'r-1' }), {}, at)
    expect(err.code).to.equal('USER_NOT_FOUND')
    expect(err.exit).to.equal(1)
    expect(err.message).to.equal('No user with email a@x.')
    expect(err.hint).to.equal('Run `gantry users list` to see the users.')
    // No transport facts: a remote command's --json error is the local one's.
    expect(err.details).to.equal(undefined)
  })

  it('a server failure (INTERNAL) is SERVER_ERROR, exit 3, carrying the request id that finds it in the log', () => {
    const err = responseError(500, 'Internal Server Error', problem({ code: 'INTERNAL', detail: 'Something failed.', requestId: 'r-9' }), {}, at)
    expect([err.code, err.exit]).to.deep.equal(['SERVER_ERROR', 3])
    expect(err.details).to.include({ requestId: 'r-9', status: 500, serverCode: 'INTERNAL' })
  })

  it("keeps the server's hint, its field errors and the permission a 403 names", () => {
    const body = problem({ code: 'FORBIDDEN', detail: 'Not allowed.', hint: 'Ask an admin.', required: 'users:write' })
    const err = responseError(403, 'Forbidden', body, { 'x-request-id': 'r-2' }, at)
    expect(err.hint).to.equal('Ask an admin.')
    expect(err.details).to.deep.equal({ required: 'users:write' })
    const invalid = responseError(400, '', problem({ code: 'INVALID_INPUT', detail: 'Bad.', errors: [{ path: 'email', message: 'x' }] }), {}, at)
    // The server's `errors` are the zod issues a local run reports as `issues`.
    expect(invalid.details?.issues).to.deep.equal([{ path: 'email', message: 'x' }])
  })

  it('a server INTERNAL is a SERVER_ERROR here (exit 3), keeping its request id', () => {
    const err = responseError(
      500,
      'Internal Server Error',
      problem({
        code: 'INTERNAL',
        detail: 'Something went wrong on the server.',
        requestId: 'r-3',
        hint: 'Quote request id r-3 to the operator; the server log has the cause.',
      }),
      {},
      at,
    )
    expect(err.code).to.equal('SERVER_ERROR')
    expect(err.exit).to.equal(3)
    expect(err.hint).to.include('r-3')
    expect(err.details?.requestId).to.equal('r-3')
  })

  it('an unknown code or a body that is no problem is mapped by status, in one line', () => {
    const cases: [number, string, string][] = [
      [409, problem({ code: 'WIDGET_TAKEN', detail: 'Taken.' }), 'INVALID_INPUT'],
      [401, '', 'UNAUTHENTICATED'],
      [403, 'nope', 'FORBIDDEN'],
      [404, '<html>\n<body>Not here</body>\n</html>', 'ROUTE_NOT_FOUND'],
      [429, '', 'RATE_LIMITED'],
      [502, '<html>\nBad Gateway\n</html>', 'SERVER_ERROR'],
      [599, '', 'SERVER_ERROR'],
    ]
    for (const [status, body, code] of cases) {
      const err = responseError(status, 'Text', body, {}, at)
      expect(err.code, String(status)).to.equal(code)
      expect(err.message).to.not.include('\n')
      expect(err.message).to.include(at.url)
    }
    expect(responseError(409, 'Conflict', problem({ code: 'WIDGET_TAKEN', detail: 'Taken.' }), {}, at).message).to.equal(
      'GET http://127.0.0.1:9/api/v1/admin/users was answered 409 Conflict (WIDGET_TAKEN): Taken.',
    )
  })

  it('names the reason a request got no answer, and which are worth another try', () => {
    const of = (code: string, message = 'x') => networkFailure(Object.assign(new Error(message), { code }), false, 10_000)
    expect(of('ECONNREFUSED')).to.include({ reason: 'connection refused', retryable: true })
    expect(of('ENOTFOUND')).to.include({ reason: 'host not found', retryable: true })
    expect(of('ECONNRESET')).to.include({ reason: 'connection reset', retryable: true })
    expect(of('ECONNABORTED')).to.include({ reason: 'no answer within 10 s', retryable: true })
    expect(networkFailure(new Error('canceled'), true, 250)).to.include({ reason: 'no answer within 250 ms' })
    expect(of('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate')).to.include({ reason: 'TLS: self-signed certificate', retryable: false, tls: true })
    expect(of('ERR_BAD_RESPONSE', 'socket hang up')).to.include({ reason: 'connection closed before an answer' })
  })

  it('SERVER_UNREACHABLE names the URL and the reason in one line, with a cause free of headers', () => {
    const err = unreachableError(of('ECONNREFUSED'), at, 4)
    expect(err.code).to.equal('SERVER_UNREACHABLE')
    expect(err.exit).to.equal(3)
    expect(err.message).to.equal('Cannot reach http://127.0.0.1:9/api/v1/admin/users (GET): connection refused (4 attempts).')
    expect(String(err.cause)).to.equal('Error: ECONNREFUSED: connection refused')
  })
})

function of(code: string) {
  return networkFailure(Object.assign(new Error('x'), { code }), false, 10_000)
}
