import { expect } from 'chai'
import pino from 'pino'
import { prettyLogSink } from '../../../src/cli/pretty-log.js'

/** pino writing through the pretty sink, as `gantry serve` at a terminal does; what reached the screen. */
function prettyLogger(level: 0 | 1 = 0): { logger: pino.Logger; screen: () => string } {
  let screen = ''
  const sink = prettyLogSink({ write: (text: string) => (screen += text), isTTY: true }, level === 1 ? { FORCE_COLOR: '1' } : { NO_COLOR: '1' })
  return { logger: pino({ base: { env: 'development' } }, sink), screen: () => screen }
}

const TIME = /^\d\d:\d\d:\d\d /

describe('cli: pretty log (serve at a terminal)', () => {
  it('the listening line is a banner: version, environment, URL, database, Redis', () => {
    const { logger, screen } = prettyLogger()
    logger.info(
      { url: 'http://127.0.0.1:3000', environment: 'development', version: '0.1.0', pid: 1, database: 'sqlite:./.gantry/development.sqlite3', redis: null },
      'listening',
    )
    logger.info(
      { url: 'http://0.0.0.0:8080', environment: 'staging', version: '0.1.0', database: 'postgres://app:***@db:5432/app', redis: 'redis://cache:6379' },
      'listening',
    )
    const [dev, staging] = screen().trimEnd().split('\n')
    expect(dev).to.match(TIME)
    expect(dev).to.include(
      'INFO  listening  Gantry 0.1.0 · development · http://127.0.0.1:3000 · sqlite:./.gantry/development.sqlite3 · Redis: none (rate limits in memory)',
    )
    expect(staging).to.include('Gantry 0.1.0 · staging · http://0.0.0.0:8080 · postgres://app:***@db:5432/app · Redis: redis://cache:6379')
  })

  it('a request is one line: method, path, status, time, request id', () => {
    const { logger, screen } = prettyLogger()
    logger.info({ req: { id: 'r-1', method: 'GET', path: '/api/v1/users' }, res: { status: 200 }, responseTime: 3.6 }, 'request completed')
    logger.warn({ req: { id: 'r-2', method: 'POST', path: '/api/v1/auth/login' }, res: { status: 429 }, responseTime: 1 }, 'request completed')
    const lines = screen().trimEnd().split('\n')
    expect(lines[0]).to.match(/^\d\d:\d\d:\d\d INFO {2}GET \/api\/v1\/users 200 4 ms {2}r-1$/)
    expect(lines[1]).to.match(/^\d\d:\d\d:\d\d WARN {2}POST \/api\/v1\/auth\/login 429 1 ms {2}r-2$/)
  })

  it('other lines: the message and their own fields; an error with its stack frames below', () => {
    const { logger, screen } = prettyLogger()
    logger.warn({ failing: ['migrations: 2 pending'] }, 'started but not ready')
    logger.error({ err: new Error('boom'), requestId: 'r-3' }, 'request failed')
    const lines = screen().trimEnd().split('\n')
    expect(lines[0]).to.match(/^\d\d:\d\d:\d\d WARN {2}started but not ready {2}failing=\["migrations: 2 pending"\]$/)
    expect(lines[1]).to.match(/^\d\d:\d\d:\d\d ERROR request failed {2}requestId=r-3: Error: boom$/)
    expect(lines[2]).to.match(/^ {4}at /)
  })

  it('nothing a client sends reaches the terminal raw: control characters in every field are escaped', () => {
    const attacks = ['\x1b[2J', '\x1b]0;owned\x07', '\r', '\n', '\u202e', '\x9b31m', '\x00']
    for (const attack of attacks) {
      const { logger, screen } = prettyLogger(1)
      logger.info({ req: { id: `id${attack}`, method: `GET${attack}`, path: `/p${attack}` }, res: { status: 404 }, responseTime: 1 }, 'request completed')
      logger.warn({ path: `/x${attack}` }, `msg${attack}`)
      logger.error({ err: Object.assign(new Error(`bad${attack}`), { stack: `Error: bad\n    at f${attack} (x.js:1:1)` }) }, 'request failed')
      // Our colours are the only escape sequences: \x1b[3Xm / \x1b[39m / \x1b[1m… / \x1b[2m…; nothing else.
      // eslint-disable-next-line no-control-regex -- the escape sequences of our own colours, taken out
      const withoutOurColours = screen().replace(/\x1b\[(?:3[0-9]|39|1|22|2)m/g, '')
      // eslint-disable-next-line no-control-regex -- what must not be left: any control character but the line break
      expect(withoutOurColours, JSON.stringify(attack)).not.to.match(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/)
      expect(screen().split('\n').filter(Boolean), 'one line per line written, the stack frame apart').to.have.length(4)
    }
  })

  it('a line that is not JSON is shown as it came, escaped', () => {
    let screen = ''
    prettyLogSink({ write: (text: string) => (screen += text) }, {}).write('not json \x1b[31m\n')
    expect(screen).to.equal('not json \\x1B[31m\n')
  })
})
