/**
 * The backup file: one file per backup, the manifest in its header and the dump after it, gzip-compressed
 * and, under GANTRY_BACKUP_KEY, encrypted in authenticated chunks. Nothing else in Gantry knows the bytes:
 * the orchestration hands a dump file in and gets one out, and a file that does not verify to its last byte
 * is refused before any of it can be restored.
 *
 * The layout, all integers big-endian:
 *
 *   magic       8 bytes   `GANTRYBK`
 *   format      1 byte    0x01
 *   length      uint32    of the header JSON
 *   header      JSON      UTF-8: { manifest, compression: 'gzip', chunkBytes, encryption }
 *   digest      32 bytes  SHA-256 of everything before it (magic to header)
 *   records     until a last one, then the end of the file:
 *     flag      1 byte    0 = more follow, 1 = the last
 *     length    uint32    of the body
 *     body      bytes     a chunk of the gzip stream of the dump; every record but the last holds exactly
 *                         chunkBytes of it, the last 0 to chunkBytes (encrypted: each + a 16-byte tag)
 *
 * `encryption` is null, or { algorithm: 'AES-256-GCM', kdf: 'HKDF-SHA256', keyId, salt }. Each file gets a
 * key of its own, HKDF-SHA256(backup key, salt: 32 random bytes, info: FILE_KEY_INFO), so nonces never
 * repeat across files however many a key writes. Chunk i is sealed with nonce 0x00000000 || uint64 i and
 * associated data digest || uint64 i || flag: the header (manifest, key id, salt) is authenticated by every
 * chunk, and a chunk cannot be altered, moved, dropped, taken from another file, or made the last one; a
 * file cut at a record boundary has no last record and is refused, as are bytes after the last one.
 * Unencrypted, the header digest catches a damaged header and the manifest's SHA-256 and size of the dump,
 * checked after gunzip, a damaged or reordered body (integrity against accidents, not against an attacker:
 * that takes the key).
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, type Hash } from 'node:crypto'
import { constants, createReadStream } from 'node:fs'
import { link, lstat, open, rename, unlink, type FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { createGunzip, createGzip } from 'node:zlib'
import { z } from 'zod'
import { GantryError } from '../errors.js'
import { randomSecretBytes } from '../random.js'
import { backupManifestSchema, type BackupManifest } from './backup.schema.js'
import type { BackupKey } from './backup-key.js'

const MAGIC = Buffer.from('GANTRYBK', 'latin1')
const FORMAT = 1
/** Magic, format byte and header length. */
const LEAD_BYTES = MAGIC.length + 1 + 4
const DIGEST_BYTES = 32
/** A header is a manifest: kilobytes. The bound keeps a damaged length from asking for gigabytes. */
const MAX_HEADER_BYTES = 16 * 1024 * 1024
const DEFAULT_CHUNK_BYTES = 64 * 1024
const MAX_CHUNK_BYTES = 16 * 1024 * 1024
const RECORD_HEAD_BYTES = 5
const FLAG_MORE = 0
const FLAG_LAST = 1
const TAG_BYTES = 16
const SALT_BYTES = 32
const FILE_KEY_INFO = 'gantry backup file 1: AES-256-GCM chunk key'
const READ_BLOCK_BYTES = 256 * 1024

const base64Of = (bytes: number) =>
  z
    .string()
    .regex(/^[A-Za-z0-9+/]*={0,2}$/)
    .refine((text) => Buffer.from(text, 'base64').byteLength === bytes && Buffer.from(text, 'base64').toString('base64') === text, {
      message: `${bytes} bytes in base64`,
    })

const encryptionSchema = z
  .object({
    algorithm: z.literal('AES-256-GCM'),
    kdf: z.literal('HKDF-SHA256'),
    keyId: z.string().regex(/^[0-9a-f]{16}$/),
    salt: base64Of(SALT_BYTES),
  })
  .strict()

const headerSchema = z
  .object({
    manifest: backupManifestSchema,
    compression: z.literal('gzip'),
    chunkBytes: z.number().int().min(1).max(MAX_CHUNK_BYTES),
    encryption: encryptionSchema.nullable(),
  })
  .strict()
type BackupHeader = z.infer<typeof headerSchema>

