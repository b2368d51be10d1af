/**
 * The page a problem's `type` points at (`/api/problems#error-rate-limited`): every code of the catalog with
 * its title, HTTP status, CLI exit code and next step, one anchor per code, so a person who meets a problem
 * can look it up on the server that answered it. Built from the catalog, so it never disagrees with the
 * answers; docs/errors.md is the same table for readers of the repository.
 */
import escapeHtml from 'escape-html'
import { errorCodes, GantryError, type ErrorCode } from '../core/errors.js'

/** The anchor of a code on the page (and in docs/errors.md): `error-rate-limited`. */
export function problemAnchor(code: ErrorCode): string {
  return `error-${code.toLowerCase().replaceAll('_', '-')}`
}

/** The HTML of the page; `version` is the server's. */
export function problemsPage(version: string): string {
  const rows = errorCodes.map((code) => {
    // The catalog's fields of the code (the message is not read).
    const { title, status, exit, hint } = new GantryError(code, code)
    const cells = [`<code>${code}</code>`, escapeHtml(title), String(status), String(exit), escapeHtml(hint ?? '')]
    return `<tr id="${problemAnchor(code)}">${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`
  })
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Gantry ${escapeHtml(version)}: problem types</title></head>
<body><h1>Problem types</h1>
<p>Each error this server answers (RFC 9457 <code>application/problem+json</code>) names its row here in
<code>type</code>; <code>code</code> is the same name for programs, <code>title</code> the phrase below, and the
request id in <code>requestId</code> and <code>instance</code> finds the occurrence in the server's log.</p>
<table><thead><tr><th>code</th><th>title</th><th>HTTP</th><th>CLI exit</th><th>next step</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></body></html>
`
}
