// src/transports/tools/deleteTools.ts — delete_story and its alias purge_story: remove a work item from
// every layer (the Store's maps, its worktree, its feature branch, its session logs) and report each.
import { Effect, Schema } from "effect"
import * as fs from "node:fs/promises"
import { join } from "node:path"
import { featureBranchOf, Git, type GitError, worktreePathOf } from "../../layers/Git.js"
import { Project } from "../../layers/Project.js"
import { Agents } from "../../actors/Scheduler.js"
import { Store } from "../../layers/Store.js"
import { requireId, StoryIdParam } from "./itemAccess.js"
import { defineTool } from "./Tool.js"

const Status = Schema.Literal("removed", "not present", "failed")
type Status = typeof Status.Type

const outcomeFields = { status: Status, detail: Schema.optional(Schema.String) }
const Outcome = Schema.Struct(outcomeFields)
type Outcome = typeof Outcome.Type

const removed = (detail?: string): Outcome =>
  detail === undefined ? { status: "removed" } : { status: "removed", detail }
const notPresent = (detail?: string): Outcome =>
  detail === undefined ? { status: "not present" } : { status: "not present", detail }
const failed = (detail: string): Outcome => ({ status: "failed", detail })

const exists = (path: string) =>
  Effect.promise(() =>
    fs.lstat(path).then(
      () => true,
      () => false,
    ),
  )

const removeDir = (path: string) =>
  Effect.tryPromise({
    try: () => fs.rm(path, { recursive: true, force: true }),
    catch: (e) => (e instanceof Error ? e.message : String(e)),
  })

/** The worktree through git when the root is a repository; otherwise only a leftover directory can be there. */
const removeWorktree = (root: string, id: string, repo: boolean) =>
  Effect.gen(function* () {
    if (!repo) {
      const path = worktreePathOf(root, id)
      if (!(yield* exists(path))) return notPresent()
      const rm = yield* Effect.either(removeDir(path))
      return rm._tag === "Left"
        ? failed(`not a git repository; deleting the directory: ${rm.left}`)
        : removed("deleted the directory (not a git repository)")
    }
    const git = yield* Git
    // The branch is removed on its own below, so each part gets its own outcome.
    const result = yield* Effect.either(git.removeWorktree(root, id, { deleteBranch: false }))
    if (result._tag === "Left") return failed(result.left.message)
    const { worktree, detail } = result.right
    if (worktree === "removed") return removed(detail)
    return worktree === "pruned" ? notPresent(detail) : notPresent()
  })

const removeBranch = (root: string, id: string, repo: boolean) =>
  Effect.gen(function* () {
    if (!repo) return notPresent(`${root} is not a git repository`)
    const git = yield* Git
    return yield* git.deleteBranch(root, featureBranchOf(id)).pipe(
      Effect.map((outcome) => (outcome === "deleted" ? removed("git branch -D") : notPresent())),
      Effect.catchTag("GitError", (e: GitError) => Effect.succeed(failed(e.message))),
    )
  })

const removeLogs = (path: string) =>
  Effect.gen(function* () {
    if (!(yield* exists(path))) return notPresent()
    const rm = yield* Effect.either(removeDir(path))
    return rm._tag === "Left" ? failed(rm.left) : removed()
  })

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

const deleteTool = (name: string, description: string) =>
  defineTool({
    name,
    description,
    input: { story_id: StoryIdParam },
    output: DeleteOutput,
    run: ({ story_id }) =>
      Effect.gen(function* () {
        const id = yield* requireId(story_id)
        const store = yield* Store
        const project = yield* Project
        // The Store goes first: once the item is gone no actor or timer can bring it back, and the
        // ItemDeleted event tells running agents to stop before their worktree is taken away.
        const report = yield* store.delete(id)
        // Waits until the item's agent and everything it started are gone, before the worktree goes.
        yield* (yield* Agents).halt(id)
        const git = yield* Git
        // A git that cannot even be asked (not installed) leaves only the directories to remove.
        const repo = yield* git.isRepo(project.root).pipe(Effect.orElseSucceed(() => false))
        const worktree = yield* removeWorktree(project.root, id, repo)
        const branch = yield* removeBranch(project.root, id, repo)
        const logsPath = join(project.root, ".huskies", "logs", id)
        const logs = yield* removeLogs(logsPath)
        const storeParts = {
          item: flag(report.item),
          content: flag(report.content),
          execution: listed("nodes", report.execution),
          claim: flag(report.claim),
          merge_job: flag(report.mergeJob),
          timers: listed("timers", report.timers),
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
          worktree: { path: worktreePathOf(project.root, id), ...worktree },
          branch: { name: featureBranchOf(id), ...branch },
          logs: { path: logsPath, ...logs },
        }
      }),
  })

const common =
  "from every layer: the Store (item, content, execution state on every node, claim, merge job, timers), its worktree .huskies/worktrees/<id>, its branch feature/story-<id> and its session logs .huskies/logs/<id>. Returns, per layer, removed / not present / failed with the reason. Idempotent: deleting again succeeds with everything not present, and an id that never existed is not an error. Does not block."

export const deleteTools = [
  deleteTool("delete_story", `Deletes a work item ${common}`),
  deleteTool("purge_story", `Alias of delete_story, with the same behaviour: deletes a work item ${common}`),
] as const
