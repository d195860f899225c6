// web/src/views/backoff.ts — how long a page waits before subscribing again to a stream that dropped.
// Pure; used by followStream.ts.

/** The wait before attempt `failures` + 1: 250 ms doubling, at most 5 s. */
export const backoffMillis = (failures: number): number =>
  Math.min(5_000, 250 * 2 ** Math.max(0, failures - 1))
