// src/transports/chat/remember.ts — a bounded memory of recent keys for the chat adapters (prompts a
// reaction may answer, ids already sent): the newest entries are kept, the oldest dropped past `limit`.
export const remember = <V>(
  map: ReadonlyMap<string, V>,
  key: string,
  value: V,
  limit = 1000,
): Map<string, V> => {
  const next = new Map(map).set(key, value)
  for (const oldest of next.keys()) {
    if (next.size <= limit) break
    next.delete(oldest)
  }
  return next
}
