// Runs work over items with at most `jobs` at a time. The first failure stops new work,
// waits for what is running (no transfer is left dangling) and is rethrown.

export async function forEachLimit<T>(
  items: readonly T[],
  jobs: number,
  work: (item: T, index: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  let next = 0
  let failure: { error: unknown } | undefined
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      if (signal?.aborted) {
        failure ??= { error: signal.reason }
        return
      }
      const index = next++
      try {
        await work(items[index]!, index)
      } catch (error) {
        failure ??= { error }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker))
  if (failure) throw failure.error
}
