/** The virtual module scripts/console-build.mjs makes from the compiled sources: what the console knows of Gantry. */
declare module 'gantry:catalog' {
  import type { OperationName } from '../../src/admin/operations/index.js'

  export interface OperationRoute {
    readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
    readonly path: string
    /** Whether the first argument is the target (its fields fill the path's `:name` segments). */
    readonly target: boolean
    /** Whether the input travels as a JSON body (else as the query string). */
    readonly body: boolean
  }
  /** Each admin operation's route (the operation table). */
  export const routes: Readonly<Record<OperationName, OperationRoute>>
  /** Gantry's own permissions (GANTRY_PERMISSIONS). */
  export const permissions: readonly string[]
  /** The webhook event areas (`users.*`, and `*` for all), each with the permission that receives it. */
  export const eventAreas: ReadonlyArray<{ readonly pattern: string; readonly permission: string }>
}
