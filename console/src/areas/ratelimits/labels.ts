/** How a rule's source and its behaviour when the store fails read on the page. */
import type { RuleView } from '../../../../src/core/ratelimits/ratelimits.schema.js'

export const SOURCE_LABEL: Record<RuleView['source'], string> = { builtin: 'built-in', config: 'config default', database: 'stored' }
export const STORE_ERROR_LABEL: Record<RuleView['onStoreError'], string> = {
  open: 'fail open (admit)',
  closed: 'fail closed (503)',
  local: 'local (this instance only)',
}
