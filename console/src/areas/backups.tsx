/**
 * The environment's backups, as `gantry db backups list` shows them: the files in backups.directory, newest
 * first, read from their manifests (nothing decrypted, no key needed). A file whose header does not read is
 * listed with why. Taking and restoring a backup act on the database itself and stay CLI commands
 * (`gantry db backup`, `gantry db restore`): this page only reads.
 */
import type { BackupList } from '../../../src/core/backups/backup.schema.js'
import { formatBytes, formatCount } from '../../../src/cli/format.js'
import { call } from '../api.js'
import { useLoad } from '../ui/hooks.js'
import { ErrorNote, Time } from '../ui/parts.js'
import { Table } from '../ui/table.js'

type Listed = BackupList['data'][number]

const COLUMNS = ['File', 'Taken', 'From environment', 'Trigger', 'Rows', 'Size', 'Encrypted']
/** The columns an unreadable file has no value for: its error spans them. */
const MANIFEST_COLUMNS = 4

/** The file's name within the directory (the full path where it lies elsewhere). */
function nameIn(directory: string, file: string): string {
  const separator = file.charAt(directory.length)
  return file.startsWith(directory) && (separator === '/' || separator === '\\') ? file.slice(directory.length + 1) : file
}

export function Backups() {
  const list = useLoad(() => call('backups.list'), [])
  const data = list.data
  const backups = data?.data ?? []
  const unreadable = backups.filter((b) => b.manifest === null).length

  return (
    <>
      <h1>Backups</h1>
      <p class="muted">
        Taken with <code>gantry db backup</code> (by hand, on the worker's schedule, or before migrations) and restored with <code>gantry db restore</code> on
        the command line; here they are listed from their manifests.
      </p>
      <ErrorNote error={list.error} />
      <dl>
        <dt>Directory</dt>
        <dd>{data ? <code>{data.directory}</code> : <span class="muted">—</span>}</dd>
      </dl>
      <button type="button" onClick={list.reload} disabled={list.loading}>
        Refresh
      </button>
      <Table
        name="backups"
        busy={list.loading}
        columns={COLUMNS}
        caption={
          data
            ? `${backups.length} backup file${backups.length === 1 ? '' : 's'}, newest first${unreadable > 0 ? ` (${unreadable} unreadable)` : ''}`
            : 'Backups, newest first'
        }
      >
        {data ? backups.map((backup) => <Row key={backup.file} directory={data.directory} backup={backup} />) : null}
      </Table>
      {data && backups.length === 0 ? (
        <p class="muted">
          No backups in {data.directory}: take one with <code>gantry db backup</code>.
        </p>
      ) : null}
    </>
  )
}

function Row({ directory, backup }: { directory: string; backup: Listed }) {
  const { manifest } = backup
  const file = (
    <th scope="row">
      <code title={backup.file}>{nameIn(directory, backup.file)}</code>
    </th>
  )
  if (manifest === null)
    return (
      <tr>
        {file}
        <td colSpan={MANIFEST_COLUMNS}>
          <span class="badge fail">unreadable</span> {backup.error ?? 'Its header does not read as a backup’s.'}
        </td>
        <td>{formatBytes(backup.bytes)}</td>
        <td>
          <span class="muted">—</span>
        </td>
      </tr>
    )
  const rows = Object.values(manifest.rowCounts).reduce((sum, n) => sum + n, 0)
  const tables = Object.keys(manifest.rowCounts).length
  return (
    <tr>
      {file}
      <td>
        <Time at={manifest.startedAt} />
      </td>
      <td>{manifest.environment}</td>
      <td>{manifest.trigger}</td>
      <td title={`in ${formatCount(tables)} table${tables === 1 ? '' : 's'} (${manifest.tables})`}>{formatCount(rows)}</td>
      <td>{formatBytes(backup.bytes)}</td>
      <td>{backup.encrypted ? 'yes' : 'no'}</td>
    </tr>
  )
}
