/**
 * Overview: readiness with each check (database, migrations pending or modified, Redis…), maintenance, this
 * instance's traffic over the last hour, and the latest audit entries — each from the route that owns it,
 * shown where the user may read it.
 */
import type { Health } from '../../../src/core/health/health.schema.js'
import type { TrafficSnapshot } from '../../../src/server/traffic.js'
import { call, request } from '../api.js'
import { CONSOLE_ROUTES } from '../routes.js'
import { can } from '../session.js'
import { useLoad, useRenderedMark } from '../ui/hooks.js'
import { ErrorNote, Gate, Time } from '../ui/parts.js'
import { TableHead } from '../ui/table.js'
import { TrafficChart } from '../ui/traffic-chart.js'

export function Overview() {
  return (
    <>
      <h1>Overview</h1>
      <div class="grid">
        <Readiness />
        <Gate permission="maintenance:read">
          <MaintenanceSummary />
        </Gate>
      </div>
      <Gate permission="ratelimits:read">
        <Traffic />
      </Gate>
      <Gate permission="audit:read">
        <RecentAudit />
      </Gate>
    </>
  )
}

function Readiness() {
  const ready = useLoad(() => request<Health>(CONSOLE_ROUTES.ready.method, CONSOLE_ROUTES.ready.path), [])
  useRenderedMark(ready.data !== undefined)
  return (
    <section class="card" aria-labelledby="readiness">
      <h2 id="readiness">Readiness {ready.data ? <span class={`badge ${ready.data.status}`}>{ready.data.status}</span> : null}</h2>
      <ErrorNote error={ready.error} />
      {ready.data ? (
        <table>
          <caption class="sr-only">Each readiness check</caption>
          <TableHead columns={['Check', 'Status', 'Detail']} />
          <tbody>
            {Object.entries(ready.data.checks ?? {}).map(([name, [check]]) => (
              <tr key={name}>
                <th scope="row">{name}</th>
                <td>
                  <span class={`badge ${check?.status ?? ''}`}>{check?.status}</span>
                </td>
                <td>{check?.output ?? (check?.observedValue === undefined ? '' : `${check.observedValue} ${check.observedUnit ?? ''}`)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <button type="button" onClick={ready.reload} disabled={ready.loading}>
        Check again
      </button>
    </section>
  )
}

function MaintenanceSummary() {
  const state = useLoad(() => call('maintenance.status'), [])
  return (
    <section class="card" aria-labelledby="maintenance-summary">
      <h2 id="maintenance-summary">Maintenance</h2>
      <ErrorNote error={state.error} />
      {state.data ? (
        <p>
          <span class={`badge ${state.data.enabled ? 'warn' : 'pass'}`}>{state.data.enabled ? 'on' : 'off'}</span>{' '}
          {state.data.enabled && state.data.message ? state.data.message : null}
          {state.data.since ? (
            <span class="muted">
              {' '}
              since <Time at={state.data.since} /> by {state.data.by}
            </span>
          ) : null}
        </p>
      ) : null}
      {can('maintenance:write') ? <a href="#/maintenance">Change…</a> : null}
    </section>
  )
}

function Traffic() {
  const traffic = useLoad(() => request<TrafficSnapshot>(CONSOLE_ROUTES.traffic.method, CONSOLE_ROUTES.traffic.path), [])
  return (
    <section class="card" aria-labelledby="traffic">
      <h2 id="traffic">Requests, last hour</h2>
      <ErrorNote error={traffic.error} />
      {traffic.data ? <TrafficChart traffic={traffic.data} /> : null}
    </section>
  )
}

function RecentAudit() {
  const audit = useLoad(() => call('audit.list', { limit: 10 }), [])
  return (
    <section class="card" aria-labelledby="recent-audit">
      <h2 id="recent-audit">Recent activity</h2>
      <ErrorNote error={audit.error} />
      {audit.data ? (
        <table>
          <caption class="sr-only">The ten latest audit entries</caption>
          <TableHead columns={['When', 'Who', 'What', 'Target']} />
          <tbody>
            {audit.data.data.map((entry) => (
              <tr key={entry.id}>
                <td>
                  <Time at={entry.at} />
                </td>
                <td>{entry.actor}</td>
                <td>{entry.action}</td>
                <td>
                  {entry.targetType} {entry.targetId}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <a href="#/audit">The whole log…</a>
    </section>
  )
}
