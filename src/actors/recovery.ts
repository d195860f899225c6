// src/actors/recovery.ts — what a starting server cleans up after the one before it: agent processes a
// killed server left running, items it left marked Running, and worktrees whose item is gone. Run once
// by the Scheduler before it starts anything.
import { Effect, Either } from "effect"
import type { NodeId } from "../domain/ExecutionState.js"
import type { StoryId } from "../domain/StoryId.js"
import { reapOrphanedAgents } from "../layers/AgentPids.js"
import { Git } from "../layers/Git.js"
import type { Store } from "../layers/Store.js"

const now = Effect.clockWith((clock) => clock.currentTimeMillis)

/**
 * A previous server that died mid-run left items marked Running here; their processes died with it.
 * They are marked failed (not stopped), so auto mode resumes them and a person sees what happened.
 */
export const recoverAfterRestart = (store: Store["Type"], node: NodeId, root: string) =>
  Effect.gen(function* () {
    const git = yield* Git
    // Left by a server that was killed outright (SIGKILL), which could not stop its agents itself.
    for (const { record, killed } of yield* reapOrphanedAgents(root))
      yield* Effect.logWarning(
        `killed ${record.agent} (pid ${record.pid}) on ${record.storyId} and what it started (${killed.length} process${killed.length === 1 ? "" : "es"}: ${killed.join(", ")}), left running by a server that was killed`,
      )
    const { items } = yield* store.list
    for (const item of items) {
      if (item.execution[node]?._tag !== "Running") continue
      yield* Effect.logWarning(`${item.id}: its agent was running when the server stopped`)
      yield* (
        store
          .apply(
            item.id,
            { _tag: "AgentExited", node, outcome: "failed", at: yield* now },
            { by: "server", reason: "the server stopped while it ran" },
          )
          // Refused only if the item changed meanwhile; then there is no stale run left to mark.
          .pipe(Effect.ignore)
      )
    }
    const orphans = yield* Effect.either(
      git.cleanupOrphanedWorktrees(
        root,
        items.map((i) => i.id as StoryId),
      ),
    )
    if (Either.isLeft(orphans))
      yield* Effect.logWarning(`orphaned worktrees were not cleaned up: ${orphans.left.message}`)
  })
