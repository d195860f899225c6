// web/src/views/item/Actions.tsx — what a person can do to an item from its page: move it, block or
// unblock it, start or stop its agent, schedule its start, delete it (after a confirmation naming it).
// Each is one command; a refusal is shown as the command layer worded it.
import { useEffect, useId, useRef, useState } from "react"
import type { StoryId } from "../../../../src/domain/StoryId.js"
import { call } from "../../api/client.js"
import { href } from "../../state/route.js"
import { type Command, type Reply, replyProps, useCommand } from "./useCommand.js"

const stages: ReadonlyArray<{ readonly name: string; readonly label: string; readonly tag: string }> = [
  { name: "backlog", label: "Backlog", tag: "Backlog" },
  { name: "coding", label: "Coding", tag: "Coding" },
  { name: "qa", label: "QA", tag: "Qa" },
  { name: "merge", label: "Merge", tag: "Merge" },
  { name: "done", label: "Done", tag: "Done" },
  { name: "archived", label: "Archived", tag: "Archived" },
]

export const ReplyLine = ({ reply }: { readonly reply: Reply }) => {
  const props = replyProps(reply)
  return props === undefined || reply === undefined ? null : <p {...props}>{reply.text}</p>
}

export interface ActionsProps {
  readonly id: StoryId
  readonly number: number
  readonly name: string
  readonly stage: string
  /** Called after a command succeeded: the page reads the item again. */
  readonly changed: () => void
}

export const Actions = ({ id, number, name, stage, changed }: ActionsProps) => {
  const command = useCommand(changed)
  const { busy, run, setReply } = command
  const next = stages.find((s) => s.tag !== stage)?.name ?? "backlog"
  const [to, setTo] = useState(next)
  const [moveReason, setMoveReason] = useState("")
  const [blockReason, setBlockReason] = useState("")
  const [agent, setAgent] = useState("")
  const [startAt, setStartAt] = useState("")
  const [confirming, setConfirming] = useState(false)
  const ids = useId()

  const move = () =>
    run(() =>
      call((c) => c.Move({ id, to, ...(moveReason.trim() === "" ? {} : { reason: moveReason.trim() }) })),
    )
  const block = () => {
    if (blockReason.trim() === "") return setReply({ ok: false, text: "Say why the item is blocked." })
    void run(() => call((c) => c.Block({ id, reason: blockReason.trim() }))).then((o) => {
      if (o?.ok === true) setBlockReason("")
    })
  }
  const schedule = () => {
    const at = startAt === "" ? Number.NaN : new Date(startAt).getTime()
    if (!Number.isFinite(at) || at < 0)
      return setReply({ ok: false, text: "Pick the date and time to start at." })
    void run(() => call((c) => c.Schedule({ id, at })))
  }

  return (
    <section className="item-actions" aria-label="Actions">
      <fieldset>
        <legend>Stage</legend>
        <label htmlFor={`${ids}-to`}>Move to</label>
        <select id={`${ids}-to`} value={to} onChange={(e) => setTo(e.target.value)}>
          {stages.map((s) => (
            <option key={s.name} value={s.name}>
              {s.label}
            </option>
          ))}
        </select>
        <label htmlFor={`${ids}-why`}>Move reason</label>
        <input
          id={`${ids}-why`}
          value={moveReason}
          placeholder="optional"
          onChange={(e) => setMoveReason(e.target.value)}
        />
        <button type="button" onClick={() => void move()} disabled={busy}>
          Move
        </button>
      </fieldset>
      <fieldset>
        <legend>Block</legend>
        <label htmlFor={`${ids}-block`}>Block reason</label>
        <input id={`${ids}-block`} value={blockReason} onChange={(e) => setBlockReason(e.target.value)} />
        <button type="button" onClick={block} disabled={busy}>
          Block
        </button>
        <button type="button" onClick={() => void run(() => call((c) => c.Unblock({ id })))} disabled={busy}>
          Unblock
        </button>
      </fieldset>
      <fieldset>
        <legend>Agent</legend>
        <label htmlFor={`${ids}-agent`}>Agent name</label>
        <input
          id={`${ids}-agent`}
          value={agent}
          placeholder="the default"
          onChange={(e) => setAgent(e.target.value)}
        />
        <button
          type="button"
          disabled={busy}
          onClick={() =>
            void run(() =>
              call((c) => c.StartAgent({ id, ...(agent.trim() === "" ? {} : { agent: agent.trim() }) })),
            )
          }
        >
          Start agent
        </button>
        <button
          type="button"
          onClick={() => void run(() => call((c) => c.StopAgent({ id })))}
          disabled={busy}
        >
          Stop agent
        </button>
      </fieldset>
      <fieldset>
        <legend>Schedule</legend>
        <label htmlFor={`${ids}-at`}>Start at</label>
        <input
          id={`${ids}-at`}
          type="datetime-local"
          value={startAt}
          onChange={(e) => setStartAt(e.target.value)}
        />
        <button type="button" onClick={schedule} disabled={busy}>
          Schedule
        </button>
      </fieldset>
      <fieldset>
        <legend>Delete</legend>
        <button type="button" className="danger" onClick={() => setConfirming(true)} disabled={busy}>
          Delete
        </button>
      </fieldset>
      <ReplyLine reply={command.reply} />
      {confirming ? (
        <ConfirmDelete id={id} number={number} name={name} close={() => setConfirming(false)} />
      ) : null}
    </section>
  )
}

const ConfirmDelete = ({
  id,
  number,
  name,
  close,
}: {
  readonly id: StoryId
  readonly number: number
  readonly name: string
  readonly close: () => void
}) => {
  const dialog = useRef<HTMLDialogElement>(null)
  const command: Command = useCommand()
  const titleId = useId()
  useEffect(() => {
    const d = dialog.current
    if (d !== null && !d.open) d.showModal()
    return () => d?.close()
  }, [])
  const confirm = async () => {
    const outcome = await command.run(() => call((c) => c.Delete({ id })))
    if (outcome?.ok === true) {
      close()
      window.location.hash = href({ page: "board" })
    }
  }
  return (
    <dialog ref={dialog} aria-labelledby={titleId} onClose={close} className="confirm">
      <h2 id={titleId}>Delete {number}?</h2>
      <p>
        #{number} {name} goes for good: its worktree, branch, timers and running agent go with it.
      </p>
      <ReplyLine reply={command.reply} />
      <div className="dialog-buttons">
        <button type="button" className="danger" onClick={() => void confirm()} disabled={command.busy}>
          Delete
        </button>
        <button type="button" onClick={close} autoFocus disabled={command.busy}>
          Cancel
        </button>
      </div>
    </dialog>
  )
}
