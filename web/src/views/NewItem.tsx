// web/src/views/NewItem.tsx — the header's "New item" button and its form: kind, name, acceptance
// criteria (rows added and removed), dependencies by number and a description, filed with `Create`.
// A refusal is shown beside the form as the server worded it; on success the new item's page opens.
import { useEffect, useId, useRef, useState } from "react"
import type { ItemKind } from "../../../src/domain/StoryId.js"
import { call } from "../api/client.js"
import { href } from "../state/route.js"
import { parseNumbers } from "./itemNumbers.js"

const kinds: ReadonlyArray<ItemKind> = ["story", "bug", "spike", "refactor"]

export const NewItemButton = () => {
  const [open, setOpen] = useState(false)
  return (
    <>
      <button type="button" className="new-item" onClick={() => setOpen(true)} aria-haspopup="dialog">
        New item
      </button>
      {open ? <NewItemDialog close={() => setOpen(false)} /> : null}
    </>
  )
}

const NewItemDialog = ({ close }: { readonly close: () => void }) => {
  const dialog = useRef<HTMLDialogElement>(null)
  const ids = useId()
  const [kind, setKind] = useState<ItemKind>("story")
  const [name, setName] = useState("")
  const [criteria, setCriteria] = useState<Array<{ readonly key: number; readonly text: string }>>([
    { key: 0, text: "" },
  ])
  const nextKey = useRef(1)
  const [deps, setDeps] = useState("")
  const [description, setDescription] = useState("")
  const [error, setError] = useState<string>()
  const [busy, setBusy] = useState(false)
  const focusRow = useRef<number>(undefined)

  useEffect(() => {
    const d = dialog.current
    if (d !== null && !d.open) d.showModal()
    return () => d?.close()
  }, [])
  useEffect(() => {
    if (focusRow.current === undefined) return
    document.getElementById(`${ids}-c${focusRow.current}`)?.focus()
    focusRow.current = undefined
  })

  const submit = async () => {
    if (busy) return
    const parsed = parseNumbers(deps)
    if ("error" in parsed) return setError(parsed.error)
    setBusy(true)
    setError(undefined)
    const outcome = await call((c) =>
      c.Create({
        kind,
        name: name.trim(),
        criteria: criteria.map((c) => c.text.trim()).filter((t) => t !== ""),
        dependsOn: parsed.numbers,
        ...(description.trim() === "" ? {} : { description }),
      }),
    )
    setBusy(false)
    if (!outcome.ok) return setError(outcome.error)
    close()
    window.location.hash = href({ page: "item", id: outcome.value.id })
  }

  const addRow = () => {
    const key = nextKey.current++
    focusRow.current = key
    setCriteria([...criteria, { key, text: "" }])
  }

  return (
    <dialog ref={dialog} aria-labelledby={`${ids}-title`} onClose={close} className="new-item-dialog">
      <form
        onSubmit={(e) => {
          e.preventDefault()
          void submit()
        }}
      >
        <h2 id={`${ids}-title`}>New item</h2>
        <div className="form-row">
          <label htmlFor={`${ids}-kind`}>Kind</label>
          <select id={`${ids}-kind`} value={kind} onChange={(e) => setKind(e.target.value as ItemKind)}>
            {kinds.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </div>
        <div className="form-row">
          <label htmlFor={`${ids}-name`}>Name</label>
          <input id={`${ids}-name`} value={name} autoFocus onChange={(e) => setName(e.target.value)} />
        </div>
        <fieldset>
          <legend>Acceptance criteria</legend>
          <ol className="criteria-rows">
            {criteria.map((row, i) => (
              <li key={row.key}>
                <input
                  id={`${ids}-c${row.key}`}
                  aria-label={`Criterion ${i + 1}`}
                  value={row.text}
                  onChange={(e) =>
                    setCriteria(criteria.map((c) => (c.key === row.key ? { ...c, text: e.target.value } : c)))
                  }
                />
                <button
                  type="button"
                  aria-label={`Remove criterion ${i + 1}`}
                  onClick={() => setCriteria(criteria.filter((c) => c.key !== row.key))}
                >
                  ✕
                </button>
              </li>
            ))}
          </ol>
          <button type="button" onClick={addRow}>
            Add criterion
          </button>
        </fieldset>
        <div className="form-row">
          <label htmlFor={`${ids}-deps`}>Dependencies</label>
          <input
            id={`${ids}-deps`}
            value={deps}
            placeholder="item numbers: 12, 14"
            aria-describedby={`${ids}-deps-hint`}
            onChange={(e) => setDeps(e.target.value)}
          />
          <span id={`${ids}-deps-hint`} className="hint">
            It starts once these are done.
          </span>
        </div>
        <div className="form-row">
          <label htmlFor={`${ids}-desc`}>Description</label>
          <textarea
            id={`${ids}-desc`}
            value={description}
            rows={5}
            onChange={(e) => setDescription(e.target.value)}
          />
        </div>
        {error !== undefined ? (
          <p role="alert" className="reply refused">
            {error}
          </p>
        ) : null}
        <div className="dialog-buttons">
          <button type="submit" disabled={busy}>
            Create
          </button>
          <button type="button" onClick={close} disabled={busy}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  )
}
