/**
 * `make` memoised by key for the length of a bench run: the benchmarks of a group share one workspace per
 * key instead of each making its own. A failed making is forgotten, so the next benchmark tries again.
 */
export function oncePerRun(make) {
  const made = new Map()
  return (root, key) => {
    if (!made.has(key)) {
      const making = make(root, key)
      made.set(key, making)
      making.catch(() => made.delete(key))
    }
    return made.get(key)
  }
}