export interface WriteBackupOptions {
  /** The backup file to create; it must not exist. Written as `output.partial`, renamed when complete. */
  readonly output: string
  /** Its manifest; content.sha256 and content.bytes must be those of `content` (hashContentFile). */
  readonly manifest: BackupManifest
  /** The path of the raw dump. */
  readonly content: string
  /** GANTRY_BACKUP_KEY (parseBackupKey), to encrypt; none writes the file unencrypted. */
  readonly key?: BackupKey | undefined
  /** Plaintext bytes per chunk (64 KiB). */
  readonly chunkBytes?: number
  /** gzip's level, 1 (fastest) to 9; zlib's default (6) when unset. A dump that is compressed already (pg_dump's custom format) gains little from more than 1. */
  readonly gzipLevel?: number
  readonly signal?: AbortSignal
}

/** What `backups list` shows of a file without opening it: the manifest, unauthenticated until the file is verified. */
export interface BackupHeaderInfo {
  readonly manifest: BackupManifest
  readonly encrypted: boolean
  /** The id of the key it is encrypted under (parseBackupKey's id), null when it is not. */
  readonly keyId: string | null
}

/** The SHA-256 (hex) and size of a dump, for its manifest. */
export async function hashContentFile(path: string, signal?: AbortSignal): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256')
  let bytes = 0
  for await (const chunk of createReadStream(path, { signal }) as AsyncIterable<Buffer>) {
    hash.update(chunk)
    bytes += chunk.byteLength
  }
  return { sha256: hash.digest('hex'), bytes }
}

/**
 * Writes the backup file of a dump. The file is created 0600, never through a symbolic link, and appears
 * under its name only once complete and synced: a failure or a crash leaves at most `output.partial`, which
 * no reader takes for a backup. FILE_EXISTS when `output` (or its `.partial`) exists, a symbolic link
 * included; INTERNAL when the dump is not the one the manifest describes, or the file system fails (its
 * error the cause: ENOENT for a missing folder, ENOSPC); an abort rejects with the AbortError.
 */
export async function writeBackupFile(options: WriteBackupOptions): Promise<{ bytes: number }> {
  const { output, content, key, signal } = options
  const manifest = backupManifestSchema.safeParse(options.manifest)
  if (!manifest.success) throw new GantryError('INTERNAL', `The manifest of ${output} is not valid: ${z.prettifyError(manifest.error)}`)
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1 || chunkBytes > MAX_CHUNK_BYTES) {
    throw new RangeError(`chunkBytes must be an integer from 1 to ${MAX_CHUNK_BYTES}`)
  }
  await refuseExisting(output).catch((err: unknown) => {
    throw failure(err, `Writing the backup ${output} failed`)
  })
  const partial = `${output}.partial`
  const handle = await createExclusive(partial).catch((err: unknown) => {
    throw failure(err, `Writing the backup ${output} failed`)
  })
  let closed = false
  try {
    const salt = key ? randomSecretBytes(SALT_BYTES) : undefined
    const header: BackupHeader = {
      manifest: manifest.data,
      compression: 'gzip',
      chunkBytes,
      encryption: key && salt ? { algorithm: 'AES-256-GCM', kdf: 'HKDF-SHA256', keyId: key.id, salt: salt.toString('base64') } : null,
    }
    const prefix = encodeHeader(header)
    const digest = prefix.subarray(prefix.byteLength - DIGEST_BYTES)
    const fileKey = key && salt ? deriveFileKey(key.key, salt) : undefined
    await handle.write(prefix)
    let bytes = prefix.byteLength
    const seen = { hash: createHash('sha256'), bytes: 0 }
    await pipeline(
      createReadStream(content),
      (source: AsyncIterable<Buffer>) => tap(source, seen),
      createGzip(options.gzipLevel === undefined ? {} : { level: options.gzipLevel }),
      (source: AsyncIterable<Buffer>) => sealRecords(source, chunkBytes, (plain, index, flag) => (fileKey ? seal(fileKey, digest, plain, index, flag) : plain)),
      async (source: AsyncIterable<Buffer>) => {
        for await (const record of source) {
          await handle.write(record)
          bytes += record.byteLength
        }
      },
      { signal },
    )
    const sha256 = seen.hash.digest('hex')
    if (sha256 !== manifest.data.content.sha256 || seen.bytes !== manifest.data.content.bytes) {
      throw new GantryError(
        'INTERNAL',
        `The dump ${content} is not the one its manifest describes (${seen.bytes} bytes, SHA-256 ${sha256}; the manifest says ${manifest.data.content.bytes} bytes, ${manifest.data.content.sha256}).`,
      )
    }
    await handle.sync()
    closed = true
    await handle.close()
    await publish(partial, output)
    await syncDirectory(dirname(output))
    return { bytes }
  } catch (err) {
    if (!closed) await handle.close().catch(() => undefined)
    await unlink(partial).catch(() => undefined)
    throw failure(err, `Writing the backup ${output} failed`)
  }
}

