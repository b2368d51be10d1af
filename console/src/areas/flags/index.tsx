/**
 * Feature flags: the environment's flags with their state, rollout and rules; create, switch on and off, set
 * a percentage rollout, delete; a flag's detail with its variants and its rules in order (add one, remove
 * one); and the segments the rules reuse, read only.
 */
import { useState } from 'preact/hooks'
import { call } from '../../api.js'
import { Checkbox, Form, TextField } from '../../ui/fields.js'
import { useAction, useLoad } from '../../ui/hooks.js'
import { ErrorNote, Gate, Outcome, useConfirm } from '../../ui/parts.js'
import { Table } from '../../ui/table.js'
import { CreateFlag } from './create-flag.js'
import { FlagDetail } from './detail.js'
import { FlagRow } from './row.js'
import { Segments } from './segments.js'

export function Flags() {
  const [staleOnly, setStaleOnly] = useState(false)
  const [search, setSearch] = useState('')
  const [selected, setSelected] = useState<string>()
  const list = useLoad(() => call('flags.list', staleOnly ? { stale: true } : {}), [staleOnly])
  const segments = useLoad(() => call('flags.segments'), [])
  const action = useAction()
  const [confirmDialog, confirm] = useConfirm()
  const needle = search.trim().toLowerCase()
  const flags = (list.data?.data ?? []).filter((f) => !needle || f.key.includes(needle) || f.description.toLowerCase().includes(needle))
  const flag = list.data?.data.find((f) => f.key === selected)
  const segmentNames = segments.data?.data.map((s) => s.name) ?? []
  const changed = (): void => {
    list.reload()
    segments.reload()
  }

  return (
    <>
      <h1>Feature flags</h1>
      <Gate permission="flags:write">
        <CreateFlag
          onCreated={(key) => {
            list.reload()
            setSelected(key)
          }}
        />
      </Gate>
      <Form class="filters" role="search">
        <TextField label="Search" type="search" placeholder="key or description" value={search} onValue={setSearch} />
        <div class="checklist">
          <Checkbox label="Only stale flags" checked={staleOnly} onChecked={setStaleOnly} />
        </div>
      </Form>
      <ErrorNote error={list.error} />
      <Outcome of={action} />
      {confirmDialog}
      <Table
        name="flags"
        busy={list.loading}
        caption={
          <>
            {list.data ? `${flags.length} ${staleOnly ? 'stale ' : ''}flag${flags.length === 1 ? '' : 's'}` : 'Feature flags'}
            {needle ? ` matching "${search.trim()}"` : ''}
          </>
        }
        columns={['Key', 'Description', 'Type', 'State', 'Rollout', 'Rules', 'Updated', 'Actions']}
      >
        {flags.map((f) => (
          <FlagRow
            key={f.key}
            flag={f}
            action={action}
            confirm={confirm}
            onOpen={() => setSelected(f.key)}
            onChange={changed}
            onDeleted={() => {
              if (selected === f.key) setSelected(undefined)
              changed()
            }}
          />
        ))}
      </Table>
      {list.data && flags.length === 0 ? <p class="muted">{staleOnly ? 'No stale flag.' : needle ? 'No flag matches.' : 'No flag yet.'}</p> : null}
      {flag ? (
        <FlagDetail
          key={flag.key}
          flag={flag}
          segments={segmentNames}
          action={action}
          confirm={confirm}
          onChange={changed}
          onClose={() => setSelected(undefined)}
        />
      ) : null}
      <Segments segments={segments.data?.data} error={segments.error} loading={segments.loading} />
    </>
  )
}
