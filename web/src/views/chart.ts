// web/src/views/chart.ts — the scale of the cost page's bar chart: a round axis maximum, its ticks and
// each bar's length. Pure; used by BarChart.tsx.

/** The smallest 1, 2, 2.5 or 5 times a power of ten that is at least `max` (1 for nothing to show). */
export const niceMax = (max: number): number => {
  if (!(max > 0) || !Number.isFinite(max)) return 1
  const power = 10 ** Math.floor(Math.log10(max))
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= max * (1 - 1e-9)) return step * power
  return 10 * power
}

/** `count` + 1 evenly spaced ticks from 0 to `top`. */
export const ticks = (top: number, count = 4): Array<number> =>
  Array.from({ length: count + 1 }, (_, i) => (top * i) / count)

/** A bar's length in pixels: proportional to `value` on an axis of `top`, at least 1 px when positive. */
export const barLength = (value: number, top: number, width: number): number => {
  if (!(value > 0) || !(top > 0)) return 0
  return Math.max(1, Math.min(width, (value / top) * width))
}