/** The header of a backup file, read without its key and without reading the dump. BACKUP_INVALID when it is not one. */
export async function readBackupHeader(path: string): Promise<BackupHeaderInfo> {
  const handle = await openBackup(path)
  try {
    const { header } = await readHeader(new FileReader(handle), path)
    return { manifest: header.manifest, encrypted: header.encryption !== null, keyId: header.encryption?.keyId ?? null }
  } finally {
    await handle.close()
  }
}

/**
 * Verifies a backup file to its last byte and writes the dump it holds to `to` (a new file, 0600); returns
 * its manifest. BACKUP_KEY_MISSING when the file is encrypted and no key is given, BACKUP_KEY_WRONG when the
 * key is not the one it names, BACKUP_INVALID when anything does not verify (header, a chunk's tag, a
 * missing last chunk, bytes after it, the dump's size or SHA-256). On any failure `to` is removed: what is
 * left is a dump that matched its manifest or nothing.
 */
export async function extractBackupContent(path: string, key: BackupKey | undefined, to: string, signal?: AbortSignal): Promise<BackupManifest> {
  return readContent(path, key, signal, async (manifest, drain) => {
    const out = await createExclusive(to).catch((err: unknown) => {
      throw failure(err, `Creating ${to} failed`)
    })
    let closed = false
    try {
      await drain(async (source) => {
        for await (const chunk of source) await out.write(chunk)
      })
      await out.sync()
      closed = true
      await out.close()
      return manifest
    } catch (err) {
      if (!closed) await out.close().catch(() => undefined)
      await unlink(to).catch(() => undefined)
      throw failure(err, `Extracting ${path} to ${to} failed`)
    }
  })
}

/** extractBackupContent without writing the dump anywhere: the same checks, the same errors. */
export async function verifyBackupFile(path: string, key: BackupKey | undefined, signal?: AbortSignal): Promise<BackupManifest> {
  return readContent(path, key, signal, async (manifest, drain) => {
    await drain(async (source) => {
      for await (const chunk of source) void chunk
    })
    return manifest
  })
}

type Sink = (source: AsyncIterable<Buffer>) => Promise<void>

/** Opens and checks the header and key, then hands `use` a drain that streams the verified dump into a sink. */
async function readContent(
  path: string,
  key: BackupKey | undefined,
  signal: AbortSignal | undefined,
  use: (manifest: BackupManifest, drain: (sink: Sink) => Promise<void>) => Promise<BackupManifest>,
): Promise<BackupManifest> {
  const handle = await openBackup(path)
  try {
    const reader = new FileReader(handle)
    const { header, digest } = await readHeader(reader, path)
    const fileKey = fileKeyFor(header, key, path)
    const { manifest } = header
    return await use(manifest, async (sink) => {
      const seen = { hash: createHash('sha256'), bytes: 0, limit: manifest.content.bytes, path }
      try {
        await pipeline(openRecords(reader, header, digest, fileKey, path), createGunzip(), (source: AsyncIterable<Buffer>) => tap(source, seen), sink, {
          signal,
        })
      } catch (err) {
        if (isZlibError(err)) throw invalid(path, 'damaged', `Its compressed dump is damaged (${(err as Error).message}).`, err)
        throw failure(err, `Reading ${path} failed`)
      }
      if (seen.bytes !== manifest.content.bytes) {
        throw invalid(path, 'checksum', `It holds a dump of ${seen.bytes} bytes; its manifest says ${manifest.content.bytes}.`)
      }
      if (seen.hash.digest('hex') !== manifest.content.sha256) throw invalid(path, 'checksum', "Its dump's SHA-256 is not the one its manifest names.")
    })
  } finally {
    await handle.close()
  }
}

