/**
 * Forged access tokens: corpora of tokens that must be refused, each for one defect (alg none, algorithm
 * confusion, wrong keys, kids and claims, tampering, truncation …), made against any verifier — the unit
 * tests' own, or a running server (test/reliability/forged-tokens.test.ts). A signer of any header, HMAC
 * and Ed25519 by hand so that jose's own checks cannot stop a forgery from being made.
 */
import { createHmac, generateKeyPairSync, KeyObject, randomBytes, sign } from 'node:crypto'
import { calculateJwkThumbprint, CompactSign, EncryptJWT, exportJWK, exportSPKI, generateKeyPair, importPKCS8, type CryptoKey, type JWK } from 'jose'

export const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

const HMAC_HASH: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }

/** Signs any header and claims: HMAC and Ed25519 by hand, any other algorithm through jose with a CryptoKey. */
export async function signRaw(header: Record<string, unknown>, claims: unknown, key: Uint8Array | CryptoKey): Promise<string> {
  const input = `${b64(header)}.${b64(claims)}`
  if (key instanceof Uint8Array)
    return `${input}.${createHmac(HMAC_HASH[String(header.alg)] ?? 'sha256', key)
      .update(input)
      .digest('base64url')}`
  if (key.algorithm.name === 'Ed25519') return `${input}.${sign(null, Buffer.from(input), KeyObject.from(key)).toString('base64url')}`
  return new CompactSign(Buffer.from(JSON.stringify(claims))).setProtectedHeader(header as { alg: string }).sign(key)
}

/** An Ed25519 key as a verifier knows it: named by its RFC 7638 thumbprint. */
export interface TestKey {
  readonly kid: string
  readonly privateKey: CryptoKey
  readonly publicKey: CryptoKey
  readonly publicJwk: JWK
}

/** A fresh Ed25519 key. */
export async function ed25519(): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
  const publicJwk = await exportJWK(publicKey)
  return { kid: await calculateJwkThumbprint(publicJwk), privateKey, publicKey, publicJwk }
}

/** What a corpus is made against. Read lazily: each forgery is made when it is sent. */
export interface ForgeryContext {
  /** A token the verifier accepts (the base that tampering starts from). */
  readonly good: () => Promise<string>
  /** Claims exactly as the verifier's signer writes them, `overrides` applied (an undefined value drops a claim). */
  readonly claims: (overrides?: Record<string, unknown>) => Record<string, unknown>
  /** The verifier's time, in whole seconds. */
  readonly now: () => number
}

export interface Forgery {
  readonly name: string
  readonly make: () => Promise<string>
  /** Made for a verifier whose HMAC secret is this instead (the HS/RS confusion needs one). */
  readonly secret?: string
}

