import { constants } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { extname, resolve } from 'node:path'
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