/** The header, its digest checked and its JSON validated. */
async function readHeader(reader: FileReader, path: string): Promise<{ header: BackupHeader; digest: Buffer }> {
  const magic = await reader.take(MAGIC.length)
  if (!magic || !magic.equals(MAGIC)) throw invalid(path, 'not-a-backup', 'It is not a Gantry backup (it does not start with GANTRYBK).')
  const rest = await reader.take(LEAD_BYTES - MAGIC.length)
  if (!rest) throw invalid(path, 'truncated', 'It ends inside its header: the file was cut short.')
  const lead = Buffer.concat([magic, rest])
  const format = lead[MAGIC.length]!
  if (format !== FORMAT) throw invalid(path, 'unknown-format', `It is in backup format ${format}; this version of Gantry reads format ${FORMAT}.`)
  const length = lead.readUInt32BE(MAGIC.length + 1)
  if (length === 0 || length > MAX_HEADER_BYTES) throw invalid(path, 'damaged', `Its header length (${length} bytes) is not plausible: the file is damaged.`)
  const tail = await reader.take(length + DIGEST_BYTES)
  if (!tail) throw invalid(path, 'truncated', 'It ends inside its header: the file was cut short.')
  const json = tail.subarray(0, length)
  const digest = tail.subarray(length)
  if (!createHash('sha256').update(lead).update(json).digest().equals(digest)) {
    throw invalid(path, 'damaged', 'Its header does not match its digest: the file is damaged or was altered.')
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json))
  } catch (cause) {
    throw invalid(path, 'damaged', 'Its header is not JSON.', cause)
  }
  const header = headerSchema.safeParse(parsed)
  if (!header.success) throw invalid(path, 'damaged', `Its header is not a backup header: ${z.prettifyError(header.error)}`)
  return { header: header.data, digest: Buffer.from(digest) }
}

/** The file's own key under the given backup key, or undefined when it is not encrypted. */
function fileKeyFor(header: BackupHeader, key: BackupKey | undefined, path: string): Buffer | undefined {
  const { encryption } = header
  if (!encryption) return undefined
  if (!key) {
    throw new GantryError('BACKUP_KEY_MISSING', `${path} is encrypted (key ${encryption.keyId}) and no backup key is set.`, {
      details: { file: path, keyId: encryption.keyId },
    })
  }
  if (key.id !== encryption.keyId) {
    throw new GantryError('BACKUP_KEY_WRONG', `${path} is encrypted with key ${encryption.keyId}; the backup key set is ${key.id}.`, {
      details: { file: path, keyId: encryption.keyId, givenKeyId: key.id },
    })
  }
  return deriveFileKey(key.key, Buffer.from(encryption.salt, 'base64'))
}

/** The chunks' plaintexts, each checked: flags, lengths, tags, the last record, nothing after it. */
async function* openRecords(reader: FileReader, header: BackupHeader, digest: Buffer, fileKey: Buffer | undefined, path: string): AsyncGenerator<Buffer> {
  const full = header.chunkBytes + (fileKey ? TAG_BYTES : 0)
  for (let index = 0; ; index++) {
    const head = await reader.take(RECORD_HEAD_BYTES)
    if (!head) throw invalid(path, 'truncated', `It ends after ${index} chunks, before its last one: the file was cut short.`)
    const flag = head[0]!
    const length = head.readUInt32BE(1)
    if (flag !== FLAG_MORE && flag !== FLAG_LAST) throw invalid(path, 'damaged', `Chunk ${index} has an unknown flag (${flag}): the file is damaged.`)
    if (flag === FLAG_MORE ? length !== full : length > full || length < full - header.chunkBytes) {
      throw invalid(path, 'damaged', `Chunk ${index} has a length (${length} bytes) no chunk can have: the file is damaged.`)
    }
    const body = await reader.take(length)
    if (!body) throw invalid(path, 'truncated', `It ends inside chunk ${index}: the file was cut short.`)
    yield fileKey ? unseal(fileKey, digest, body, index, flag, path) : body
    if (flag === FLAG_LAST) break
  }
  if (!(await reader.atEnd())) throw invalid(path, 'trailing-bytes', 'It has bytes after its last chunk: the file is damaged or was altered.')
}