/** Forgeries against an HS256 verifier whose secret is `secret`. */
export function hs256Forgeries(ctx: ForgeryContext & { readonly secret: Uint8Array }): Forgery[] {
  const { good, claims, now, secret } = ctx
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const publicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string
  const privatePem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
  const header = { alg: 'HS256', typ: 'at+jwt' }
  return [
    { name: 'alg none, no signature', make: async () => `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(claims())}.` },
    {
      name: 'alg none, signature kept',
      make: async () => {
        const parts = (await good()).split('.')
        return `${b64({ alg: 'none', typ: 'at+jwt' })}.${parts[1]}.${parts[2]}`
      },
    },
    { name: 'alg NONE (case variant)', make: async () => `${b64({ alg: 'NONE', typ: 'at+jwt' })}.${b64(claims())}.` },
    {
      name: 'RS256 signed; its public key PEM is the HMAC secret (HS/RS confusion)',
      secret: publicPem,
      make: async () => signRaw({ alg: 'RS256', typ: 'at+jwt' }, claims(), await importPKCS8(privatePem, 'RS256')),
    },
    {
      name: 'RS256 signed, against the usual secret',
      make: async () => signRaw({ alg: 'RS256', typ: 'at+jwt' }, claims(), await importPKCS8(privatePem, 'RS256')),
    },
    {
      name: 'RS256 with the attacker key embedded as jwk',
      make: async () => signRaw({ alg: 'RS256', typ: 'at+jwt', jwk: await exportJWK(rsa.publicKey) }, claims(), await importPKCS8(privatePem, 'RS256')),
    },
    { name: 'HS512 with the right secret', make: async () => signRaw({ alg: 'HS512', typ: 'at+jwt' }, claims(), secret) },
    { name: 'HS384 with the right secret', make: async () => signRaw({ alg: 'HS384', typ: 'at+jwt' }, claims(), secret) },
    { name: 'another secret', make: async () => signRaw(header, claims(), randomBytes(32)) },
    { name: 'wrong issuer', make: async () => signRaw(header, claims({ iss: 'https://evil.test' }), secret) },
    { name: 'no issuer', make: async () => signRaw(header, claims({ iss: undefined }), secret) },
    { name: 'wrong audience', make: async () => signRaw(header, claims({ aud: 'another-service' }), secret) },
    { name: 'no audience', make: async () => signRaw(header, claims({ aud: undefined }), secret) },
    { name: 'typ JWT', make: async () => signRaw({ alg: 'HS256', typ: 'JWT' }, claims(), secret) },
    { name: 'no typ', make: async () => signRaw({ alg: 'HS256' }, claims(), secret) },
    { name: 'expired (past the leeway)', make: async () => signRaw(header, claims({ iat: now() - 1000, exp: now() - 31 }), secret) },
    { name: 'not yet valid (nbf ahead)', make: async () => signRaw(header, claims({ nbf: now() + 120 }), secret) },
    { name: 'issued in the future', make: async () => signRaw(header, claims({ iat: now() + 120, exp: now() + 1020 }), secret) },
    { name: 'no exp', make: async () => signRaw(header, claims({ exp: undefined }), secret) },
    { name: 'no jti', make: async () => signRaw(header, claims({ jti: undefined }), secret) },
    { name: 'no sub', make: async () => signRaw(header, claims({ sub: undefined }), secret) },
    { name: 'exp as a string', make: async () => signRaw(header, claims({ exp: String(now() + 900) }), secret) },
    { name: 'unknown kind', make: async () => signRaw(header, claims({ kind: 'root' }), secret) },
    { name: 'no session epoch', make: async () => signRaw(header, claims({ epoch: undefined }), secret) },
    { name: 'claims not an object', make: async () => signRaw(header, ['sub', '42'], secret) },
    { name: 'unknown critical header', make: async () => signRaw({ ...header, crit: ['exp-policy'], 'exp-policy': 1 }, claims(), secret) },
    { name: 'unencoded payload (b64 false)', make: async () => signRaw({ ...header, b64: false, crit: ['b64'] }, claims(), secret) },
    {
      name: 'tampered payload (sub changed, signature kept)',
      make: async () => {
        const [h, , s] = (await good()).split('.')
        return `${h}.${b64(claims({ sub: '1', kind: 'user', permissions: ['*'] }))}.${s}`
      },
    },
    {
      name: 'tampered signature (one character)',
      make: async () => {
        const token = await good()
        const i = token.length - 5
        return token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1)
      },
    },
    { name: 'signature stripped', make: async () => (await good()).replace(/[^.]+$/, '') },
    { name: 'header swapped for alg none, otherwise intact', make: async () => (await good()).replace(/^[^.]+/, b64({ alg: 'none' })) },
    {
      name: 'a JWE (dir, A256GCM) under the same secret',
      make: async () => new EncryptJWT(claims()).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', typ: 'at+jwt' }).encrypt(secret.subarray(0, 32)),
    }, // A256GCM takes 32 bytes: a longer secret's first 32
    {
      name: 'a JWS in JSON serialisation',
      make: async () => {
        const [h, p, s] = (await good()).split('.')
        return JSON.stringify({ protected: h, payload: p, signature: s })
      },
    },
    { name: 'a huge token (valid signature, 100 kB of claims)', make: async () => signRaw(header, claims({ pad: 'x'.repeat(100_000) }), secret) },
    { name: 'empty string', make: async () => '' },
    { name: 'one segment', make: async () => 'abc' },
    { name: 'three garbage segments', make: async () => 'a.b.c' },
    { name: 'four segments', make: async () => `${await good()}.x` },
    { name: 'non-base64 header', make: async () => `!!!.${b64(claims())}.sig` },
    { name: 'header not JSON', make: async () => `${b64('not json')}.${b64(claims())}.sig` },
    { name: 'Bearer prefix left on', make: async () => `Bearer ${await good()}` },
    { name: 'surrounding whitespace', make: async () => ` ${await good()}\n` },
  ]
}

