import { extname } from 'node:path'
import type { UserFileFormat } from '../core/users/import.js'

/** The user-file format a file's extension names (.csv, .jsonl or .ndjson), if any. */
export function formatFromExtension(file: string): UserFileFormat | undefined {
  const ext = extname(file).toLowerCase()
  if (ext === '.csv') return 'csv'
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl'
  return undefined
}