/** Counts and hashes what passes; past `limit` (the manifest's size) it stops a dump that grows without end. */
async function* tap(source: AsyncIterable<Buffer>, seen: { hash: Hash; bytes: number; limit?: number; path?: string }): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    seen.hash.update(chunk)
    seen.bytes += chunk.byteLength
    if (seen.limit !== undefined && seen.bytes > seen.limit) {
      throw invalid(seen.path ?? '', 'checksum', `It holds a dump larger than its manifest's ${seen.limit} bytes.`)
    }
    yield chunk
  }
}

/** Cuts the gzip stream into records: full chunks while more follows, then the last one. */
async function* sealRecords(
  source: AsyncIterable<Buffer>,
  chunkBytes: number,
  body: (plain: Buffer, index: number, flag: number) => Buffer,
): AsyncGenerator<Buffer> {
  let pending: Buffer[] = []
  let pendingBytes = 0
  let index = 0
  const record = (plain: Buffer, flag: number): Buffer => {
    const sealed = body(plain, index++, flag)
    const head = Buffer.alloc(RECORD_HEAD_BYTES)
    head[0] = flag
    head.writeUInt32BE(sealed.byteLength, 1)
    return Buffer.concat([head, sealed])
  }
  for await (const piece of source) {
    pending.push(piece)
    pendingBytes += piece.byteLength
    // Hold a full chunk back until more follows it: only then is it known not to be the last.
    if (pendingBytes <= chunkBytes) continue
    let all = Buffer.concat(pending)
    while (all.byteLength > chunkBytes) {
      yield record(all.subarray(0, chunkBytes), FLAG_MORE)
      all = all.subarray(chunkBytes)
    }
    pending = [all]
    pendingBytes = all.byteLength
  }
  yield record(Buffer.concat(pending), FLAG_LAST)
}

function encodeHeader(header: BackupHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8')
  if (json.byteLength > MAX_HEADER_BYTES) throw new GantryError('INTERNAL', `A backup manifest of ${json.byteLength} bytes is larger than a header may be.`)
  const lead = Buffer.alloc(LEAD_BYTES)
  MAGIC.copy(lead)
  lead[MAGIC.length] = FORMAT
  lead.writeUInt32BE(json.byteLength, MAGIC.length + 1)
  const digest = createHash('sha256').update(lead).update(json).digest()
  return Buffer.concat([lead, json, digest])
}

function deriveFileKey(key: Buffer, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', key, salt, FILE_KEY_INFO, 32))
}

function nonceOf(index: number): Buffer {
  const nonce = Buffer.alloc(12)
  nonce.writeBigUInt64BE(BigInt(index), 4)
  return nonce
}

function aadOf(digest: Buffer, index: number, flag: number): Buffer {
  const aad = Buffer.alloc(DIGEST_BYTES + 9)
  digest.copy(aad)
  aad.writeBigUInt64BE(BigInt(index), DIGEST_BYTES)
  aad[DIGEST_BYTES + 8] = flag
  return aad
}

function seal(fileKey: Buffer, digest: Buffer, plain: Buffer, index: number, flag: number): Buffer {
  const cipher = createCipheriv('aes-256-gcm', fileKey, nonceOf(index), { authTagLength: TAG_BYTES })
  cipher.setAAD(aadOf(digest, index, flag))
  return Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()])
}

function unseal(fileKey: Buffer, digest: Buffer, body: Buffer, index: number, flag: number, path: string): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', fileKey, nonceOf(index), { authTagLength: TAG_BYTES })
  decipher.setAAD(aadOf(digest, index, flag))
  decipher.setAuthTag(body.subarray(body.byteLength - TAG_BYTES))
  try {
    return Buffer.concat([decipher.update(body.subarray(0, body.byteLength - TAG_BYTES)), decipher.final()])
  } catch (cause) {
    throw invalid(path, 'damaged', `Chunk ${index} does not authenticate: the file is damaged or was altered.`, cause)
  }
}

