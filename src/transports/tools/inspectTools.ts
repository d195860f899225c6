// src/transports/tools/inspectTools.ts — read-only tools: status (one item, everything about it),
// get_version, server_logs, and dump_state / dump_crdt for the raw document.
import { Effect, Either, Option, Schema } from "effect"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { type DependencyStatus, describeDependencies } from "../../domain/dependencies.js"
import { HistoryEntry } from "../../domain/History.js"
import { todos } from "../../domain/StoryDoc.js"
import { buildInfo } from "../../layers/BuildInfo.js"
import { Git, type GitError } from "../../layers/Git.js"
import { LogBuffer } from "../../layers/Logs.js"
import { Project } from "../../layers/Project.js"
import { dependenciesOf } from "../../actors/pipeline/dependencyCheck.js"
import { ActivityView, PipelineView, type PipelineViewShape } from "../../actors/PipelineView.js"
import type { StoryId } from "../../domain/StoryId.js"
import { type ItemWithDoc, readItem, requireId, stageView, StoryIdParam } from "./itemAccess.js"
import { defineTool } from "./Tool.js"

const Json = Schema.Unknown

/** The item's worktree, if one exists: branch, last commit and uncommitted changes. */
const worktreeState = (root: string, id: string) =>
  Effect.suspend(() => {
    const dir = join(root, ".huskies", "worktrees", id)
    return existsSync(dir) ? worktreeLooks(dir) : Effect.succeed(Option.none())
  })

const worktreeLooks = (dir: string) =>
  Effect.gen(function* () {
    const git = yield* Git
    // A worktree git cannot read is reported as such rather than failing the whole status.
    const describe = <A>(effect: Effect.Effect<A, GitError>) =>
      Effect.catchAll(Effect.map(effect, Either.right), (e) => Effect.succeed(Either.left(e.message)))
    // Three read-only looks at once (git takes no optional locks here): one git's time, not three.
    const [branch, head, changes] = yield* Effect.all(
      [describe(git.currentBranch(dir)), describe(git.log(dir, { limit: 1 })), describe(git.status(dir))],
      { concurrency: "unbounded" },
    )
    return Option.some({
      path: dir,
      branch: Either.match(branch, {
        onLeft: (m) => `(unreadable: ${m})`,
        onRight: (b) => b ?? "(detached)",
      }),
      head: Either.match(head, {
        onLeft: (m) => `(unreadable: ${m})`,
        onRight: (c) => (c[0] === undefined ? "" : `${c[0].sha.slice(0, 12)} ${c[0].subject}`),
      }),
      uncommitted: Either.match(changes, {
        onLeft: (m) => [`(unreadable: ${m})`],
        onRight: (entries) => entries.map((e) => e.path),
      }),
    })
  })

/** What `itemStatus` says of an item read with its dependencies: no reads of its own. */
const statusFacts = (loaded: ItemWithDoc, deps: ReadonlyArray<DependencyStatus>) => {
  const doc = Either.getOrUndefined(loaded.doc)
  return {
    story_id: loaded.item.id,
    kind: loaded.item.kind,
    name: doc?.frontMatter.name ?? "(content does not parse)",
    stage: stageView(loaded.item.stage),
    attempts: loaded.item.attempts,
    ...(loaded.item.feedback === undefined ? {} : { feedback: loaded.item.feedback }),
    execution: loaded.item.execution,
    dependencies: deps.map((d) => ({ ...d, met: d._tag === "Met" })),
    dependencies_summary: describeDependencies(deps),
    todos: doc === undefined ? [] : todos(doc),
    content: loaded.content,
    ...(Either.isLeft(loaded.doc) ? { content_error: loaded.doc.left.message } : {}),
    created_at: new Date(loaded.item.createdAt).toISOString(),
    updated_at: new Date(loaded.item.updatedAt).toISOString(),
  }
}

/** The item `id` with its parsed markdown and its dependencies (each with whether it is met). */
const readWithDependencies = (view: PipelineViewShape, id: StoryId) =>
  Effect.flatMap(readItem(view, id), (loaded) => {
    const dependsOn = Either.getOrUndefined(loaded.doc)?.frontMatter.dependsOn ?? []
    return Effect.map(dependenciesOf(view, dependsOn), (deps) => statusFacts(loaded, deps))
  })

/**
 * What the Store knows of one item: stage, execution, dependencies and whether each is met, unchecked
 * criteria and its markdown. The status tool adds the worktree; the chat command `status n` writes it out.
 */
