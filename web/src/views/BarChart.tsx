// web/src/views/BarChart.tsx — a horizontal bar chart in plain SVG (no chart library): one bar per row,
// a rounded axis with ticks. Used by CostPage.tsx.
import { barLength, niceMax, ticks } from "./chart.js"

export interface Bar {
  readonly label: string
  readonly value: number
}

const rowHeight = 22
const labelWidth = 170
const plotWidth = 420
const axisHeight = 22

export const BarChart = ({
  bars,
  title,
  format,
}: {
  readonly bars: ReadonlyArray<Bar>
  readonly title: string
  readonly format: (n: number) => string
}) => {
  const top = niceMax(Math.max(0, ...bars.map((b) => b.value)))
  const height = bars.length * rowHeight + axisHeight
  const width = labelWidth + plotWidth + 60
  return (
    <svg
      className="chart"
      role="img"
      aria-label={title}
      viewBox={`0 0 ${width} ${height}`}
      width="100%"
      style={{ maxWidth: width }}
    >
      {ticks(top).map((t) => {
        const x = labelWidth + barLength(t, top, plotWidth)
        return (
          <g key={t} className="tick">
            <line x1={x} x2={x} y1={0} y2={height - axisHeight} />
            <text x={x} y={height - 6} textAnchor="middle">
              {format(t)}
            </text>
          </g>
        )
      })}
      {bars.map((b, i) => {
        const y = i * rowHeight
        const length = barLength(b.value, top, plotWidth)
        return (
          <g key={b.label}>
            <title>{`${b.label}: ${format(b.value)}`}</title>
            <text x={labelWidth - 6} y={y + rowHeight / 2 + 4} textAnchor="end" className="bar-label">
              {b.label.length > 26 ? `${b.label.slice(0, 25)}…` : b.label}
            </text>
            <rect x={labelWidth} y={y + 3} width={length} height={rowHeight - 6} rx={2} className="bar" />
            <text x={labelWidth + length + 4} y={y + rowHeight / 2 + 4} className="bar-value">
              {format(b.value)}
            </text>
          </g>
        )
      })}
    </svg>
  )
}
