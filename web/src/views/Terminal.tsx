// web/src/views/Terminal.tsx — an agent's live terminal: xterm.js fed by the Terminal stream (the
// session log's scrollback, then output as it is written, then the end), written at the screen's pace
// with bounded memory, and a picker for the item's past sessions. Loaded lazily by the item page.
import { FitAddon } from "@xterm/addon-fit"
import { Terminal as XTerm, type ITheme } from "@xterm/xterm"
import "@xterm/xterm/css/xterm.css"
import { useEffect, useRef, useState } from "react"
import type { Outcome } from "../../../src/domain/ExecutionState.js"
import type { StoryId } from "../../../src/domain/StoryId.js"
import type { Card, SessionSummary } from "../../../src/protocol/uiRpcs.js"
import { call } from "../api/client.js"
import { useBoard } from "../state/useBoard.js"
import { followStream } from "./followStream.js"
import { dateTime } from "./format.js"
import { animationFrames, FrameWriter } from "./outputBuffer.js"
import "./terminal.css"

/** Lines xterm keeps above the screen; older ones go, so a long session never grows the page. */
const scrollbackLines = 5_000

export interface TerminalProps {
  readonly id: string
  /** The session to show first; without it, the running session or else the latest. */
  readonly session?: number
  /** Whose session `session` is, when several agents have one of that number. */
  readonly agent?: string
  /** The item's sessions, when the caller has them; otherwise they are read with `Item`. */
  readonly sessions?: ReadonlyArray<SessionSummary>
}

type Status =
  | { readonly _tag: "connecting" }
  | { readonly _tag: "streaming" }
  | { readonly _tag: "reconnecting" }
  | { readonly _tag: "ended"; readonly outcome: Outcome | undefined }
  | { readonly _tag: "refused"; readonly message: string }

type Choice = { readonly session: number; readonly agent?: string } | undefined

const latest = "latest"
const choiceKey = (c: Choice): string => (c === undefined ? latest : `${c.session}|${c.agent ?? ""}`)
const parseChoice = (key: string): Choice => {
  if (key === latest) return undefined
  const [n, agent] = key.split("|")
  return { session: Number(n), ...(agent === undefined || agent === "" ? {} : { agent }) }
}

const themeFromPage = (): ITheme => {
  const css = getComputedStyle(document.documentElement)
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback
  const background = v("--panel", "#ffffff")
  const foreground = v("--text", "#1d2330")
  return { background, foreground, cursor: foreground, selectionBackground: v("--line", "#d9dde5") }
}

/** The agent and start of the run in progress on the card, if one is. */
const liveRun = (card: Card | undefined): string | undefined => {
  for (const state of Object.values(card?.execution ?? {}))
    if (state._tag === "Running") return `${state.agent}@${state.startedAt}`
  return undefined
}

const statusText = (status: Status): string => {
  switch (status._tag) {
    case "connecting":
      return "connecting…"
    case "streaming":
      return "streaming"
    case "reconnecting":
      return "connection lost; reconnecting…"
    case "ended":
      return status.outcome === undefined ? "session ended" : `session ended: ${status.outcome}`
    case "refused":
      return status.message
  }
}

const sessionLabel = (s: SessionSummary): string =>
  `Session ${s.session} · ${s.agent} (${s.role})${s.startedAt === undefined ? "" : ` · ${dateTime(s.startedAt)}`} · ${s.running ? "running" : (s.outcome ?? "ended")}`

/** The item's sessions: the caller's, or read with `Item` and again (debounced) when its card changes. */
const useSessions = (id: string, given: ReadonlyArray<SessionSummary> | undefined) => {
  const card = useBoard().cards.get(id)
  const [read, setRead] = useState<ReadonlyArray<SessionSummary>>([])
  useEffect(() => {
    if (given !== undefined) return
    let current = true
    const timer = setTimeout(() => {
      // The item id came from the page's route; the server decodes it and refuses a bad one.
      void call((c) => c.Item({ id: id as StoryId })).then((r) => {
        if (current && r.ok) setRead(r.value.sessions)
      })
    }, 300)
    return () => {
      current = false
      clearTimeout(timer)
    }
  }, [id, given, card])
  return { sessions: given ?? read, card }
}

const picked = (session: number | undefined, agent: string | undefined): Choice =>
  session === undefined ? undefined : { session, ...(agent === undefined ? {} : { agent }) }

