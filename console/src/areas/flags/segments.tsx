/** The segments rules reuse (named condition sets), read only: gantry flags set-segment changes them. */
import type { SegmentView } from '../../../../src/core/flags/flags.schema.js'
import { ErrorNote, Time } from '../../ui/parts.js'
import { Table } from '../../ui/table.js'
import { formatWhen } from '../../../../src/core/flags/condition-text.js'

export function Segments({ segments, error, loading }: { segments: readonly SegmentView[] | undefined; error: unknown; loading: boolean }) {
  return (
    <section aria-labelledby="flag-segments">
      <h2 id="flag-segments">Segments</h2>
      <ErrorNote error={error} />
      {segments && segments.length === 0 ? (
        <p class="muted">No segment: named condition sets that rules can reuse (gantry flags set-segment).</p>
      ) : (
        <Table
          busy={loading}
          caption="Segments, with the flags whose rules name each"
          captionClass="sr-only"
          columns={['Segment', 'Description', 'Conditions', 'Used by', 'Updated']}
        >
          {segments?.map((segment) => (
            <tr key={segment.name}>
              <th scope="row">{segment.name}</th>
              <td>{segment.description || <span class="muted">—</span>}</td>
              <td>
                <code>{formatWhen(segment.conditions, [])}</code>
              </td>
              <td>{segment.usedBy.length > 0 ? segment.usedBy.join(', ') : <span class="muted">no flag</span>}</td>
              <td>
                <Time at={segment.updatedAt} />
              </td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  )
}
