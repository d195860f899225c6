// src/transports/tools/deleteTools.ts — delete_story and its alias purge_story: the Pipeline's delete
// (the Store's maps, its agents, its worktree, its feature branch, its session logs), reported per layer.
import { Effect, Schema } from "effect"
import { notPresent, Pipeline, type Removal, type RemovalStatus, removed } from "../../actors/Pipeline.js"
import type { StoryId } from "../../domain/StoryId.js"
import { requireId, StoryIdParam } from "./itemAccess.js"
import { defineTool } from "./Tool.js"

const Status = Schema.Literal("removed", "not present", "failed")
type Status = RemovalStatus

const outcomeFields = { status: Status, detail: Schema.optional(Schema.String) }
const Outcome = Schema.Struct(outcomeFields)
type Outcome = Removal

const flag = (present: boolean): Outcome => (present ? removed() : notPresent())
const listed = (what: string, names: ReadonlyArray<string>): Outcome =>
  names.length === 0 ? notPresent() : removed(`${what}: ${names.join(", ")}`)

const DeleteOutput = Schema.Struct({
  story_id: Schema.String,
  summary: Schema.String,
  nothing_was_there: Schema.Boolean,
  store: Schema.Struct({
    item: Outcome,
    content: Outcome,
    execution: Outcome,
    claim: Outcome,
    merge_job: Outcome,
    timers: Outcome,
    decisions: Outcome,
  }),
  worktree: Schema.Struct({ path: Schema.String, ...outcomeFields }),
  branch: Schema.Struct({ name: Schema.String, ...outcomeFields }),
  logs: Schema.Struct({ path: Schema.String, ...outcomeFields }),
})

const describe = (parts: ReadonlyArray<readonly [string, Outcome]>, id: string): string => {
  const of = (status: Status) => parts.filter(([, o]) => o.status === status).map(([name]) => name)
  const gone = of("removed")
  const broken = parts
    .filter(([, o]) => o.status === "failed")
    .map(([name, o]) => `${name} (${o.detail ?? ""})`)
  const head =
    gone.length === 0 ? `nothing of ${id} was there to remove` : `removed ${gone.join(", ")} of ${id}`
  return broken.length === 0
    ? head
    : `${head}; could not remove ${broken.join(", ")}: fix that and delete again`
}

/**
 * Deletes the item through the Pipeline and reports each layer: removed, not present or failed, with a
 * one-line summary. delete_story returns it; the chat command `delete n confirm` writes the summary.
 */
export const deleteItem = (id: StoryId) =>
  Effect.gen(function* () {
    const { store: report, worktree, branch, logs } = yield* (yield* Pipeline).delete(id)
    const storeParts = {
      item: flag(report.item),
      content: flag(report.content),
      execution: listed("nodes", report.execution),
      claim: flag(report.claim),
      merge_job: flag(report.mergeJob),
      timers: listed("timers", report.timers),
      decisions: listed("decisions", report.decisions),
    }
    const parts: ReadonlyArray<readonly [string, Outcome]> = [
      ...Object.entries(storeParts).map(([k, o]) => [`store ${k.replace("_", " ")}`, o] as const),
      ["worktree", worktree],
      ["branch", branch],
      ["session logs", logs],
    ]
    return {
      story_id: id,
      summary: describe(parts, id),
      nothing_was_there: parts.every(([, o]) => o.status === "not present"),
      store: storeParts,
      worktree,
      branch,
      logs,
    }
  })

const deleteTool = (name: string, description: string) =>
  defineTool({
    name,
    description,
    input: { story_id: StoryIdParam },
    output: DeleteOutput,
    run: ({ story_id }) => Effect.flatMap(requireId(story_id), deleteItem),
  })

const common =
  "from every layer: the Store (item, content, execution state on every node, claim, merge job, timers, decisions), its worktree .huskies/worktrees/<id>, its branch feature/story-<id> and its session logs .huskies/logs/<id>. Returns, per layer, removed / not present / failed with the reason. Idempotent: deleting again succeeds with everything not present, and an id that never existed is not an error. Does not block."

export const deleteTools = [
  deleteTool("delete_story", `Deletes a work item ${common}`),
  deleteTool("purge_story", `Alias of delete_story, with the same behaviour: deletes a work item ${common}`),
] as const
