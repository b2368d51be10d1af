/**
 * The app's own events (`gantry.events.emit('orders.created', payload)`): written to the outbox like
 * Gantry's, inside the app's transaction when it passes one, so an event is sent if and only if its change
 * committed. The types are the app's (`orders.*`), never one of Gantry's areas, and the payload is any JSON
 * value up to MAX_PAYLOAD_BYTES.
 */
import type { Knex } from 'knex'
import type { Clock } from '../clock.js'
import { GantryError } from '../errors.js'
import { appEventType, GANTRY_EVENT_AREAS } from './event-types.js'
import type { EventOutbox } from './outbox.js'

/** A receiver is sent the whole body at every attempt: keep events small, and link to the rest. */
export const MAX_PAYLOAD_BYTES = 256 * 1024

export interface AppEvents {
  /** Queues the event for every endpoint subscribed to its type; inside `trx` when given, else in a transaction of its own. */
  emit(type: string, payload: unknown, options?: { trx?: Knex | undefined }): Promise<void>
}

export function createAppEvents(deps: { knex: Knex; clock: Clock; outbox: EventOutbox }): AppEvents {
  return {
    async emit(type, payload, options = {}) {
      const checked = appEventType(type, GANTRY_EVENT_AREAS)
      let text: string | undefined
      try {
        text = JSON.stringify(payload)
      } catch (cause) {
        throw new GantryError('INVALID_INPUT', `The payload of ${checked} is not JSON (${(cause as Error).message}).`, { cause })
      }
      if (text === undefined) throw new GantryError('INVALID_INPUT', `The payload of ${checked} is not a JSON value.`)
      if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) {
        throw new GantryError(
          'INVALID_INPUT',
          `The payload of ${checked} is larger than ${MAX_PAYLOAD_BYTES / 1024} KB: send an id and let the receiver fetch the rest.`,
        )
      }
      const event = { type: checked, data: JSON.parse(text) as unknown }
      const write = (trx: Knex) => deps.outbox.write(trx, [event], deps.clock.now())
      await (options.trx ? write(options.trx) : deps.knex.transaction(write))
    },
  }
}
