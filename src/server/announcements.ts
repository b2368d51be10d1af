/**
 * A change announcement heard from the runtime's Redis subscription, in the synchronous shape the live rules
 * and flags take: the subscription opens in the background (a Redis away at start must not hold the server
 * up: the poll covers), and an unsubscribe that comes before it opened closes it once it does.
 */
export function backgroundSubscription(open: (onChange: () => void) => Promise<() => void>): (onChange: () => void) => () => void {
  return (onChange) => {
    let unsubscribe: (() => void) | undefined
    let closed = false
    void open(onChange).then((off) => (closed ? off() : (unsubscribe = off)))
    return () => {
      closed = true
      unsubscribe?.()
    }
  }
}
