// src/actors/mergemaster.ts — one mergemaster session on an item in Merge: lease a mergemaster agent, run
// it in the item's worktree (on its feature branch) with what stopped the merge, and return how it ended.
// The Scheduler runs it as the item's story actor's work (so list_agents and stop_agent see it); MergeQueue
// asks for it.
import { Effect, Either, Schema, type Scope } from "effect"
import { existsSync } from "node:fs"
import { renderTemplate } from "../domain/Config.js"
import type { LoadedConfig } from "../layers/Config.js"
import { Git } from "../layers/Git.js"
import { featureBranchOf, worktreePathOf } from "../layers/git/paths.js"
import type { Store } from "../layers/Store.js"
import { type AgentRunResult, startAgent } from "./AgentActor.js"
import type { AgentSlots } from "./AgentSlots.js"
import { findLastAgentOn, findPreviousSessionId } from "./sessions.js"
import type { StoryPhase } from "./storyPhase.js"
import type { StoryId } from "../domain/StoryId.js"

export interface MergeFixContext {
  readonly storyId: StoryId
  readonly root: string
  readonly slots: AgentSlots
  readonly mcpUrl: Effect.Effect<string>
  readonly config: LoadedConfig
  /** Tells the item's story actor what the session is doing now. */
  readonly setPhase: (phase: StoryPhase) => Effect.Effect<void>
  /** What stopped the merge: the conflict or the gates' output. */
  readonly failure: string
  readonly env?: Readonly<Record<string, string>>
}

/** Why no mergemaster ran (or it was stopped), in words a person can act on. */
export class MergeFixRefused extends Schema.TaggedError<MergeFixRefused>()("MergeFixRefused", {
  why: Schema.String,
}) {
  override get message(): string {
    return this.why
  }
}

export const refused = (why: string): MergeFixRefused => new MergeFixRefused({ why })

/** What the mergemaster is told on top of its prompt. */
export const mergeFixPrompt = (id: StoryId, base: string, failure: string): string =>
  `The merge queue could not merge ${featureBranchOf(id)} into ${base}. What happened:\n\n${failure}\n\n` +
  `Fix it here, on ${featureBranchOf(id)} (this worktree), never on ${base}: for a conflict, run ` +
  `\`git merge ${base}\` and resolve each conflict so that both sides' changes keep working; for failing ` +
  "gates, fix the code. Commit, call run_tests, then call merge_agent_work (both block and return the " +
  "full result). If it cannot be fixed, call report_merge_failure with the reason. Never push."

export const runMergeFix = (
  ctx: MergeFixContext,
): Effect.Effect<AgentRunResult, MergeFixRefused, Store | Git | Scope.Scope> =>
  Effect.gen(function* () {
    const git = yield* Git
    const id = ctx.storyId
    const base = ctx.config.project.baseBranch
    yield* ctx.setPhase({ _tag: "WaitingForAgent", role: "mergemaster", since: yield* now })
    const names = ctx.config.agents.filter((a) => a.stage === "mergemaster").map((a) => a.name)
    const last = yield* findLastAgentOn(ctx.root, id, names)
    const agent = yield* ctx.slots
      .acquire({ storyId: id, role: "mergemaster", ...(last === undefined ? {} : { prefer: last }) })
      .pipe(Effect.mapError((e) => refused(e.why)))
    const worktree = worktreePathOf(ctx.root, id)
    // The worktree checks out the feature branch again if someone removed it; its commits are on the branch.
    if (!existsSync(worktree)) {
      const created = yield* Effect.either(git.createWorktree(ctx.root, id, base))
      if (Either.isLeft(created)) return yield* refused(`cannot create the worktree: ${created.left.message}`)
    }
    const resumeId = yield* findPreviousSessionId(ctx.root, id, agent.name)
    const handle = yield* startAgent({
      storyId: id,
      agent,
      role: "mergemaster",
      root: ctx.root,
      worktree,
      mcpUrl: yield* ctx.mcpUrl,
      prompt: renderTemplate(agent.prompt, { story_id: id }),
      extraPrompt: mergeFixPrompt(id, base, ctx.failure),
      ...(resumeId === undefined ? {} : { resumeSessionId: resumeId }),
      ...(ctx.env === undefined ? {} : { env: ctx.env }),
    }).pipe(Effect.mapError((e) => refused(e.message)))
    yield* ctx.setPhase({ _tag: "Running", handle })
    return yield* handle.result
  }).pipe(Effect.annotateLogs({ storyId: ctx.storyId }))

const now = Effect.clockWith((clock) => clock.currentTimeMillis)
