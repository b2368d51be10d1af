/** What a rejection is read as: a catalog error's code and details when it is one, a driver's error otherwise. */
export type Rejection = Error & { code?: string; status?: number; details?: Readonly<Record<string, unknown>> }

/**
 * The error a promise rejects with; fails when it resolves. Tests compare codes, not classes: under tsx a
 * module reached by a dynamic import() is a second copy of the one a test file imports, with a
 * GantryError class of its own.
 */
export async function rejection(promise: Promise<unknown>): Promise<Rejection> {
  try {
    await promise
  } catch (err) {
    return err as Rejection
  }
  throw new Error('expected a rejection')
}
