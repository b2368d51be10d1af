import { constants } from 'node:fs'
import { link, mkdtemp, open, rename, rm, type FileHandle } from 'node:fs/promises'
import { basename, dirname, extname, join, resolve } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { GantryError } from '../core/errors.js'
import type { UserFileFormat } from '../core/users/import.js'

/** The user-file format a file's extension names (.csv, .jsonl or .ndjson), if any. */
export function formatFromExtension(file: string): UserFileFormat | undefined {
  const ext = extname(file).toLowerCase()
  if (ext === '.csv') return 'csv'
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl'
  return undefined
}

/**
 * Opens the file an export writes, mode 0600 (it holds emails): a new file, or with `force` an existing one
 * emptied. Never through a symbolic link: O_NOFOLLOW refuses one in the last path component, so a link
 * planted at FILE cannot point the export (or the truncation) at another file.
 */
export async function openExportFile(file: string, force: boolean): Promise<FileHandle> {
  const { O_WRONLY, O_CREAT, O_EXCL, O_TRUNC, O_NOFOLLOW } = constants
  let handle: FileHandle
  try {
    handle = await open(file, O_WRONLY | O_CREAT | O_NOFOLLOW | (force ? O_TRUNC : O_EXCL), 0o600)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') throw new GantryError('FILE_EXISTS', `${file} exists already.`)
    if (code === 'ELOOP')
      throw new GantryError('INVALID_INPUT', `${file} is a symbolic link: an export is never written through one.`, {
        hint: 'Export to the file itself, or remove the link.',
      })
    throw new GantryError('INVALID_INPUT', `Cannot write ${file}: ${(err as Error).message}`, { cause: err })
  }
  // With force on an existing file, open() keeps its mode: make it 0600 as a new one would be.
  await handle.chmod(0o600)
  return handle
}

/**
 * An export's JSON document: to stdout (under --json printed once, as the command's result, so not here),
 * or to FILE as openExportFile opens it. Returns the absolute path written, or undefined for stdout.
 */
export async function writeJsonExport(file: string | undefined, document: unknown, options: { force: boolean; json: boolean }): Promise<string | undefined> {
  const text = `${JSON.stringify(document, null, 2)}\n`
  if (file === undefined) {
    if (!options.json) process.stdout.write(text)
    return undefined
  }
  const path = resolve(file)
  const handle = await openExportFile(path, options.force)
  try {
    await handle.writeFile(text)
  } finally {
    await handle.close()
  }
  return path
}

/**
 * Writes `chunks` to `file` whole or not at all: into a private directory beside it (mode 0600 file, so
 * the same file system), then linked into place (refused if `file` exists) or, with `force`, renamed over
 * it. Neither follows a symbolic link at `file`. A failure half-way (a refused page, a dropped server)
 * leaves no file and no partial archive someone might take for a whole one. The first chunk is read before
 * anything is created, so a refused export leaves nothing behind at all.
 */
export async function writeExportAtomically(file: string, chunks: AsyncIterable<string>, force: boolean): Promise<void> {
  const iterator = chunks[Symbol.asyncIterator]()
  const first = await iterator.next()
  const rest = (async function* () {
    if (first.done) return
    yield first.value
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value
  })()
  let dir: string
  try {
    dir = await mkdtemp(join(dirname(file), `.${basename(file)}.`))
  } catch (err) {
    await iterator.return?.()
    throw new GantryError('INVALID_INPUT', `Cannot write ${file}: ${(err as Error).message}`, { cause: err })
  }
  try {
    const temp = join(dir, 'export')
    const handle = await openExportFile(temp, false)
    await pipeline(Readable.from(rest), handle.createWriteStream())
    if (force) await rename(temp, file)
    else
      await link(temp, file).catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'EEXIST' ? new GantryError('FILE_EXISTS', `${file} exists already.`, { hint: 'Pass --force to replace it.' }) : err
      })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
