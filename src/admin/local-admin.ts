import type { ActorContext } from '../core/context.js'
import type { Services } from '../core/services.js'
import type { AdminApi } from './admin-api.js'
import { callParts, type JsonOperation } from './operation.js'
import { OPERATIONS } from './operations/index.js'

/**
 * The AdminApi straight over the services, as one actor (a local operator: `localContext(localActor())`):
 * each operation's `run`, which checks what the route would. Every failure passes through `translateError`
 * (the runtime names a missing schema and how to create it).
 */
export function createLocalAdmin(services: Services, ctx: ActorContext, translateError: (err: unknown) => unknown): AdminApi {
  const translated = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work()
    } catch (err) {
      throw translateError(err)
    }
  }
  return {
    call: (name, ...args) => {
      const op = OPERATIONS[name] as JsonOperation
      const { params, input } = callParts(op, args)
      return translated(() => op.run(services, ctx, params as never, input as never)) as never
    },
    importUsers: (source, input, onProgress) => translated(() => services.userImport.importUsers(ctx, source, input, onProgress)),
    exportUsers: (input, onPage) => {
      try {
        return services.userExport.exportUsers(ctx, input, onPage)
      } catch (err) {
        throw translateError(err)
      }
    },
  }
}
