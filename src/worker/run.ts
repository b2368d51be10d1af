/**
 * `gantry worker`: the job worker alone, until SIGTERM or SIGINT, then the jobs in hand finish and the
 * runtime closes. It needs the environment's database and Gantry's tables, as the server does.
 */
import { systemClock } from '../core/clock.js'
import type { Runtime } from '../runtime.js'
import { startJobWorker } from './start.js'

export async function runWorker(runtime: Runtime): Promise<void> {
  const [services, logger] = await Promise.all([runtime.services(), runtime.logger()])
  const worker = await startJobWorker({ runtime, services, logger, clock: systemClock })
  logger.info({ environment: runtime.environment.name }, 'worker started')
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve)
    process.once('SIGINT', resolve)
  })
  logger.info({ signal }, 'worker stopping after the jobs in hand')
  await worker.stop()
  await runtime.close()
  logger.info('worker stopped')
}
