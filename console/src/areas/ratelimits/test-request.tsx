/** What the limiter would do with a request: the decision and every rule's part in it, spending nothing. */
import { useState } from 'preact/hooks'
import type { TestResult } from '../../../../src/core/ratelimits/ratelimits.schema.js'
import { call } from '../../api.js'
import { Form, SelectField, TextField } from '../../ui/fields.js'
import { useAction } from '../../ui/hooks.js'
import { ErrorNote } from '../../ui/parts.js'
import { Table } from '../../ui/table.js'
import { SOURCE_LABEL } from './labels.js'

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']

export function TestRequest() {
  const [method, setMethod] = useState('GET')
  const [path, setPath] = useState('/api/v1/')
  const [ip, setIp] = useState('127.0.0.1')
  const [user, setUser] = useState('')
  const [apiKey, setApiKey] = useState('')
  const [result, setResult] = useState<TestResult>()
  const action = useAction()
  return (
    <section class="card" aria-labelledby="ratelimit-test">
      <h2 id="ratelimit-test">Test a request</h2>
      <p class="muted">What the limiter would decide for such a request now, rule by rule; nothing is spent.</p>
      <Form
        class="inline-form"
        onSubmit={() => {
          setResult(undefined)
          void action
            .run(() =>
              call('ratelimits.test', {
                method: method.trim(),
                path: path.trim(),
                ip: ip.trim(),
                ...(user.trim() ? { user: user.trim() } : {}),
                ...(apiKey.trim() ? { apiKey: apiKey.trim() } : {}),
              }),
            )
            .then((answer) => answer && setResult(answer))
        }}
      >
        <SelectField label="Method" value={method} onValue={setMethod} choices={METHODS} />
        <TextField label="Path" required placeholder="/api/v1/users" value={path} onValue={setPath} />
        <TextField label="Client IP" required value={ip} onValue={setIp} />
        <TextField label="User email (optional)" type="email" value={user} onValue={setUser} />
        <TextField label="API key id (optional)" value={apiKey} onValue={setApiKey} />
        <button type="submit" class="primary" disabled={action.busy}>
          Test
        </button>
      </Form>
      <ErrorNote error={action.error} />
      {result ? <TestOutcome result={result} /> : null}
    </section>
  )
}

function TestOutcome({ result }: { result: TestResult }) {
  return (
    <div role="status">
      <p>
        <span class={`badge ${result.allowed ? 'pass' : 'fail'}`}>{result.allowed ? 'admitted' : 'refused'}</span>
        {result.decidedBy ? (
          <>
            {result.allowed ? 'most restrictive rule: ' : 'refused by '}
            <strong>{result.decidedBy}</strong>
          </>
        ) : (
          'no rule applies'
        )}
        <span class="muted">{result.shared ? ' — budgets shared by every instance (Redis)' : ' — budgets of this instance only'}</span>
      </p>
      <Table
        caption="Each rule's part in the decision"
        captionClass="sr-only"
        columns={['Rule', 'Matched', 'Key', 'Mode', 'Figures', 'Override', 'Would admit', 'Remaining', 'Retry after']}
      >
        {result.steps.map((step) => (
          <tr key={step.rule}>
            <th scope="row">
              {step.rule} <span class="muted">({SOURCE_LABEL[step.source]})</span>
            </th>
            <td>{step.matched ? 'yes' : <span class="muted">no{step.reason ? `: ${step.reason}` : ''}</span>}</td>
            <td>
              <code>{step.key}</code>
            </td>
            <td>{step.mode === 'shadow' ? <span class="badge shadow">shadow</span> : 'enforce'}</td>
            <td>{step.limit !== null ? `${step.limit} per ${step.window ?? '?'}, burst ${step.burst ?? step.limit}` : <span class="muted">—</span>}</td>
            <td>{step.override ?? <span class="muted">—</span>}</td>
            <td>
              {step.wouldAdmit === undefined ? (
                <span class="muted">—</span>
              ) : (
                <span class={`badge ${step.wouldAdmit ? 'pass' : step.mode === 'shadow' ? 'shadow' : 'fail'}`}>{step.wouldAdmit ? 'yes' : 'no'}</span>
              )}
            </td>
            <td>{step.remaining ?? <span class="muted">—</span>}</td>
            <td>{step.retryAfter !== undefined ? `${step.retryAfter} s` : <span class="muted">—</span>}</td>
          </tr>
        ))}
      </Table>
    </div>
  )
}
