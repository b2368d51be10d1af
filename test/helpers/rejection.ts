import { expect } from 'chai'
import { errorCodes, type GantryError } from '../../src/core/errors.js'

/**
 * The error a promise rejects with; fails when it resolves, or rejects with anything but a catalog error
 * (whatever a service refuses reaches every door as one, never a raw error). Checked by shape, not
 * instanceof: under tsx a module reached by a dynamic import() is a second copy of the one a test file
 * imports, with a GantryError class of its own.
 */
export async function rejection(promise: Promise<unknown>): Promise<GantryError> {
  try {
    await promise
  } catch (err) {
    expect(err, 'a catalog error').to.have.property('name', 'GantryError')
    expect(errorCodes, 'a catalog code').to.include((err as { code?: unknown }).code)
    return err as GantryError
  }
  throw new Error('expected a rejection')
}
