import type { ActorContext } from '../core/context.js'
import type { Services } from '../core/services.js'
import type { AdminApi } from './admin-api.js'

/**
 * The AdminApi straight over the services, as one actor (a local operator: `localContext(localActor())`).
 * Every failure passes through `translateError` (the runtime names a missing schema and how to create it).
 */
export function createLocalAdmin(services: Services, ctx: ActorContext, translateError: (err: unknown) => unknown): AdminApi {
  const { users, roles, audit, userImport, userExport, apikeys, sessions, signingKeys, maintenance, rateLimits } = services
  return translating<AdminApi>(translateError, {
    users: {
      create: (input) => users.create(ctx, input),
      list: (input) => users.list(ctx, input),
      get: (email) => users.get(ctx, email),
      update: (email, patch) => users.update(ctx, email, patch),
      disable: (email) => users.disable(ctx, email),
      enable: (email) => users.enable(ctx, email),
      delete: (email) => users.delete(ctx, email),
      setPassword: (email, input) => users.setPassword(ctx, email, input),
      unlock: (email) => users.unlock(ctx, email),
      import: (source, input, onProgress) => userImport.importUsers(ctx, source, input, onProgress),
      export: (input, onPage) => userExport.exportUsers(ctx, input, onPage),
    },
    roles: {
      list: () => roles.list(ctx),
      get: (name) => roles.get(ctx, name),
      create: (input) => roles.create(ctx, input),
      update: (name, input) => roles.update(ctx, name, input),
      delete: (name) => roles.delete(ctx, name),
    },
    audit: {
      list: (input) => audit.list(ctx, input),
    },
    apikeys: {
      create: (input) => apikeys.create(ctx, input),
      list: (input) => apikeys.list(ctx, input),
      revoke: (keyId) => apikeys.revoke(ctx, keyId),
      rotate: (keyId, input) => apikeys.rotate(ctx, keyId, input),
    },
    tokens: {
      issue: (email, input) => sessions.issueScriptToken(ctx, email, input),
      revoke: (email) => sessions.revokeUserSessions(ctx, email),
      keys: {
        list: () => signingKeys.list(ctx),
        rotate: () => signingKeys.rotate(ctx),
      },
    },
    maintenance: {
      status: () => maintenance.status(ctx),
      on: (input) => maintenance.on(ctx, input),
      off: () => maintenance.off(ctx),
    },
    rateLimits: {
      list: () => rateLimits.list(ctx),
      set: (name, input) => rateLimits.set(ctx, name, input),
      remove: (name) => rateLimits.remove(ctx, name),
      override: (input) => rateLimits.override(ctx, input),
      removeOverride: (input) => rateLimits.removeOverride(ctx, input),
      export: () => rateLimits.export(ctx),
      apply: (input) => rateLimits.apply(ctx, input),
      test: (input) => rateLimits.test(ctx, input),
    },
  })
}

/** `api` with each operation's failure, a rejection or a throw, passed through `translate`, at any depth. */
function translating<T>(translate: (err: unknown) => unknown, api: T): T {
  const wrap = (value: unknown): unknown => {
    if (typeof value === 'function') {
      const operation = value as (...args: unknown[]) => unknown
      return (...args: unknown[]) => {
        try {
          const result = operation(...args)
          return result instanceof Promise ? result.catch((err: unknown) => Promise.reject(translate(err))) : result
        } catch (err) {
          throw translate(err)
        }
      }
    }
    if (value === null || typeof value !== 'object') return value
    return Object.fromEntries(Object.entries(value).map(([key, member]) => [key, wrap(member)]))
  }
  return wrap(api) as T
}
