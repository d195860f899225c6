// web/src/views/lines.ts — a bounded list of lines (the logs page keeps at most 2,000): new lines are
// appended and the oldest dropped past the cap. Pure; used by LogsPage.tsx.

export const appendCapped = <A>(lines: ReadonlyArray<A>, more: ReadonlyArray<A>, cap: number): Array<A> => {
  if (more.length >= cap) return more.slice(more.length - cap)
  const keep = Math.max(0, lines.length + more.length - cap)
  return [...lines.slice(keep), ...more]
}
