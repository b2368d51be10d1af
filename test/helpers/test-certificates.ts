/**
 * Certificates made with openssl for TLS tests: a CA and a server certificate it signs for the names given
 * (DNS names and IP addresses), and a second CA that signed nothing of the server's (a client that trusts
 * only it must refuse the server). EC keys: quick to make, and every server here accepts them.
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from './cli.js'

export interface TestCertificates {
  readonly dir: string
  /** The CA that signed the server's certificate. */
  readonly caFile: string
  /** A CA that did not. */
  readonly otherCaFile: string
  readonly certFile: string
  readonly keyFile: string
}

const openssl = (dir: string, args: readonly string[]): void => {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']

function makeCa(dir: string, name: string): void {
  openssl(dir, ['req', '-x509', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=Gantry test ${name}`])
}

/** A fresh CA and server certificate for `names` (e.g. ['DNS:localhost', 'IP:127.0.0.1']), and another CA. */
export function makeTestCertificates(names: readonly string[]): TestCertificates {
  const dir = tempDir('gantry-tls-')
  makeCa(dir, 'ca')
  makeCa(dir, 'other-ca')
  openssl(dir, ['req', ...EC_KEY, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=gantry-test-database'])
  writeFileSync(join(dir, 'server.ext'), `subjectAltName=${names.join(',')}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`)
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    'server.ext',
  ])
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    otherCaFile: join(dir, 'other-ca.pem'),
    certFile: join(dir, 'server.pem'),
    keyFile: join(dir, 'server.key'),
  }
}
