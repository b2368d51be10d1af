/**
 * Secrets at rest (webhook signing secrets and the like) sealed under a data-encryption key of their own,
 * GANTRY_ENCRYPTION_KEY, not the auth secret: so rotating one never strands the other. The variable holds
 * comma-separated keys; the first seals, every one opens, so a rotation is "new key first, re-encrypt, drop
 * the old one". A sealed value is a compact JWE (`dir`, A256GCM) whose protected header names its key and
 * the row it belongs to; that header is the cipher's associated data, so neither can be changed unseen.
 */
import { createHash, createSecretKey, type KeyObject } from 'node:crypto'
import { compactDecrypt, CompactEncrypt, decodeProtectedHeader } from 'jose'
import { GantryError } from '../errors.js'

const KEY_BYTES = 32
const KEY_ID_LENGTH = 12
/** Keeps a key id from equalling any other SHA-256 of the key that some other code might compute. */
const KEY_ID_DOMAIN = 'gantry data key id\0'
const BINDING_PARAM = 'gantry:for'
const SEAL_HEADER = { alg: 'dir', enc: 'A256GCM' } as const
const OPEN_ALGORITHMS = { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] }
const GENERATE_HINT = 'Set each comma-separated key of GANTRY_ENCRYPTION_KEY to the output of `openssl rand -base64 32`.'

/** One key of the ring. A KeyObject, not bytes, so that logging a ring shows no key material. */
export interface DataKey {
  /** A short id derived from the key, safe to store and show. */
  readonly id: string
  readonly key: KeyObject
}

/** The keys of GANTRY_ENCRYPTION_KEY: the one that seals, and every one that opens (it included). */
export interface DataKeyRing {
  readonly current: DataKey
  readonly byId: ReadonlyMap<string, DataKey>
}

/** The ring of the variable's value; undefined when it is unset or blank, CONFIG_INVALID when a key is malformed. */
export function parseDataKeys(value: string | undefined): DataKeyRing | undefined {
  if (value === undefined || value.trim() === '') return undefined
  const pieces = value.split(',').map((piece) => piece.trim())
  const keys = pieces.map((piece, i) => dataKey(piece, `Key ${i + 1} of ${pieces.length} in GANTRY_ENCRYPTION_KEY`))
  return { current: keys[0]!, byId: new Map(keys.map((k) => [k.id, k])) }
}

/** `plaintext` sealed under the ring's current key, for the row `binding` names (e.g. `webhook-endpoint:ep_1:secret`). */
export async function seal(ring: DataKeyRing, plaintext: string, binding: string): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(plaintext))
    .setProtectedHeader({ ...SEAL_HEADER, kid: ring.current.id, [BINDING_PARAM]: binding })
    .encrypt(ring.current.key)
}

/** The plaintext of a value sealed for `binding`: ENCRYPTION_KEY_UNKNOWN when its key is not in the ring, INTERNAL when it does not open. */
export async function open(ring: DataKeyRing, sealed: string, binding: string): Promise<string> {
  const kid = sealedKeyId(sealed)
  const key = ring.byId.get(kid)
  if (!key) throw new GantryError('ENCRYPTION_KEY_UNKNOWN', `The value of ${binding} was sealed with key ${kid}, which GANTRY_ENCRYPTION_KEY does not hold.`)
  const opened = await compactDecrypt(sealed, key.key, OPEN_ALGORITHMS).catch((cause: unknown) => {
    throw new GantryError('INTERNAL', `The value of ${binding} does not open under key ${kid}: it was altered.`, { cause })
  })
  if (opened.protectedHeader[BINDING_PARAM] !== binding) {
    throw new GantryError('INTERNAL', `The value stored for ${binding} was sealed for another row.`)
  }
  return new TextDecoder().decode(opened.plaintext)
}

/** The id of the key a value was sealed with, read without opening it (which rows a rotation still has to re-encrypt). */
export function sealedKeyId(sealed: string): string {
  let kid: unknown
  try {
    kid = decodeProtectedHeader(sealed).kid
  } catch (cause) {
    throw new GantryError('INTERNAL', 'A stored value is not a sealed value (a compact JWE).', { cause })
  }
  if (typeof kid !== 'string' || kid === '') throw new GantryError('INTERNAL', 'A stored sealed value names no key (kid).')
  return kid
}

/** One key of the variable. The messages say what is wrong with it and never quote it. */
function dataKey(encoded: string, which: string): DataKey {
  if (encoded === '') throw new GantryError('CONFIG_INVALID', `${which} is empty.`, { hint: GENERATE_HINT })
  // Buffer's base64 decoder skips characters outside the alphabet; refuse them instead of guessing.
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) throw new GantryError('CONFIG_INVALID', `${which} is not base64.`, { hint: GENERATE_HINT })
  const bytes = Buffer.from(encoded, 'base64')
  if (bytes.byteLength !== KEY_BYTES) {
    throw new GantryError('CONFIG_INVALID', `${which} decodes to ${bytes.byteLength} bytes, not ${KEY_BYTES}.`, { hint: GENERATE_HINT })
  }
  const id = createHash('sha256').update(KEY_ID_DOMAIN).update(bytes).digest('base64url').slice(0, KEY_ID_LENGTH)
  return { id, key: createSecretKey(bytes) }
}
