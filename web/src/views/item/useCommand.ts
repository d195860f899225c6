// web/src/views/item/useCommand.ts — runs one command of the item page at a time: `busy` while a call
// is in flight (the page disables its buttons), and the last reply or refusal, shown as the server said it.
import { useCallback, useRef, useState } from "react"
import type { Outcome } from "../../api/client.js"

export type Reply = { readonly ok: boolean; readonly text: string } | undefined

export interface Command {
  readonly busy: boolean
  readonly reply: Reply
  readonly setReply: (reply: Reply) => void
  /** Runs the call unless one is in flight; resolves to its outcome (undefined when it did not run). */
  readonly run: <A extends { readonly message: string }>(
    f: () => Promise<Outcome<A>>,
  ) => Promise<Outcome<A> | undefined>
}

export const useCommand = (onDone?: () => void): Command => {
  const [busy, setBusy] = useState(false)
  const [reply, setReply] = useState<Reply>()
  // A ref, not the state: two clicks in one frame both see the state of the render before them.
  const inFlight = useRef(false)
  const done = useRef(onDone)
  done.current = onDone
  const run = useCallback(async <A extends { readonly message: string }>(f: () => Promise<Outcome<A>>) => {
    if (inFlight.current) return undefined
    inFlight.current = true
    setBusy(true)
    setReply(undefined)
    try {
      const outcome = await f()
      setReply(outcome.ok ? { ok: true, text: outcome.value.message } : { ok: false, text: outcome.error })
      if (outcome.ok) done.current?.()
      return outcome
    } finally {
      inFlight.current = false
      setBusy(false)
    }
  }, [])
  return { busy, reply, setReply, run }
}

/** The reply of the last command: a refusal is an alert, a success a status message. */
export const replyProps = (reply: Reply) =>
  reply === undefined
    ? undefined
    : reply.ok
      ? ({ role: "status", className: "reply ok" } as const)
      : ({ role: "alert", className: "reply refused" } as const)
