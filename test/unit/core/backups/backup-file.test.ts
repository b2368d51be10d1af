import { createHash, randomBytes } from 'node:crypto'
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { expect } from 'chai'
import type { BackupManifest } from '../../../../src/core/backups/backup.schema.js'
import { extractBackupContent, hashContentFile, readBackupHeader, verifyBackupFile, writeBackupFile } from '../../../../src/core/backups/backup-file.js'
import { parseBackupKey, type BackupKey } from '../../../../src/core/backups/backup-key.js'
import { rejection, type Rejection } from '../../../helpers/rejection.js'

/** What `openssl rand -base64 32` prints, as GANTRY_BACKUP_KEY holds it. */
const newKey = (): BackupKey => parseBackupKey(randomBytes(32).toString('base64'))
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex')

function manifestOf(content: Buffer): BackupManifest {
  return {
    format: 1,
    environment: 'production',
    dialect: 'postgres',
    serverVersion: 'PostgreSQL 16.2 on x86_64-pc-linux-gnu',
    gantryVersion: '0.23.0',
    startedAt: '2026-12-10T03:00:00.000Z',
    finishedAt: '2026-12-10T03:00:04.250Z',
    trigger: 'schedule',
    tables: 'all',
    rowCounts: { gantry_users: 100000, widgets: 7 },
    migrations: { gantry: [{ name: '0001_init', checksum: 'c0ffee' }], app: [{ name: '20261201_widgets', checksum: null }] },
    content: { format: 'pg-custom', tool: 'pg_dump (PostgreSQL) 16.2', sha256: sha256(content), bytes: content.byteLength },
  }
}

/**
 * The byte layout as the format's comment describes it, read independently of the module: where the header
 * JSON and its digest are, and each record's flag and extent.
 */
function layoutOf(bytes: Buffer) {
  const jsonLength = bytes.readUInt32BE(9)
  const jsonStart = 13
  const digestStart = jsonStart + jsonLength
  const headerEnd = digestStart + 32
  const records: { start: number; bodyStart: number; end: number; flag: number }[] = []
  for (let at = headerEnd; at < bytes.byteLength;) {
    const flag = bytes[at]!
    const end = at + 5 + bytes.readUInt32BE(at + 1)
    records.push({ start: at, bodyStart: at + 5, end, flag })
    at = end
    if (flag === 1) break
  }
  return { jsonStart, digestStart, headerEnd, records, header: JSON.parse(bytes.subarray(jsonStart, digestStart).toString('utf8')) as Record<string, unknown> }
}

/** The file with its header JSON replaced by `change(header)` and a digest that matches it again, as a forger would. */
function reheadered(bytes: Buffer, change: (header: { manifest: BackupManifest } & Record<string, unknown>) => void): Buffer {
  const { header, headerEnd } = layoutOf(bytes)
  change(header as { manifest: BackupManifest })
  const json = Buffer.from(JSON.stringify(header))
  const lead = Buffer.from(bytes.subarray(0, 13))
  lead.writeUInt32BE(json.byteLength, 9)
  const digest = createHash('sha256').update(lead).update(json).digest()
  return Buffer.concat([lead, json, digest, bytes.subarray(headerEnd)])
}

const flipped = (bytes: Buffer, at: number): Buffer => {
  const copy = Buffer.from(bytes)
  copy[at] = copy[at]! ^ 0x01
  return copy
}