/** Forgeries against an EdDSA verifier whose key ring holds `current` and `previous` (and not `foreign`). */
export function eddsaForgeries(
  ctx: ForgeryContext & { readonly keys: () => { readonly current: TestKey; readonly previous: TestKey; readonly foreign: TestKey } },
): Forgery[] {
  const { good, claims, now, keys } = ctx
  const header = () => ({ alg: 'EdDSA', typ: 'at+jwt', kid: keys().current.kid })
  const rawPublicKey = () => Buffer.from(String(keys().current.publicJwk.x), 'base64url')
  return [
    { name: 'alg none, no signature', make: async () => `${b64({ alg: 'none', typ: 'at+jwt', kid: keys().current.kid })}.${b64(claims())}.` },
    {
      name: 'alg none, signature kept',
      make: async () => {
        const [, p, sig] = (await good()).split('.')
        return `${b64({ alg: 'none', typ: 'at+jwt', kid: keys().current.kid })}.${p}.${sig}`
      },
    },
    {
      name: 'HS256 with the raw public key bytes as the HMAC secret (HS/EdDSA confusion)',
      make: async () => signRaw({ alg: 'HS256', typ: 'at+jwt', kid: keys().current.kid }, claims(), rawPublicKey()),
    },
    {
      name: 'HS256 with the public JWK text as the HMAC secret',
      make: async () => signRaw({ alg: 'HS256', typ: 'at+jwt', kid: keys().current.kid }, claims(), Buffer.from(JSON.stringify(keys().current.publicJwk))),
    },
    {
      name: 'HS256 with the public key PEM as the HMAC secret',
      make: async () => signRaw({ alg: 'HS256', typ: 'at+jwt', kid: keys().current.kid }, claims(), Buffer.from(await exportSPKI(keys().current.publicKey))),
    },
    { name: 'HS256 with the public key bytes, no kid', make: async () => signRaw({ alg: 'HS256', typ: 'at+jwt' }, claims(), rawPublicKey()) },
    {
      name: 'alg Ed25519 (the fully specified name) with the right key: the pin is EdDSA exactly',
      make: async () => signRaw({ ...header(), alg: 'Ed25519' }, claims(), keys().current.privateKey),
    },
    { name: 'a foreign Ed25519 key presenting a known kid', make: async () => signRaw(header(), claims(), keys().foreign.privateKey) },
    {
      name: 'a foreign Ed25519 key presenting the previous kid',
      make: async () => signRaw({ ...header(), kid: keys().previous.kid }, claims(), keys().foreign.privateKey),
    },
    {
      name: 'a foreign Ed25519 key embedded as jwk, known kid',
      make: async () => signRaw({ ...header(), jwk: keys().foreign.publicJwk }, claims(), keys().foreign.privateKey),
    },
    {
      name: 'a foreign key with its own (unknown) kid',
      make: async () => signRaw({ ...header(), kid: keys().foreign.kid }, claims(), keys().foreign.privateKey),
    },
    { name: 'the right key, unknown kid', make: async () => signRaw({ ...header(), kid: 'no-such-kid' }, claims(), keys().current.privateKey) },
    { name: 'the right key, no kid', make: async () => signRaw({ alg: 'EdDSA', typ: 'at+jwt' }, claims(), keys().current.privateKey) },
    { name: 'the right key, kid not a string', make: async () => signRaw({ ...header(), kid: 42 }, claims(), keys().current.privateKey) },
    { name: 'the right key, a 1000-character kid', make: async () => signRaw({ ...header(), kid: 'k'.repeat(1000) }, claims(), keys().current.privateKey) },
    {
      name: 'the right key, jku pointing elsewhere',
      make: async () => signRaw({ ...header(), kid: 'remote', jku: 'https://evil.test/jwks.json' }, claims(), keys().current.privateKey),
    },
    { name: 'another HS256 secret', make: async () => signRaw({ alg: 'HS256', typ: 'at+jwt' }, claims(), randomBytes(32)) },
    { name: 'ES256 with a known kid', make: async () => signRaw({ ...header(), alg: 'ES256' }, claims(), (await generateKeyPair('ES256')).privateKey) },
    {
      name: 'tampered payload (sub changed, signature kept)',
      make: async () => {
        const [h, , sig] = (await good()).split('.')
        return `${h}.${b64(claims({ sub: '1', permissions: ['*'] }))}.${sig}`
      },
    },
    {
      name: 'tampered header (kid swapped for the previous key)',
      make: async () => (await good()).replace(/^[^.]+/, b64({ ...header(), kid: keys().previous.kid })),
    },
    {
      name: 'tampered signature (one character)',
      make: async () => {
        const t = await good()
        const i = t.length - 5
        return t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1)
      },
    },
    { name: 'signature stripped', make: async () => (await good()).replace(/[^.]+$/, '') },
    { name: 'wrong issuer', make: async () => signRaw(header(), claims({ iss: 'https://evil.test' }), keys().current.privateKey) },
    { name: 'wrong audience', make: async () => signRaw(header(), claims({ aud: 'another-service' }), keys().current.privateKey) },
    { name: 'typ JWT', make: async () => signRaw({ ...header(), typ: 'JWT' }, claims(), keys().current.privateKey) },
    { name: 'no typ', make: async () => signRaw({ alg: 'EdDSA', kid: keys().current.kid }, claims(), keys().current.privateKey) },
    { name: 'expired (past the leeway)', make: async () => signRaw(header(), claims({ iat: now() - 1000, exp: now() - 31 }), keys().current.privateKey) },
    { name: 'issued in the future', make: async () => signRaw(header(), claims({ iat: now() + 120, exp: now() + 1020 }), keys().current.privateKey) },
    {
      name: 'a JWE (dir, A256GCM) under the raw public key bytes',
      make: async () =>
        new EncryptJWT(claims()).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', typ: 'at+jwt', kid: keys().current.kid }).encrypt(rawPublicKey()),
    },
  ]
}