/** Reads a file front to back in blocks, handing out exact byte counts. */
class FileReader {
  private buffered: Buffer = Buffer.alloc(0)
  private position = 0
  private ended = false

  constructor(private readonly handle: FileHandle) {}

  /** The next `n` bytes, or null when the file ends first. */
  async take(n: number): Promise<Buffer | null> {
    while (this.buffered.byteLength < n && !this.ended) await this.fill(n - this.buffered.byteLength)
    if (this.buffered.byteLength < n) return null
    const out = this.buffered.subarray(0, n)
    this.buffered = this.buffered.subarray(n)
    return out
  }

  async atEnd(): Promise<boolean> {
    if (this.buffered.byteLength === 0 && !this.ended) await this.fill(1)
    return this.buffered.byteLength === 0
  }

  private async fill(wanted: number): Promise<void> {
    const block = Buffer.alloc(Math.max(wanted, READ_BLOCK_BYTES))
    const { bytesRead } = await this.handle.read(block, 0, block.byteLength, this.position)
    if (bytesRead === 0) {
      this.ended = true
      return
    }
    this.position += bytesRead
    const data = block.subarray(0, bytesRead)
    this.buffered = this.buffered.byteLength === 0 ? data : Buffer.concat([this.buffered, data])
  }
}

async function openBackup(path: string): Promise<FileHandle> {
  try {
    const handle = await open(path, 'r')
    if (!(await handle.stat()).isFile()) {
      await handle.close()
      throw invalid(path, 'not-a-backup', 'It is not a file.')
    }
    return handle
  } catch (err) {
    if (err instanceof GantryError) throw err
    throw invalid(path, 'unreadable', `It cannot be read: ${(err as Error).message}`, err, 'Check the path of the backup file and that it can be read.')
  }
}

/** A new file, 0600, never through a symbolic link (O_EXCL refuses one, O_NOFOLLOW says so). */
async function createExclusive(path: string): Promise<FileHandle> {
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants
  try {
    return await open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new GantryError('FILE_EXISTS', `${path} exists already.`, { details: { file: path } })
    }
    throw err
  }
}

async function refuseExisting(output: string): Promise<void> {
  const existing = await lstat(output).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined
    throw err
  })
  if (existing) {
    const what = existing.isSymbolicLink() ? ' as a symbolic link: a backup is never written through one' : ''
    throw new GantryError('FILE_EXISTS', `${output} exists already${what}.`, { details: { file: output } })
  }
}

/** Gives the complete file its name without ever replacing one there: link() refuses an existing name, rename() would not. */
async function publish(partial: string, output: string): Promise<void> {
  try {
    await link(partial, output)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') throw new GantryError('FILE_EXISTS', `${output} exists already.`, { details: { file: output } })
    // A file system without hard links: check, then rename (a narrow window, where link() has none).
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err
    await refuseExisting(output)
    await rename(partial, output)
    return
  }
  await unlink(partial)
}

/** Makes the new name durable; best effort (not every platform can open a folder). */
async function syncDirectory(path: string): Promise<void> {
  const dir = await open(path, 'r').catch(() => undefined)
  if (!dir) return
  await dir.sync().catch(() => undefined)
  await dir.close().catch(() => undefined)
}

/** A catalog error or an abort as it is; any other (a missing folder, a full disk) as INTERNAL, the file system's error its cause. */
function failure(err: unknown, what: string): unknown {
  if (err instanceof GantryError || (err instanceof Error && err.name === 'AbortError')) return err
  return new GantryError('INTERNAL', `${what}: ${(err as Error).message}`, { cause: err })
}

function isZlibError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && code.startsWith('Z_')
}

type InvalidReason = 'not-a-backup' | 'unknown-format' | 'unreadable' | 'damaged' | 'truncated' | 'trailing-bytes' | 'checksum'

function invalid(path: string, reason: InvalidReason, message: string, cause?: unknown, hint?: string): GantryError {
  return new GantryError('BACKUP_INVALID', `${path}: ${message}`, { details: { file: path, reason }, cause, hint })
}