export const itemStatus = (story_id: string) =>
  Effect.flatMap(requireId(story_id), (id) =>
    Effect.flatMap(PipelineView, (view) => readWithDependencies(view, id)),
  )

export type ItemStatus = Effect.Effect.Success<ReturnType<typeof itemStatus>>

export const status = defineTool({
  name: "status",
  description:
    "Everything about one work item: markdown content, stage, execution state on every node (and the worker node running its agent, if one does), dependencies and whether each is met, unchecked criteria, its worktree/branch when one exists, and its history (each move, oldest first, with the reason and who asked). Does not block.",
  input: { story_id: StoryIdParam },
  output: Schema.Struct({
    story_id: Schema.String,
    kind: Schema.String,
    name: Schema.String,
    stage: Json,
    attempts: Schema.Number,
    feedback: Schema.optional(Schema.String),
    execution: Json,
    dependencies: Json,
    dependencies_summary: Schema.String,
    todos: Json,
    content: Schema.String,
    content_error: Schema.optional(Schema.String),
    worktree: Json,
    remote_agent: Schema.NullOr(
      Schema.Struct({
        node: Schema.String,
        agent: Schema.String,
        role: Schema.String,
        session: Schema.Number,
      }),
    ),
    created_at: Schema.String,
    updated_at: Schema.String,
    history: Schema.Array(
      Schema.Struct({ ...HistoryEntry.fields, at: Schema.String.annotations({ description: "ISO 8601" }) }),
    ),
  }),
  run: ({ story_id }) =>
    Effect.gen(function* () {
      const facts = yield* itemStatus(story_id)
      const id = facts.story_id
      const worktree = yield* worktreeState((yield* Project).root, id)
      const history = yield* (yield* PipelineView).history(id)
      const nodes = (yield* ActivityView).nodes
      const remote = Option.isSome(nodes) ? yield* nodes.value.runningOn(id) : Option.none()
      return {
        ...facts,
        worktree: Option.getOrNull(worktree),
        remote_agent: Option.match(remote, {
          onNone: () => null,
          onSome: (a) => ({ node: a.node, agent: a.agent, role: a.role, session: a.session }),
        }),
        history: history.map((entry) => ({ ...entry, at: new Date(entry.at).toISOString() })),
      }
    }),
})

export const getVersion = defineTool({
  name: "get_version",
  description:
    "The huskies version, the git commit it was built from, and this server's node id. Does not block.",
  input: {},
  output: Schema.Struct({ version: Schema.String, commit: Schema.String, node_id: Schema.String }),
  run: () => Effect.map(PipelineView, (store) => ({ ...buildInfo(), node_id: store.nodeId })),
})

export const serverLogs = defineTool({
  name: "server_logs",
  description:
    "Recent server log lines (newest last) from the in-memory ring, filtered by minimum level and text. Does not block.",
  input: {
    level: Schema.optional(Schema.Literal("Debug", "Info", "Warning", "Error", "Fatal")),
    text: Schema.optional(Schema.String.annotations({ description: "case-insensitive substring" })),
    limit: Schema.optional(Schema.Int.pipe(Schema.between(1, 5000))),
  },
  output: Schema.Struct({
    entries: Schema.Array(
      Schema.Struct({
        time: Schema.String,
        level: Schema.String,
        component: Schema.String,
        message: Schema.String,
        fields: Json,
      }),
    ),
  }),
  run: (input) =>
    Effect.gen(function* () {
      const logs = yield* LogBuffer
      const entries = yield* logs.query({
        ...(input.level === undefined ? {} : { level: input.level }),
        ...(input.text === undefined ? {} : { text: input.text }),
        limit: input.limit ?? 200,
      })
      return { entries: entries.map((e) => ({ ...e, time: new Date(e.time).toISOString() })) }
    }),
})

const dumpTool = (name: string) =>
  defineTool({
    name,
    description:
      "The raw replicated document (items, content, execution, claims, merge jobs, timers, nodes) and every projection error, optionally narrowed to one item. For debugging; does not block.",
    input: { story_id: Schema.optional(StoryIdParam) },
    output: Schema.Struct({ state: Json }),
    run: (input) =>
      Effect.map(PipelineView, (store) => store.dump(input.story_id)).pipe(
        Effect.flatten,
        Effect.map((state) => ({ state })),
      ),
  })

export const inspectTools = [
  status,
  getVersion,
  serverLogs,
  dumpTool("dump_state"),
  dumpTool("dump_crdt"),
] as const
