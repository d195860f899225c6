// src/transports/tools/worktreeTools.ts — create_worktree, remove_worktree and list_worktrees: a work
// item's git worktree (.huskies/worktrees/<id> on feature/story-<id>) by hand, for people, chat and agents.
// The lifecycle creates and removes worktrees by itself; these are for repairs and inspection.
import { Effect, Schema } from "effect"
import { Git, type WorktreeInfo } from "../../layers/Git.js"
import { Project } from "../../layers/Project.js"
import { PipelineView } from "../../actors/PipelineView.js"
import { isStoryId, type StoryId } from "../../domain/StoryId.js"
import { projectConfig } from "./gateTool.js"
import { loadItem, requireId, StoryIdParam } from "./itemAccess.js"
import { defineTool, ToolFailure } from "./Tool.js"

export const createWorktree = defineTool({
  name: "create_worktree",
  description:
    "Creates the item's git worktree at .huskies/worktrees/<id> on branch feature/story-<id>, starting the branch from the configured base branch (base_branch in .huskies/project.toml), or reusing the branch when it already exists. Idempotent: when the worktree is already there on its branch it is reported (created: false), not an error. The item must exist. Does not block.",
  input: { story_id: StoryIdParam },
  output: Schema.Struct({
    story_id: Schema.String,
    path: Schema.String,
    branch: Schema.String,
    base_branch: Schema.String,
    created: Schema.Boolean,
    branch_created: Schema.Boolean,
    summary: Schema.String,
  }),
  run: ({ story_id }) =>
    Effect.gen(function* () {
      const { item } = yield* loadItem(story_id)
      const project = yield* Project
      const git = yield* Git
      const base = (yield* projectConfig).project.baseBranch
      const made = yield* git.createWorktree(project.root, item.id, base)
      const summary = !made.created
        ? `${made.path} already exists on ${made.branch}: nothing to do`
        : made.branchCreated
          ? `created ${made.path} on the new branch ${made.branch} from ${base}`
          : `created ${made.path} on the existing branch ${made.branch} (its commits kept)`
      return {
        story_id: item.id,
        path: made.path,
        branch: made.branch,
        base_branch: base,
        created: made.created,
        branch_created: made.branchCreated,
        summary,
      }
    }),
})

/** The agent running on the item on any node, if one is: its worktree must not go from under it. */
const runningAgent = (id: StoryId) =>
  Effect.gen(function* () {
    const store = yield* PipelineView
    const item = yield* Effect.either(store.get(id))
    if (item._tag === "Left") {
      // No item (an orphan worktree) has no agent; an item that does not decode cannot be checked.
      if (item.left._tag === "ItemNotFound") return undefined
      return yield* item.left
    }
    for (const [node, state] of Object.entries(item.right.execution)) {
      if (state._tag === "Running") return `${state.agent} on node ${node}`
    }
    return undefined
  })

export const removeWorktree = defineTool({
  name: "remove_worktree",
  description:
    "Removes the item's worktree .huskies/worktrees/<id>, uncommitted changes included (commit what should be kept first). Keeps the branch feature/story-<id> and its commits unless delete_branch is true. Works for orphan worktrees whose item was deleted; refused while an agent is running on the item. Idempotent: a worktree that is not there is reported as absent. Does not block.",
  input: {
    story_id: StoryIdParam,
    delete_branch: Schema.optional(
      Schema.Boolean.annotations({
        description: "also delete the branch feature/story-<id>, even with unmerged commits (default false)",
      }),
    ),
  },
  output: Schema.Struct({
    story_id: Schema.String,
    path: Schema.String,
    branch: Schema.String,
    worktree: Schema.Literal("removed", "pruned", "absent"),
    detail: Schema.String,
    branch_outcome: Schema.Literal("deleted", "absent", "kept"),
    summary: Schema.String,
  }),
  run: ({ story_id, delete_branch }) =>
    Effect.gen(function* () {
      const id = yield* requireId(story_id)
      const agent = yield* runningAgent(id)
      if (agent !== undefined) {
        return yield* new ToolFailure({
          message: `${id} has an agent running in its worktree (${agent}): wait for it to finish, then remove the worktree`,
        })
      }
      const project = yield* Project
      const git = yield* Git
      const gone = yield* git.removeWorktree(project.root, id, { deleteBranch: delete_branch === true })
      const worktree =
        gone.worktree === "removed"
          ? `removed ${gone.path}`
          : gone.worktree === "pruned"
            ? `forgot the record of ${gone.path} (its directory was already gone)`
            : `no worktree at ${gone.path}`
      const branch =
        gone.branchOutcome === "deleted"
          ? `deleted ${gone.branch}`
          : gone.branchOutcome === "absent"
            ? `${gone.branch} did not exist`
            : `kept ${gone.branch}`
      return {
        story_id: id,
        path: gone.path,
        branch: gone.branch,
        worktree: gone.worktree,
        detail: gone.detail,
        branch_outcome: gone.branchOutcome,
        summary: `${worktree}; ${branch}`,
      }
    }),
})

