/**
 * The HTTP API's wording of next steps for input problems (InputProblem in a core error's `details`):
 * request body fields, where the CLI names its flags (src/cli/hints.ts).
 */
import type { HintWording } from '../core/errors.js'

const quoted = (fields: unknown): string => (Array.isArray(fields) ? fields.map((f) => `"${String(f)}"`).join(', ') : '')

export const HTTP_HINTS: HintWording = {
  'MISSING_INPUT:password-missing': () => 'Send "password", or "generatePassword": true.',
  'PASSWORD_POLICY:password-common': () => 'Pick one nobody else uses, or send "generatePassword": true.',
  'INVALID_INPUT:flag-variants-missing': () => 'Send "variants", e.g. [{"name": "blue", "value": "#0000ff"}, {"name": "green", "value": "#00ff00"}].',
  'INVALID_INPUT:rule-incomplete': (d) => `Send ${quoted(d.fields)} in the body, e.g. {"match": "* /api/*", "limit": 100, "window": "1m"}.`,
  'INVALID_INPUT:rule-key-mismatch': (d) => `Send a "rule" keyed on ${String(d.subjectType)}, or "*".`,
  'INVALID_INPUT:ttl-too-long': () => 'Send a shorter "ttl", or raise auth.maxTokenTtl in the server\'s gantry.config.json.',
  'INVALID_INPUT:duration-not-positive': (d) => `Send a positive duration in ${quoted(d.fields)}, such as "30d".`,
}
