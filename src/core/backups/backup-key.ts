/**
 * GANTRY_BACKUP_KEY: the key backups are encrypted under, 32 random bytes in base64 (the output of
 * `openssl rand -base64 32`), read like GANTRY_ENCRYPTION_KEY (src/core/encryption/data-keys.ts) but a key of
 * its own, so a backup never depends on the keys it may restore. Its id is a short fingerprint, safe to
 * store in a backup's header and to show: a wrong key is then told apart from a damaged file.
 */
import { createHash } from 'node:crypto'
import { GantryError } from '../errors.js'

const KEY_BYTES = 32
const KEY_ID_HEX = 16
/** Keeps the id from equalling any other SHA-256 of the key (the data keys' ids among them). */
const KEY_ID_DOMAIN = 'gantry-backup-key:'
const GENERATE_HINT = 'Set GANTRY_BACKUP_KEY to the output of `openssl rand -base64 32`, and keep a copy where the backups are not.'

/** A backup key and its id (16 hex characters of a SHA-256 of it: 64 bits, nothing of the key an attacker can use). */
export interface BackupKey {
  readonly key: Buffer
  readonly id: string
}

/** The key the variable's value holds. CONFIG_INVALID when it is empty, not base64 or not 32 bytes; the message never quotes it. */
export function parseBackupKey(text: string): BackupKey {
  const encoded = text.trim()
  if (encoded === '') throw new GantryError('CONFIG_INVALID', 'GANTRY_BACKUP_KEY is empty.', { hint: GENERATE_HINT })
  // Buffer's base64 decoder skips characters outside the alphabet; refuse them instead of guessing.
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) throw new GantryError('CONFIG_INVALID', 'GANTRY_BACKUP_KEY is not base64.', { hint: GENERATE_HINT })
  const key = Buffer.from(encoded, 'base64')
  if (key.byteLength !== KEY_BYTES) {
    throw new GantryError('CONFIG_INVALID', `GANTRY_BACKUP_KEY decodes to ${key.byteLength} bytes, not ${KEY_BYTES}.`, { hint: GENERATE_HINT })
  }
  return { key, id: backupKeyId(key) }
}

/** The id of a key's bytes. */
export function backupKeyId(key: Buffer): string {
  return createHash('sha256').update(KEY_ID_DOMAIN).update(key).digest('hex').slice(0, KEY_ID_HEX)
}