const WorktreeRow = Schema.Struct({
  story_id: Schema.String,
  path: Schema.String,
  branch: Schema.NullOr(Schema.String).annotations({ description: "null when its HEAD is detached" }),
  head: Schema.String,
  commits_ahead: Schema.NullOr(Schema.Number).annotations({
    description: "commits on the branch that the base branch lacks; null when they cannot be counted",
  }),
  in_store: Schema.Boolean,
  orphan: Schema.Boolean.annotations({ description: "no work item with this id exists in the Store" }),
  dirty: Schema.NullOr(Schema.Boolean).annotations({
    description: "has uncommitted or untracked files; null when its status cannot be read",
  }),
  locked: Schema.Boolean,
  missing: Schema.Boolean.annotations({ description: "git lists it but its directory is gone" }),
})

const describeRow = (root: string, base: string, entry: WorktreeInfo & { readonly id: string }) =>
  Effect.gen(function* () {
    const git = yield* Git
    const store = yield* PipelineView
    const found = isStoryId(entry.id) ? yield* Effect.either(store.get(entry.id)) : undefined
    // A directory named for no work item id is an orphan; an item that exists but does not decode is
    // still in the Store: not an orphan.
    const inStore = found !== undefined && (found._tag === "Right" || found.left._tag !== "ItemNotFound")
    // A listing shows what it can: a count or status git cannot give (a base that does not exist, a
    // worktree half removed) is null in its row, and the other rows still show.
    const commitsAhead =
      entry.branch === undefined
        ? null
        : yield* git.commitsAhead(root, base, entry.branch).pipe(Effect.orElseSucceed(() => null))
    const dirty = entry.prunable
      ? null
      : yield* git.status(entry.path).pipe(
          Effect.map((entries) => entries.length > 0),
          Effect.orElseSucceed(() => null),
        )
    return {
      story_id: entry.id,
      path: entry.path,
      branch: entry.branch ?? null,
      head: entry.head,
      commits_ahead: commitsAhead,
      in_store: inStore,
      orphan: !inStore,
      dirty,
      locked: entry.locked,
      missing: entry.prunable,
    }
  })

export const listWorktrees = defineTool({
  name: "list_worktrees",
  description:
    "Lists the work items' worktrees under .huskies/worktrees/: for each its story id, path, branch, head commit, commits ahead of the base branch, whether its item exists in the Store (orphan: it does not), and whether it has uncommitted changes (dirty). Does not block.",
  input: {},
  output: Schema.Struct({
    base_branch: Schema.String,
    worktrees: Schema.Array(WorktreeRow),
    summary: Schema.String,
  }),
  run: () =>
    Effect.gen(function* () {
      const project = yield* Project
      const git = yield* Git
      const base = (yield* projectConfig).project.baseBranch
      const own = (yield* git.listWorktrees(project.root)).filter(
        (e): e is WorktreeInfo & { readonly id: string } => e.id !== undefined,
      )
      const worktrees = yield* Effect.forEach(own, (entry) => describeRow(project.root, base, entry), {
        concurrency: 4,
      })
      const orphans = worktrees.filter((w) => w.orphan).length
      const dirty = worktrees.filter((w) => w.dirty === true).length
      return {
        base_branch: base,
        worktrees,
        summary:
          worktrees.length === 0
            ? "no worktrees"
            : `${worktrees.length} worktree${worktrees.length === 1 ? "" : "s"}, ${orphans} orphan${orphans === 1 ? "" : "s"}, ${dirty} with uncommitted changes`,
      }
    }),
})

export const worktreeTools = [createWorktree, removeWorktree, listWorktrees] as const
