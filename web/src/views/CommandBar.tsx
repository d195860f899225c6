// web/src/views/CommandBar.tsx — the header's command line: a chat command ("move 12 done", "start 12
// coder-1") goes to `Command`, parsed by the same parser as the chat bots; the reply or refusal shows in
// a small panel. "/" anywhere focuses it; up and down walk the lines sent before.
import { type KeyboardEvent, useEffect, useRef, useState } from "react"
import { call } from "../api/client.js"
import "./header.css"

const historyLimit = 50

/** The next history position for an arrow key; `at === lines.length` is the line being typed. */
export const stepHistory = (lines: number, at: number, key: "ArrowUp" | "ArrowDown"): number =>
  key === "ArrowUp" ? Math.max(0, at - 1) : Math.min(lines, at + 1)

const typingIn = (target: EventTarget | null): boolean =>
  target instanceof HTMLElement &&
  (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))

export const CommandBar = () => {
  const input = useRef<HTMLInputElement>(null)
  const [text, setText] = useState("")
  const [sent, setSent] = useState<ReadonlyArray<string>>([])
  const [at, setAt] = useState(0)
  // What was being typed before walking back through history, restored on the way down.
  const draft = useRef("")
  const [busy, setBusy] = useState(false)
  const [reply, setReply] = useState<{ readonly ok: boolean; readonly text: string; readonly line: string }>()

  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey || typingIn(e.target)) return
      e.preventDefault()
      input.current?.focus()
    }
    window.addEventListener("keydown", onKey)
    return () => window.removeEventListener("keydown", onKey)
  }, [])

  const send = async () => {
    const line = text.trim()
    if (line === "" || busy) return
    const history = [...sent.filter((l) => l !== line), line].slice(-historyLimit)
    setSent(history)
    setAt(history.length)
    draft.current = ""
    setBusy(true)
    const outcome = await call((c) => c.Command({ text: line }))
    setBusy(false)
    setReply(
      outcome.ok ? { ok: true, text: outcome.value.message, line } : { ok: false, text: outcome.error, line },
    )
    if (outcome.ok) setText("")
  }

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "Escape") {
      if (reply !== undefined) setReply(undefined)
      else input.current?.blur()
      return
    }
    if (e.key !== "ArrowUp" && e.key !== "ArrowDown") return
    if (sent.length === 0) return
    e.preventDefault()
    if (at === sent.length) draft.current = text
    const next = stepHistory(sent.length, at, e.key)
    setAt(next)
    setText(next === sent.length ? draft.current : (sent[next] ?? ""))
  }

  return (
    <div className="command-bar">
      <form
        role="search"
        aria-label="Command bar"
        onSubmit={(e) => {
          e.preventDefault()
          void send()
        }}
      >
        <input
          ref={input}
          type="text"
          aria-label="Command"
          aria-keyshortcuts="/"
          placeholder="Command (press /)"
          autoComplete="off"
          spellCheck={false}
          value={text}
          readOnly={busy}
          onChange={(e) => {
            setText(e.target.value)
            setAt(sent.length)
          }}
          onKeyDown={onKeyDown}
        />
      </form>
      {reply !== undefined ? (
        <div
          className={`command-reply ${reply.ok ? "ok" : "refused"}`}
          aria-label="Command reply"
          role="region"
        >
          <p className="command-line">&gt; {reply.line}</p>
          <p role={reply.ok ? "status" : "alert"}>{reply.text}</p>
          <button type="button" onClick={() => setReply(undefined)} aria-label="Close command reply">
            ✕
          </button>
        </div>
      ) : null}
    </div>
  )
}
