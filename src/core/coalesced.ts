/**
 * One run at a time of an async job that may be asked for again while it runs (a reload on every change
 * announcement and every poll): a request during a run makes it run once more after, so none is lost, and
 * any number of requests during one run make one more run, not as many.
 */
export function coalesced(run: () => Promise<void>, onError: (err: unknown) => void): () => Promise<void> {
  let running: Promise<void> | undefined
  let again = false
  return () => {
    if (running) {
      again = true
      return running
    }
    running = (async () => {
      do {
        again = false
        await run().catch(onError)
      } while (again)
    })().finally(() => {
      running = undefined
    })
    return running
  }
}
