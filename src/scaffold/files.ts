import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, sep } from 'node:path'
import { GantryError } from '../core/errors.js'

/** A file a scaffold writes: its path relative to the root, its content, and a mode for secret files. */
export interface PlannedFile {
  readonly path: string
  readonly content: string
  /** 0o600 for files holding secrets: created with that mode, never world-readable even for a moment. */
  readonly mode?: number
  /**
   * `replace` (default) refuses an existing file without --force; `lines` appends the lines the file lacks
   * (.gitignore); `keep` leaves an existing file as it is (.gitkeep); `update` rewrites a file being edited
   * (gantry.config.json in `env create`); `merge` writes what `merge` makes of an existing file, even with
   * --force never replacing it (the project's package.json).
   */
  readonly strategy?: 'replace' | 'lines' | 'keep' | 'update' | 'merge'
  /** For `merge`: the existing file's new content, or undefined when it already has what it needs. */
  readonly merge?: (current: string) => string | undefined
}

export type FileAction = 'created' | 'overwritten' | 'updated'

/** What was done to one file, with its path relative to the root (forward slashes). */
export interface WrittenFile {
  readonly path: string
  readonly action: FileAction
}

/**
 * Writes planned files under `root`. Every existing file a plan would replace is checked first: without
 * `force` the run refuses (FILE_EXISTS, naming the files) and writes nothing.
 */
export function writePlannedFiles(root: string, files: readonly PlannedFile[], options: { force: boolean }): WrittenFile[] {
  refuseClashes(root, files, options)
  const written: WrittenFile[] = []
  for (const file of files) {
    const action = writeOne(join(root, file.path), file)
    if (action) written.push({ path: file.path.split(sep).join('/'), action })
  }
  return written
}

/** Without `force`, refuses (FILE_EXISTS, naming them) a plan that would replace existing files. */
export function refuseClashes(root: string, files: readonly PlannedFile[], options: { force: boolean }): void {
  const clashes = files.filter((f) => (f.strategy ?? 'replace') === 'replace' && existsSync(join(root, f.path)))
  if (clashes.length === 0 || options.force) return
  const names = clashes.map((f) => displayPath(root, f.path))
  throw new GantryError('FILE_EXISTS', `${names.join(', ')} already exist${names.length === 1 ? 's' : ''}; nothing was written.`, {
    details: { files: names },
  })
}

function writeOne(target: string, file: PlannedFile): FileAction | undefined {
  const exists = existsSync(target)
  const strategy = file.strategy ?? 'replace'
  if (strategy === 'keep' && exists) return undefined
  mkdirSync(dirname(target), { recursive: true })
  if (strategy === 'merge' && exists) {
    const current = readFileSync(target, 'utf8')
    const merged = file.merge?.(current)
    if (merged === undefined || merged === current) return undefined
    writeFileSync(target, merged)
    return 'updated'
  }
  if (strategy === 'lines' && exists) {
    const current = readFileSync(target, 'utf8')
    const missing = missingLines(current, file.content)
    if (missing.length === 0) return undefined
    const separator = current === '' || current.endsWith('\n') ? '' : '\n'
    writeFileSync(target, `${current}${separator}${missing.join('\n')}\n`)
    return 'updated'
  }
  if (file.mode === undefined) writeFileSync(target, file.content)
  else writeWithMode(target, file.content, file.mode)
  if (!exists) return 'created'
  return strategy === 'update' ? 'updated' : 'overwritten'
}

/**
 * Writes a file that must never be readable by others, not even for a moment: a fresh temporary file is
 * created with the mode, then renamed over the target (an existing file's mode would otherwise hold
 * while the secrets are written).
 */
function writeWithMode(target: string, content: string, mode: number): void {
  const temporary = `${target}.${process.pid}.tmp`
  try {
    writeFileSync(temporary, content, { mode, flag: 'wx' })
    chmodSync(temporary, mode) // the umask may have narrowed it further; never wider
    renameSync(temporary, target)
  } catch (err) {
    rmSync(temporary, { force: true })
    throw err
  }
}

/** The lines of `wanted` (comments aside, when every entry is already there) that `current` lacks. */
export function missingLines(current: string, wanted: string): string[] {
  const have = new Set(current.split(/\r?\n/).map((l) => l.trim()))
  const wantedLines = wanted.split('\n').filter((l) => l.trim() !== '')
  const entries = wantedLines.filter((l) => !l.startsWith('#'))
  const missing = entries.filter((l) => !have.has(l.trim()))
  if (missing.length === 0) return []
  const comments = wantedLines.filter((l) => l.startsWith('#') && !have.has(l.trim()))
  return [...comments, ...missing]
}

function displayPath(root: string, path: string): string {
  const rel = relative(process.cwd(), join(root, path))
  return rel === '' || rel.startsWith('..') ? join(root, path) : rel
}
