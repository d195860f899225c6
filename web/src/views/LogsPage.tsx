// web/src/views/LogsPage.tsx — the server's log, live (`Logs` stream): a level and a text filter (applied
// by the server), at most 2,000 lines kept, rendered as a virtualised list that follows the end.
import { useVirtualizer } from "@tanstack/react-virtual"
import { useEffect, useRef, useState } from "react"
import type { LogLine } from "../../../src/protocol/uiRpcs.js"
import { followStream } from "./followStream.js"
import { clock } from "./format.js"
import { appendCapped } from "./lines.js"
import type { PageProps } from "./pages.js"
import "./views.css"

/** Lines kept in memory; older ones go. */
export const maxLogLines = 2_000
const levels = ["All", "Error", "Warning", "Info", "Debug", "Trace"] as const
const rowHeight = 20

type Status = "connecting" | "live" | "reconnecting" | { readonly refused: string }

/** The stream's lines, at most `maxLogLines`, applied to React state at most once a frame. */
const useLogLines = (level: string, text: string) => {
  const [lines, setLines] = useState<ReadonlyArray<LogLine>>([])
  const [status, setStatus] = useState<Status>("connecting")
  useEffect(() => {
    let incoming: Array<LogLine> = []
    let reset = true
    let cancel: (() => void) | undefined
    const flush = () => {
      cancel = undefined
      const more = incoming
      const from = reset
      incoming = []
      reset = false
      setLines((old) => appendCapped(from ? [] : old, more, maxLogLines))
    }
    const schedule = () => {
      if (cancel !== undefined) return
      // A hidden tab runs no animation frames: its lines are applied in batches instead.
      if (document.visibilityState === "visible") {
        const frame = requestAnimationFrame(flush)
        cancel = () => cancelAnimationFrame(frame)
      } else {
        const timer = setTimeout(flush, 250)
        cancel = () => clearTimeout(timer)
      }
    }
    setStatus("connecting")
    setLines([])
    const stop = followStream((client) => client.Logs({ level, ...(text === "" ? {} : { text }) }), {
      // A new subscription starts with the recent lines again: they replace what was shown.
      restart: () => {
        incoming = []
        reset = true
        setStatus("live")
      },
      element: (line) => {
        incoming.push(line)
        if (incoming.length > maxLogLines) incoming = incoming.slice(-maxLogLines)
        schedule()
      },
      dropped: () => setStatus("reconnecting"),
      refused: (message) => setStatus({ refused: message }),
    })
    return () => {
      stop()
      cancel?.()
    }
  }, [level, text])
  return { lines, status }
}

const LogList = ({ lines }: { readonly lines: ReadonlyArray<LogLine> }) => {
  const parent = useRef<HTMLDivElement>(null)
  const following = useRef(true)
  const rows = useVirtualizer({
    count: lines.length,
    getScrollElement: () => parent.current,
    estimateSize: () => rowHeight,
    overscan: 20,
  })
  useEffect(() => {
    if (following.current && lines.length > 0) rows.scrollToIndex(lines.length - 1, { align: "end" })
  }, [lines, rows])
  return (
    <div
      ref={parent}
      className="log-lines"
      role="log"
      aria-label="Server log"
      tabIndex={0}
      onScroll={(e) => {
        const el = e.currentTarget
        following.current = el.scrollHeight - el.scrollTop - el.clientHeight < rowHeight * 2
      }}
    >
      <div style={{ height: rows.getTotalSize(), position: "relative" }}>
        {rows.getVirtualItems().map((row) => {
          const line = lines[row.index]
          return line === undefined ? null : (
            <div
              key={row.index}
              className={`log-line level-${line.level.toLowerCase()}`}
              style={{ transform: `translateY(${row.start}px)`, height: rowHeight }}
            >
              <span className="log-time">{clock(line.time)}</span>{" "}
              <span className="log-level">{line.level.toUpperCase().padEnd(7)}</span>{" "}
              <span className="log-component">[{line.component}]</span> {line.message}
            </div>
          )
        })}
      </div>
    </div>
  )
}

export const LogsPage = (_: PageProps) => {
  const [level, setLevel] = useState<string>("Info")
  const [typed, setTyped] = useState("")
  const [text, setText] = useState("")
  useEffect(() => {
    // The filter is the server's: ask again once typing pauses, not at every key.
    const timer = setTimeout(() => setText(typed.trim()), 300)
    return () => clearTimeout(timer)
  }, [typed])
  const { lines, status } = useLogLines(level, text)
  return (
    <section aria-labelledby="page-title" className="page logs-page">
      <h1 id="page-title">Logs</h1>
      <div className="toolbar">
        <label>
          Level{" "}
          <select value={level} onChange={(e) => setLevel(e.target.value)}>
            {levels.map((l) => (
              <option key={l} value={l}>
                {l === "All" ? "All" : `${l} and above`}
              </option>
            ))}
          </select>
        </label>
        <label>
          Filter <input type="search" value={typed} onChange={(e) => setTyped(e.target.value)} />
        </label>
        <span className="muted" role="status" aria-live="polite">
          {typeof status === "object"
            ? ""
            : status === "live"
              ? `${lines.length} lines`
              : status === "connecting"
                ? "waiting for lines…"
                : "connection lost; reconnecting…"}
        </span>
      </div>
      {typeof status === "object" ? (
        <p role="alert" className="problem">
          {status.refused}
        </p>
      ) : null}
      <LogList lines={lines} />
    </section>
  )
}
