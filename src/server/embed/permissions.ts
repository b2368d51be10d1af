/**
 * The permissions an app names in `requirePermission`: checked when the route is set up, so a typo
 * (`orders:wirte`) stops the app at start instead of refusing every caller at run time.
 */
import { GantryError } from '../../core/errors.js'
import { GANTRY_PERMISSIONS, permissionSchema } from '../../core/roles/permissions.js'

/** A concrete `resource:action` (no wildcard: a route requires one thing), or INVALID_INPUT naming `what`. */
function concrete(permission: string, what: string): string {
  const parsed = permissionSchema.safeParse(permission)
  if (!parsed.success || parsed.data.includes('*') || parsed.data !== permission) {
    throw new GantryError('INVALID_INPUT', `${what} "${permission}" is not a permission: write resource:action in lower case, without *, e.g. orders:write.`)
  }
  return parsed.data
}

/**
 * The check behind requirePermission: validates the app's declared list once, then tells whether a name
 * may be required — any concrete name when the app declared none, else a declared or a Gantry permission.
 */
export function permissionCatalog(declared: readonly string[] | undefined): (permission: string) => string {
  const known = declared && new Set([...declared.map((p) => concrete(p, 'The declared permission')), ...GANTRY_PERMISSIONS])
  return (permission) => {
    concrete(permission, 'requirePermission:')
    if (known && !known.has(permission)) {
      throw new GantryError('INVALID_INPUT', `requirePermission: "${permission}" is neither one of the app's declared permissions nor a Gantry permission.`, {
        hint: `Declared: ${declared?.join(', ') || '(none)'}. Fix the name, or add it to createGantry({ permissions }).`,
      })
    }
    return permission
  }
}