describe('core/backups: the backup file', function () {
  let dir: string
  let serial = 0
  const fresh = (name: string): string => join(dir, `${serial++}-${name}`)
  let big: Buffer
  let bigPath: string

  /** A dump file holding `content`. */
  function dump(content: Buffer): string {
    const path = fresh('dump')
    writeFileSync(path, content)
    return path
  }

  /** A backup of `content`, written with the module, and its bytes. */
  async function backup(
    content: Buffer,
    options: { key?: BackupKey; chunkBytes?: number; contentPath?: string } = {},
  ): Promise<{ path: string; bytes: Buffer }> {
    const path = fresh('backup.gbk')
    await writeBackupFile({
      output: path,
      manifest: manifestOf(content),
      content: options.contentPath ?? dump(content),
      key: options.key,
      chunkBytes: options.chunkBytes,
    })
    return { path, bytes: readFileSync(path) }
  }

  /** `bytes` as a file of their own. */
  function saved(bytes: Buffer): string {
    const path = fresh('tampered.gbk')
    writeFileSync(path, bytes)
    return path
  }

  /**
   * The refusal of a file: extract and verify both reject with `code` (and, for BACKUP_INVALID, one of
   * `reasons`, and a message matching `message`), and extract leaves nothing at its destination.
   */
  async function refusal(file: string, key: BackupKey | undefined, code: string, reasons: string[] = [], message?: RegExp): Promise<Rejection> {
    const to = fresh('restored.dump')
    const err = await rejection(extractBackupContent(file, key, to))
    expect(err.code, err.message).to.equal(code)
    if (reasons.length > 0) expect(err.details?.reason, err.message).to.be.oneOf(reasons)
    if (message) expect(err.message).to.match(message)
    expect(existsSync(to), 'the destination is removed').to.equal(false)
    const verified = await rejection(verifyBackupFile(file, key))
    expect(verified.code, verified.message).to.equal(code)
    return err
  }

  /** The content extracted from a backup file, checked against verifyBackupFile's manifest too. */
  async function extracted(file: string, key?: BackupKey): Promise<{ content: Buffer; manifest: BackupManifest }> {
    const to = fresh('restored.dump')
    const manifest = await extractBackupContent(file, key, to)
    expect(await verifyBackupFile(file, key)).to.deep.equal(manifest)
    expect(statSync(to).mode & 0o777).to.equal(0o600)
    return { content: readFileSync(to), manifest }
  }

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gantry-backup-file-'))
    big = randomBytes(3 * 1024 * 1024)
    bigPath = dump(big)
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  describe('round trips', () => {
    const small = Buffer.from('CREATE TABLE widgets (id integer);\nINSERT INTO widgets VALUES (1), (2), (3);\n'.repeat(40))
    for (const encrypted of [false, true]) {
      const mode = encrypted ? 'encrypted' : 'unencrypted'
      for (const [name, content] of [
        ['3 MB of random bytes', () => big],
        ['a small SQL dump', () => small],
        ['an empty dump', () => Buffer.alloc(0)],
      ] as const) {
        it(`${mode}: ${name}`, async () => {
          const key = encrypted ? newKey() : undefined
          const data = content()
          const { path, bytes } = await backup(data, { key, contentPath: data === big ? bigPath : undefined })
          const back = await extracted(path, key)
          expect(back.content.equals(data)).to.equal(true)
          expect(back.manifest).to.deep.equal(manifestOf(data))
          expect(bytes.subarray(0, 9).toString('latin1')).to.equal('GANTRYBK\x01')
        })
      }
    }

    it('any chunk size: one byte, a few, and a last chunk that is full, one byte short or one byte long', async () => {
      const content = randomBytes(3000)
      const whole = layoutOf((await backup(content, { chunkBytes: 100_000 })).bytes).records
      expect(whole).to.have.length(1)
      const gzipBytes = whole[0]!.end - whole[0]!.bodyStart
      const cases: [number, Buffer][] = [
        [1, content.subarray(0, 200)],
        [7, content.subarray(0, 1000)],
        [gzipBytes - 1, content],
        [gzipBytes, content],
        [gzipBytes + 1, content],
        [Math.ceil(gzipBytes / 3), content],
      ]
      for (const [chunkBytes, data] of cases) {
        for (const key of [undefined, newKey()]) {
          const { path, bytes } = await backup(data, { key, chunkBytes })
          expect((await extracted(path, key)).content.equals(data), `chunkBytes ${chunkBytes}`).to.equal(true)
          const { records, header } = layoutOf(bytes)
          expect(header.chunkBytes).to.equal(chunkBytes)
          const tag = key ? 16 : 0
          // Every record but the last holds a full chunk; the last is the only one flagged so, and ends the file.
          for (const record of records.slice(0, -1)) expect([record.flag, record.end - record.bodyStart]).to.deep.equal([0, chunkBytes + tag])
          expect(records.at(-1)!.flag).to.equal(1)
          expect(records.at(-1)!.end).to.equal(bytes.byteLength)
          if (data === content && chunkBytes === gzipBytes) expect(records).to.have.length(1)
          if (data === content && chunkBytes === gzipBytes - 1) expect(records.map((r) => r.end - r.bodyStart - tag)).to.deep.equal([chunkBytes, 1])
        }
      }
    })

    it('the unencrypted body is the gzip stream of the dump, in 64 KiB chunks', async () => {
      const { bytes } = await backup(big, { contentPath: bigPath })
      const { records, header } = layoutOf(bytes)
      expect(header).to.include({ compression: 'gzip', chunkBytes: 65536, encryption: null })
      expect(records.length).to.be.greaterThan(40)
      const body = Buffer.concat(records.map((r) => bytes.subarray(r.bodyStart, r.end)))
      expect(body.subarray(0, 2).toString('hex')).to.equal('1f8b')
    })

    it('encrypted, no plaintext and no gzip stream is in the file, and each backup gets its own salt', async () => {
      const key = newKey()
      const marker = Buffer.from('secret-marker-'.repeat(500))
      const one = await backup(marker, { key })
      const two = await backup(marker, { key })
      expect(one.bytes.includes(Buffer.from('secret-marker-'))).to.equal(false)
      const [a, b] = [layoutOf(one.bytes), layoutOf(two.bytes)]
      expect(a.header.encryption).to.deep.include({ algorithm: 'AES-256-GCM', kdf: 'HKDF-SHA256', keyId: key.id })
      const [ea, eb] = [a.header.encryption as { salt: string }, b.header.encryption as { salt: string }]
      expect(Buffer.from(ea.salt, 'base64')).to.have.length(32)
      expect(ea.salt).to.not.equal(eb.salt)
      const firstBody = (layout: ReturnType<typeof layoutOf>, bytes: Buffer) => bytes.subarray(layout.records[0]!.bodyStart, layout.records[0]!.end)
      expect(firstBody(a, one.bytes).subarray(0, 2).toString('hex')).to.not.equal('1f8b')
      expect(firstBody(a, one.bytes).equals(firstBody(b, two.bytes))).to.equal(false)
    })

    it('gzip levels 1 and 9 both round trip', async () => {
      const content = Buffer.from('INSERT INTO widgets VALUES (1);\n'.repeat(2000))
      for (const gzipLevel of [1, 9]) {
        const path = fresh('level.gbk')
        await writeBackupFile({ output: path, manifest: manifestOf(content), content: dump(content), gzipLevel })
        expect((await extracted(path)).content.equals(content)).to.equal(true)
      }
    })

    it('an unencrypted backup opens whether or not a key is set', async () => {
      const { path } = await backup(Buffer.from('plain'))
      expect((await extracted(path, newKey())).content.toString()).to.equal('plain')
    })

    it('hashContentFile gives the sha256 and size the manifest holds', async () => {
      expect(await hashContentFile(bigPath)).to.deep.equal({ sha256: sha256(big), bytes: big.byteLength })
      expect(await hashContentFile(dump(Buffer.alloc(0)))).to.deep.equal({ sha256: sha256(Buffer.alloc(0)), bytes: 0 })
    })
  })

  describe('the header', () => {
    it('is read without the key, and without reading the rest of the file', async () => {
      const key = newKey()
      const content = randomBytes(20_000)
      const { bytes } = await backup(content, { key, chunkBytes: 1024 })
      const headerOnly = saved(Buffer.concat([bytes.subarray(0, layoutOf(bytes).headerEnd), Buffer.from('anything at all')]))
      expect(await readBackupHeader(headerOnly)).to.deep.equal({ manifest: manifestOf(content), encrypted: true, keyId: key.id })
      const plain = await backup(content)
      expect(await readBackupHeader(plain.path)).to.deep.equal({ manifest: manifestOf(content), encrypted: false, keyId: null })
    })

    it('is refused when it is not a backup: another file, an empty one, a folder, a missing path', async () => {
      const cases: [string, string][] = [
        [saved(randomBytes(4096)), 'not-a-backup'],
        [saved(gzipSync(Buffer.from('a gzip file, not a backup'))), 'not-a-backup'],
        [saved(Buffer.from('GANTRYB')), 'not-a-backup'],
        [saved(Buffer.alloc(0)), 'not-a-backup'],
        [dir, 'not-a-backup'],
        [join(dir, 'no-such-file'), 'unreadable'],
      ]
      for (const [path, reason] of cases) {
        const err = await rejection(readBackupHeader(path))
        expect([err.code, err.details?.reason], path).to.deep.equal(['BACKUP_INVALID', reason])
        await refusal(path, undefined, 'BACKUP_INVALID', [reason])
      }
    })

    for (const encrypted of [false, true]) {
      const mode = encrypted ? 'encrypted' : 'unencrypted'

      it(`${mode}: a changed byte anywhere in the header is refused, by readBackupHeader too`, async () => {
        const key = encrypted ? newKey() : undefined
        const { bytes } = await backup(randomBytes(10_000), { key, chunkBytes: 1024 })
        const { jsonStart, digestStart, headerEnd } = layoutOf(bytes)
        const rowCount = bytes.indexOf('100000', jsonStart)
        const positions: [number, string][] = [
          [0, 'not-a-backup'], // the magic
          [8, 'unknown-format'], // the format byte
          [10, 'damaged'], // the header's length, now far beyond the file
          [12, 'damaged'], // the header's length, a byte off
          [jsonStart, 'damaged'], // JSON's opening brace
          [rowCount, 'damaged'], // a row count, still valid JSON and a valid manifest
          [digestStart - 3, 'damaged'],
          [digestStart + 5, 'damaged'], // the digest itself
          [headerEnd - 1, 'damaged'],
        ]
        for (const [at, reason] of positions) {
          const file = saved(flipped(bytes, at))
          const header = await rejection(readBackupHeader(file))
          expect(header.code, `byte ${at}: ${header.message}`).to.equal('BACKUP_INVALID')
          expect(header.details?.reason, `byte ${at}: ${header.message}`).to.be.oneOf([reason, 'truncated'])
          await refusal(file, key, 'BACKUP_INVALID', [reason, 'truncated'])
        }
      })
    }

    it('encrypted: a manifest changed by a forger who recomputes the digest is refused, since every chunk authenticates the header', async () => {
      const key = newKey()
      const { bytes } = await backup(randomBytes(10_000), { key, chunkBytes: 1024 })
      const forgeries = [
        reheadered(bytes, (h) => (h.manifest.rowCounts.gantry_users = 99999)),
        reheadered(bytes, (h) => (h.manifest.environment = 'staging')),
        reheadered(bytes, (h) => (h.chunkBytes = 1024)), // the same value, re-serialised: the bytes are what is bound
        reheadered(bytes, (h) => ((h.encryption as { salt: string }).salt = randomBytes(32).toString('base64'))),
      ]
      // Re-serialising unchanged JSON gives the same bytes: that one must still open (the test's own check).
      expect(forgeries[2]!.equals(bytes)).to.equal(true)
      expect((await extracted(saved(forgeries[2]!), key)).content.byteLength).to.equal(10_000)
      for (const forged of [forgeries[0]!, forgeries[1]!, forgeries[3]!]) {
        const file = saved(forged)
        expect((await readBackupHeader(file)).encrypted).to.equal(true)
        const err = await refusal(file, key, 'BACKUP_INVALID', ['damaged'])
        expect(err.message).to.match(/Chunk 0 does not authenticate/)
      }
    })

    it('unencrypted: a manifest whose size or checksum was changed with a recomputed digest is refused by the dump check', async () => {
      const { bytes } = await backup(randomBytes(10_000), { chunkBytes: 1024 })
      await refusal(saved(reheadered(bytes, (h) => (h.manifest.content.bytes = 9_999))), undefined, 'BACKUP_INVALID', ['checksum'])
      await refusal(saved(reheadered(bytes, (h) => (h.manifest.content.bytes = 10_001))), undefined, 'BACKUP_INVALID', ['checksum'])
      await refusal(saved(reheadered(bytes, (h) => (h.manifest.content.sha256 = sha256(Buffer.from('other'))))), undefined, 'BACKUP_INVALID', ['checksum'])
    })

    it('a header that is well formed JSON but no backup header is refused (zod), and so is another format or compression', async () => {
      const { bytes } = await backup(Buffer.from('x'))
      const changes: ((h: { manifest: BackupManifest } & Record<string, unknown>) => void)[] = [
        (h) => ((h.manifest as unknown as Record<string, unknown>).format = 2),
        (h) => ((h.manifest as unknown as Record<string, unknown>).dialect = 'oracle'),
        (h) => ((h.manifest.content as unknown as Record<string, unknown>).sha256 = 'not hex'),
        (h) => (h.compression = 'zstd'),
        (h) => (h.chunkBytes = 0),
        (h) => (h.extra = true),
        (h) => (h.encryption = { algorithm: 'AES-256-GCM', kdf: 'HKDF-SHA256', keyId: 'short', salt: 'AAAA' }),
      ]
      for (const change of changes) {
        const file = saved(reheadered(bytes, change))
        const err = await rejection(readBackupHeader(file))
        expect([err.code, err.details?.reason], err.message).to.deep.equal(['BACKUP_INVALID', 'damaged'])
        await refusal(file, undefined, 'BACKUP_INVALID', ['damaged'])
      }
    })
  })

  describe('the chunks', () => {
    const content = randomBytes(40_000)
    const other = randomBytes(40_000)
    const chunkBytes = 4096

    for (const encrypted of [false, true]) {
      const mode = encrypted ? 'encrypted' : 'unencrypted'
      // Unencrypted, a changed body is caught by gunzip (its structure and CRC) or by the dump's SHA-256.
      const caught = encrypted ? ['damaged'] : ['damaged', 'checksum']
      // Encrypted, the chunk's own authentication refuses it, not gunzip or the checksum after it.
      const how = encrypted ? /Chunk \d+ does not authenticate/ : undefined
      let key: BackupKey | undefined
      let file: Buffer
      let layout: ReturnType<typeof layoutOf>

      before(async () => {
        key = encrypted ? newKey() : undefined
        file = (await backup(content, { key, chunkBytes })).bytes
        layout = layoutOf(file)
        expect(layout.records.length).to.be.greaterThan(8)
      })

      const record = (i: number) => layout.records.at(i)!
      const recordBytes = (i: number) => file.subarray(record(i).start, record(i).end)

      it(`${mode}: a changed byte in a chunk is refused, and the partly written destination removed`, async () => {
        for (const i of [0, 4, -2, -1]) {
          const { bodyStart, end } = record(i)
          for (const at of [bodyStart, Math.floor((bodyStart + end) / 2), end - 1]) {
            await refusal(saved(flipped(file, at)), key, 'BACKUP_INVALID', caught, how)
          }
        }
      })

      it(`${mode}: a changed record flag or length is refused`, async () => {
        await refusal(saved(flipped(file, record(3).start + 1)), key, 'BACKUP_INVALID', ['damaged'])
        const flag = Buffer.from(file)
        flag[record(3).start] = 2
        await refusal(saved(flag), key, 'BACKUP_INVALID', ['damaged'])
      })

      it(`${mode}: two chunks swapped are refused`, async () => {
        const swapped = Buffer.concat([file.subarray(0, record(2).start), recordBytes(3), recordBytes(2), file.subarray(record(3).end)])
        expect(swapped.byteLength).to.equal(file.byteLength)
        await refusal(saved(swapped), key, 'BACKUP_INVALID', caught, how)
      })

      it(`${mode}: a chunk dropped is refused`, async () => {
        for (const i of [0, 3, -2]) {
          const dropped = Buffer.concat([file.subarray(0, record(i).start), file.subarray(record(i).end)])
          await refusal(saved(dropped), key, 'BACKUP_INVALID', caught, how)
        }
      })

      it(`${mode}: a file cut short is refused wherever it is cut`, async () => {
        const { jsonStart, digestStart, headerEnd } = layout
        const cuts = [
          1,
          12, // inside the length
          jsonStart + 10, // inside the header JSON
          digestStart + 16, // inside the digest
          headerEnd, // right after the header: no records at all
          record(0).start + 3, // inside a record's head
          record(2).bodyStart + 100, // inside a chunk
          record(4).end, // at a record boundary
          record(-1).start, // exactly before the last record
          record(-1).end - 1, // one byte short
        ]
        for (const cut of cuts) {
          const err = await refusal(saved(file.subarray(0, cut)), key, 'BACKUP_INVALID', cut <= 8 ? ['not-a-backup'] : ['truncated'])
          if (cut === record(-1).start) expect(err.message).to.match(/before its last one/)
        }
      })

      it(`${mode}: a chunk before the last, turned into the last one and the rest cut off, is refused`, async () => {
        const cut = Buffer.from(file.subarray(0, record(-2).end))
        cut[record(-2).start] = 1
        await refusal(saved(cut), key, 'BACKUP_INVALID', caught, how)
      })

      it(`${mode}: bytes after the last record are refused, a copy of a record among them`, async () => {
        for (const extra of [Buffer.from([0]), Buffer.from('\n'), randomBytes(1000), recordBytes(-1), recordBytes(0)]) {
          await refusal(saved(Buffer.concat([file, extra])), key, 'BACKUP_INVALID', ['trailing-bytes'])
        }
      })

      it(`${mode}: a chunk taken from another backup${encrypted ? ' under the same key' : ''} is refused`, async () => {
        const donor = (await backup(other, { key, chunkBytes })).bytes
        const donorLayout = layoutOf(donor)
        const i = 3
        const { start, end } = donorLayout.records[i]!
        expect(end - start).to.equal(record(i).end - record(i).start)
        const spliced = Buffer.concat([file.subarray(0, record(i).start), donor.subarray(start, end), file.subarray(record(i).end)])
        await refusal(saved(spliced), key, 'BACKUP_INVALID', caught, how)
        // And the other way round: one file's header over the other's chunks.
        const mixed = Buffer.concat([donor.subarray(0, donorLayout.headerEnd), file.subarray(layout.headerEnd)])
        await refusal(saved(mixed), key, 'BACKUP_INVALID', caught, how)
      })
    }

    it('encrypted: the same content under the same key twice gives chunks that cannot be exchanged', async () => {
      const key = newKey()
      const [one, two] = [(await backup(content, { key, chunkBytes })).bytes, (await backup(content, { key, chunkBytes })).bytes]
      const [a, b] = [layoutOf(one), layoutOf(two)]
      const r = b.records[2]!
      const spliced = Buffer.concat([one.subarray(0, a.records[2]!.start), two.subarray(r.start, r.end), one.subarray(a.records[2]!.end)])
      await refusal(saved(spliced), key, 'BACKUP_INVALID', ['damaged'], /Chunk 2 does not authenticate/)
    })
  })

  describe('the key', () => {
    it('a wrong key is told apart from a damaged file, and the missing key named', async () => {
      const [key, wrong] = [newKey(), newKey()]
      const { path } = await backup(randomBytes(5000), { key })
      const err = await refusal(path, wrong, 'BACKUP_KEY_WRONG')
      expect(err.details).to.deep.include({ keyId: key.id, givenKeyId: wrong.id })
      expect(err.message).to.include(key.id)
      const missing = await refusal(path, undefined, 'BACKUP_KEY_MISSING')
      expect(missing.details).to.deep.include({ keyId: key.id })
      // The right key still opens it.
      expect((await extracted(path, key)).content.byteLength).to.equal(5000)
    })

    it('a wrong key whose id a forger wrote into the header still does not open the file', async () => {
      const [key, wrong] = [newKey(), newKey()]
      const { bytes } = await backup(randomBytes(5000), { key })
      const relabelled = saved(reheadered(bytes, (h) => ((h.encryption as { keyId: string }).keyId = wrong.id)))
      await refusal(relabelled, wrong, 'BACKUP_INVALID', ['damaged'], /Chunk 0 does not authenticate/)
    })

    it('parseBackupKey reads 32 bytes of base64 and gives a stable 16-hex id that is not the key', () => {
      const raw = randomBytes(32)
      const key = parseBackupKey(` ${raw.toString('base64')}\n`)
      expect(key.key.equals(raw)).to.equal(true)
      expect(key.id).to.match(/^[0-9a-f]{16}$/)
      expect(parseBackupKey(raw.toString('base64url')).id).to.equal(key.id)
      expect(parseBackupKey(randomBytes(32).toString('base64')).id).to.not.equal(key.id)
      expect(raw.toString('hex')).to.not.include(key.id)
    })

    it('parseBackupKey refuses an empty, non-base64 or wrongly sized key without quoting it', () => {
      for (const value of ['', '   ', 'not base64!!', randomBytes(16).toString('base64'), randomBytes(33).toString('base64')]) {
        let err: (Error & { code?: string }) | undefined
        try {
          parseBackupKey(value)
        } catch (caught) {
          err = caught as Error & { code?: string }
        }
        expect(err?.code, value).to.equal('CONFIG_INVALID')
        if (value.trim() !== '') expect(err!.message).to.not.include(value)
      }
    })
  })

  describe('writing', () => {
    it('creates the file 0600 and leaves no .partial behind', async () => {
      const { path } = await backup(Buffer.from('x'), { key: newKey() })
      expect(statSync(path).mode & 0o777).to.equal(0o600)
      expect(existsSync(`${path}.partial`)).to.equal(false)
    })

    it('refuses an existing file and a symbolic link at the output, and touches neither', async () => {
      const content = Buffer.from('x')
      const existing = fresh('existing.gbk')
      writeFileSync(existing, 'keep me')
      const err = await rejection(writeBackupFile({ output: existing, manifest: manifestOf(content), content: dump(content) }))
      expect(err.code).to.equal('FILE_EXISTS')
      expect(readFileSync(existing, 'utf8')).to.equal('keep me')

      const target = fresh('target')
      const link = fresh('link.gbk')
      symlinkSync(target, link)
      const viaLink = await rejection(writeBackupFile({ output: link, manifest: manifestOf(content), content: dump(content) }))
      expect(viaLink.code).to.equal('FILE_EXISTS')
      expect(existsSync(target)).to.equal(false)
      expect(lstatSync(link).isSymbolicLink()).to.equal(true)
    })

    it('writes through output.partial: one there (a link included) is refused, not followed or replaced', async () => {
      const content = Buffer.from('x')
      const output = fresh('out.gbk')
      const target = fresh('target')
      symlinkSync(target, `${output}.partial`)
      const err = await rejection(writeBackupFile({ output, manifest: manifestOf(content), content: dump(content) }))
      expect(err.code).to.equal('FILE_EXISTS')
      expect(existsSync(target)).to.equal(false)
      expect(existsSync(output)).to.equal(false)
      expect(lstatSync(`${output}.partial`).isSymbolicLink()).to.equal(true)
    })

    it('leaves nothing when writing fails: a missing dump, a dump that is not the manifest’s, an abort midway', async () => {
      const content = Buffer.from('the dump')
      const missing = fresh('missing.gbk')
      const noDump = await rejection(writeBackupFile({ output: missing, manifest: manifestOf(content), content: join(dir, 'no-such-dump'), key: newKey() }))
      expect(noDump.code).to.equal('INTERNAL')

      const changed = fresh('changed.gbk')
      const notIt = await rejection(writeBackupFile({ output: changed, manifest: manifestOf(content), content: dump(Buffer.from('another dump')) }))
      expect(notIt.code).to.equal('INTERNAL')
      expect(notIt.message).to.match(/not the one its manifest describes/)

      const aborted = fresh('aborted.gbk')
      const controller = new AbortController()
      const writing = writeBackupFile({ output: aborted, manifest: manifestOf(big), content: bigPath, signal: controller.signal })
      setImmediate(() => controller.abort())
      expect((await rejection(writing)).name).to.equal('AbortError')

      const nowhere = join(dir, 'no-such-folder', 'out.gbk')
      const noFolder = await rejection(writeBackupFile({ output: nowhere, manifest: manifestOf(content), content: dump(content) }))
      expect([noFolder.code, (noFolder.cause as NodeJS.ErrnoException).code]).to.deep.equal(['INTERNAL', 'ENOENT'])

      for (const output of [missing, changed, aborted, nowhere]) {
        expect(existsSync(output), output).to.equal(false)
        expect(existsSync(`${output}.partial`), `${output}.partial`).to.equal(false)
      }
    })

    it('extraction refuses an existing destination (a link included) and leaves it as it was', async () => {
      const { path } = await backup(Buffer.from('x'))
      const to = fresh('existing.dump')
      writeFileSync(to, 'keep me')
      expect((await rejection(extractBackupContent(path, undefined, to))).code).to.equal('FILE_EXISTS')
      expect(readFileSync(to, 'utf8')).to.equal('keep me')
      const sub = fresh('sub')
      mkdirSync(sub)
      const target = join(sub, 'target')
      symlinkSync(target, join(sub, 'link'))
      expect((await rejection(extractBackupContent(path, undefined, join(sub, 'link')))).code).to.equal('FILE_EXISTS')
      expect(existsSync(target)).to.equal(false)
      const nowhere = await rejection(extractBackupContent(path, undefined, join(dir, 'no-such-folder', 'out.dump')))
      expect([nowhere.code, (nowhere.cause as NodeJS.ErrnoException).code]).to.deep.equal(['INTERNAL', 'ENOENT'])
    })
  })
})
