/**
 * Who performs a service call, for permissions and the audit log: a user, an API key, an OAuth client, or a local CLI
 * operator (`local:<os user>@<host>`, full permissions: whoever holds the database credentials holds the data).
 */
export interface ActorContext {
  /** As written to the audit log: `user:<id>`, `apikey:<key id>`, `client:<client id>`, `local:<user>@<host>`, `anonymous`. */
  readonly actor: string
  /** The permissions the actor holds; `['*']` for local operators. */
  readonly permissions: readonly string[]
  /** Client address for HTTP calls. */
  readonly ip?: string | undefined
  /** The user behind a token, or the owner of an API key (rate-limit key `user`). */
  readonly userId?: number | undefined
  /** The API key used (rate-limit key `apiKey`). */
  readonly apiKeyId?: string | undefined
  /** The OAuth client whose access token was presented (its owner is `userId`). */
  readonly clientId?: string | undefined
  /** When the presented credential stops working (ms since the epoch): the token's exp, the key's expiry. */
  readonly expiresAt?: number | undefined
}

/** The context of a local CLI run. */
export function localContext(actor: string): ActorContext {
  return { actor, permissions: ['*'] }
}

/** A caller who presented no credentials: holds no permission. */
export function anonymousContext(ip?: string): ActorContext {
  return { actor: 'anonymous', permissions: [], ip }
}
