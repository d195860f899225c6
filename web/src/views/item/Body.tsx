// web/src/views/item/Body.tsx — the item's text: rendered markdown with an editor for its source (saved
// with the text it was loaded from, so a change made meanwhile is refused rather than overwritten), and
// the acceptance criteria as checkboxes that check or uncheck one criterion each.
import { useId, useState } from "react"
import type { StoryId } from "../../../../src/domain/StoryId.js"
import { call } from "../../api/client.js"
import { Markdown, renderInline } from "../../markdown/render.js"
import { ReplyLine } from "./Actions.js"
import type { StoryText } from "./storyText.js"
import { useCommand } from "./useCommand.js"

export const Text = ({
  id,
  content,
  text,
  changed,
}: {
  readonly id: StoryId
  readonly content: string
  readonly text: StoryText
  readonly changed: () => void
}) => {
  // The text the edit started from: the server refuses the save if the item no longer holds it.
  const [editing, setEditing] = useState<{ readonly expected: string; readonly draft: string }>()
  const command = useCommand()
  const areaId = useId()
  const save = async () => {
    if (editing === undefined) return
    const outcome = await command.run(() =>
      call((c) => c.Edit({ id, content: editing.draft, expected: editing.expected })),
    )
    if (outcome?.ok === true) {
      setEditing(undefined)
      changed()
    }
  }
  return (
    <section aria-labelledby="item-text" className="item-text">
      <div className="section-head">
        <h2 id="item-text">Item text</h2>
        {editing === undefined ? (
          <button
            type="button"
            onClick={() => {
              command.setReply(undefined)
              setEditing({ expected: content, draft: content })
            }}
          >
            Edit
          </button>
        ) : null}
      </div>
      {editing === undefined ? (
        <>
          {text.body === "" ? (
            <p className="muted">No description.</p>
          ) : (
            <Markdown text={text.body} headingOffset={1} />
          )}
          <ReplyLine reply={command.reply} />
        </>
      ) : (
        <form
          className="editor"
          onSubmit={(e) => {
            e.preventDefault()
            void save()
          }}
        >
          <label htmlFor={areaId}>Markdown</label>
          <textarea
            id={areaId}
            value={editing.draft}
            rows={Math.min(40, Math.max(10, editing.draft.split("\n").length + 2))}
            spellCheck={false}
            onChange={(e) => setEditing({ ...editing, draft: e.target.value })}
          />
          <ReplyLine reply={command.reply} />
          <div className="editor-buttons">
            <button type="submit" disabled={command.busy}>
              Save
            </button>
            <button type="button" onClick={() => setEditing(undefined)} disabled={command.busy}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </section>
  )
}

export const Criteria = ({
  id,
  text,
  changed,
}: {
  readonly id: StoryId
  readonly text: StoryText
  readonly changed: () => void
}) => {
  const command = useCommand(changed)
  // What a click asked for, shown until the item is read again with it.
  const [asked, setAsked] = useState<{
    readonly index: number
    readonly done: boolean
    readonly of: StoryText
  }>()
  const toggle = (index: number, done: boolean) => {
    setAsked({ index, done, of: text })
    void command
      .run(() => call((c) => c.CheckCriterion({ id, index, done })))
      .then((o) => {
        if (o?.ok !== true) setAsked(undefined)
      })
  }
  const pending = asked?.of === text ? asked : undefined
  return (
    <section aria-labelledby="item-criteria">
      <h2 id="item-criteria">Acceptance criteria</h2>
      {text.problem !== undefined ? (
        <p className="muted">The criteria cannot be read: {text.problem}</p>
      ) : null}
      {text.criteria.length === 0 ? (
        text.problem === undefined ? (
          <p className="muted">No acceptance criteria.</p>
        ) : null
      ) : (
        <ul className="criteria-list">
          {text.criteria.map((c, i) => {
            const checked = pending?.index === i ? pending.done : c.checked
            return (
              <li key={i}>
                <label>
                  <input
                    type="checkbox"
                    checked={checked}
                    disabled={command.busy}
                    onChange={(e) => toggle(i, e.target.checked)}
                  />{" "}
                  {renderInline(c.text)}
                </label>
              </li>
            )
          })}
        </ul>
      )}
      <ReplyLine reply={command.reply} />
    </section>
  )
}
