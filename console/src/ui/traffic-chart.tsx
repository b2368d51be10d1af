/** This instance's requests and 429s per minute, as bars: SVG attributes only (the policy allows no inline style). */
import type { TrafficSnapshot as Traffic } from '../../../src/server/traffic.js'

const WIDTH = 600
const HEIGHT = 120

export function TrafficChart({ traffic }: { traffic: Traffic }) {
  const minutes = traffic.minutes
  const peak = Math.max(1, ...minutes.map((m) => m.requests))
  const slot = WIDTH / Math.max(1, minutes.length)
  const total = minutes.reduce((sum, m) => sum + m.requests, 0)
  const refused = minutes.reduce((sum, m) => sum + m.refused, 0)
  const summary = `${total} requests in the last ${traffic.windowMinutes} minutes, ${refused} refused with 429; busiest minute ${peak}.`
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={summary} preserveAspectRatio="none">
        {minutes.map((m, i) => {
          const h = (m.requests / peak) * (HEIGHT - 4)
          const r = (m.refused / peak) * (HEIGHT - 4)
          return (
            <g key={m.at}>
              <title>{`${new Date(m.at).toLocaleTimeString()}: ${m.requests} requests, ${m.refused} refused`}</title>
              <rect class="bar" x={i * slot + 1} y={HEIGHT - h} width={Math.max(1, slot - 2)} height={h} />
              {r > 0 ? <rect class="bar refused" x={i * slot + 1} y={HEIGHT - r} width={Math.max(1, slot - 2)} height={r} /> : null}
            </g>
          )
        })}
      </svg>
      <figcaption>
        {summary} <span class="muted">Counted by this instance ({traffic.instance}) only.</span>
      </figcaption>
    </figure>
  )
}