export function Terminal({ id, session, agent, sessions: given }: TerminalProps) {
  const host = useRef<HTMLDivElement>(null)
  const screen = useRef<{ readonly term: XTerm; readonly writer: FrameWriter } | null>(null)
  const [status, setStatus] = useState<Status>({ _tag: "connecting" })
  const [choice, setChoice] = useState<Choice>(picked(session, agent))
  const { sessions, card } = useSessions(id, given)

  // Following the latest session: a new run on the card starts the stream again on its session.
  const run = liveRun(card)
  const [followed, setFollowed] = useState(run)
  useEffect(() => {
    if (run !== undefined && run !== followed) setFollowed(run)
  }, [run, followed])

  useEffect(() => setChoice(picked(session, agent)), [session, agent])

  useEffect(() => {
    const element = host.current
    if (element === null) return
    const term = new XTerm({
      scrollback: scrollbackLines,
      disableStdin: true,
      cursorBlink: false,
      convertEol: true,
      fontSize: 13,
      theme: themeFromPage(),
    })
    const fit = new FitAddon()
    term.loadAddon(fit)
    term.open(element)
    const writer = new FrameWriter((text, done) => term.write(text, done), animationFrames)
    let resizing: (() => void) | undefined
    const refit = () => {
      resizing = undefined
      fit.fit()
    }
    refit()
    const resized = new ResizeObserver(() => {
      resizing ??= animationFrames(refit)
    })
    resized.observe(element)
    const scheme = window.matchMedia("(prefers-color-scheme: dark)")
    const recolour = () => {
      term.options.theme = themeFromPage()
    }
    scheme.addEventListener("change", recolour)
    screen.current = { term, writer }
    return () => {
      screen.current = null
      scheme.removeEventListener("change", recolour)
      resized.disconnect()
      resizing?.()
      writer.dispose()
      term.dispose()
    }
  }, [])

  const key = choiceKey(choice)
  const follow = choice === undefined ? followed : undefined
  useEffect(() => {
    const shown = screen.current
    if (shown === null) return
    const picked = parseChoice(key)
    let ended = false
    setStatus({ _tag: "connecting" })
    return followStream(
      (client) =>
        client.Terminal({
          id: id as StoryId,
          ...(picked === undefined ? {} : { session: picked.session }),
          ...(picked?.agent === undefined ? {} : { agent: picked.agent }),
        }),
      {
        // Each attempt starts from the session's scrollback: what an earlier one showed goes first.
        restart: () => {
          ended = false
          shown.writer.clear()
          shown.term.reset()
          setStatus({ _tag: "streaming" })
        },
        element: (chunk) => {
          if (chunk._tag === "Ended") {
            ended = true
            setStatus({ _tag: "ended", outcome: chunk.outcome })
          } else shown.writer.push(chunk.text)
        },
        dropped: () => setStatus({ _tag: "reconnecting" }),
        refused: (message) => setStatus({ _tag: "refused", message }),
        finished: () => ended,
      },
    )
  }, [id, key, follow])

  const options = [...sessions].sort((a, b) => b.session - a.session || a.agent.localeCompare(b.agent))
  // A session picked by number alone shows as its option when one agent has a session of that number.
  const only = options.filter((s) => s.session === choice?.session)
  const shownKey =
    choice !== undefined && choice.agent === undefined && only.length === 1 && only[0] !== undefined
      ? choiceKey({ session: choice.session, agent: only[0].agent })
      : key
  return (
    <div className="terminal">
      <div className="terminal-bar">
        <label>
          Session{" "}
          <select value={shownKey} onChange={(e) => setChoice(parseChoice(e.target.value))}>
            <option value={latest}>Running or latest</option>
            {options.map((s) => (
              <option
                key={`${s.session}|${s.agent}`}
                value={choiceKey({ session: s.session, agent: s.agent })}
              >
                {sessionLabel(s)}
              </option>
            ))}
          </select>
        </label>
        <span className={`terminal-status terminal-${status._tag}`} role="status" aria-live="polite">
          {status._tag === "refused" && sessions.length === 0
            ? "no session yet: an agent's output shows here when one starts"
            : statusText(status)}
        </span>
      </div>
      <div ref={host} className="terminal-screen" role="log" aria-label="Agent output" />
    </div>
  )
}

export default Terminal
