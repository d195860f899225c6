// src/actors/storyWork.ts — the work a story actor does for one item on this node: lease a coder, run it
// in the item's worktree, run the gates when it exits, retry with the failure or hand over to QA, run the
// QA agent, and stop at the merge handoff. Run by StoryActor, which tells the world its phase.
import { Effect, Either, type Scope } from "effect"
import { existsSync } from "node:fs"
import { join } from "node:path"
import type { AgentConfig } from "../domain/Config.js"
import { renderTemplate } from "../domain/Config.js"
import type { AgentRole, QaMode } from "../domain/Stage.js"
import { parseStoryDoc } from "../domain/StoryDoc.js"
import type { WorkItem } from "../domain/WorkItem.js"
import type { LoadedConfig } from "../layers/Config.js"
import { Git } from "../layers/Git.js"
import { featureBranchOf, worktreePathOf } from "../layers/git/paths.js"
import { fitText } from "../layers/runtimes/Runtime.js"
import { Store } from "../layers/Store.js"
import { TestRuns } from "../layers/TestRuns.js"
import { type AgentRunResult, startAgent } from "./AgentActor.js"
import { type NodeBranches, prepareBranch, pushBranch } from "./branchSync.js"
import { processEnv } from "./agentFiles.js"
import type { AgentSlots } from "./AgentSlots.js"
import { findLastAgentOn, findPreviousSessionId } from "./sessions.js"
import type { StoryPhase } from "./storyPhase.js"
import type { StoryId } from "../domain/StoryId.js"

export interface StoryContext {
  readonly storyId: StoryId
  readonly root: string
  readonly slots: AgentSlots
  /** This server's MCP URL as agents reach it (known once the server listens). */
  readonly mcpUrl: Effect.Effect<string>
  readonly loadConfig: Effect.Effect<LoadedConfig, { readonly message: string }>
  /** Tells the story actor what its work is doing now. */
  readonly setPhase: (phase: StoryPhase) => Effect.Effect<void>
  /** Resume the agent's last session even without feedback (after a rate limit or a restart). */
  readonly resume: boolean
  /** An agent a person chose (start_agent): overrides the item's own `agent` for its stage. */
  readonly pinned?: string
  /** Variables added to the agent's environment (on top of the server's own). */
  readonly agentEnv?: Readonly<Record<string, string>>
  readonly onRunEnded: (result: AgentRunResult) => Effect.Effect<void>
  /** Several nodes: where branches are fetched from and (on a worker) pushed to. */
  readonly nodes?: NodeBranches
  /** The roles this node runs (a worker: `[nodes] worker_stages`); the others are left to other nodes. */
  readonly stages?: ReadonlyArray<AgentRole>
}

/** How long an agent that could not start or run here (see retryLater) waits before it is tried again. */
const startRetrySecs = 60

/** How much of a failure goes into the item's feedback (and so into the next prompt). */
const feedbackBytes = 16 * 1024

type Next = "continue" | "end"

/** What one step works with, read once per step so edits to the config or the item apply next time. */
interface Plan {
  readonly config: LoadedConfig
  readonly qaMode: QaMode
  readonly retryLimit: number
  readonly worktree: string
  /** What the feature branch is counted against: the base, or on a worker the remote's base. */
  readonly base: string
}

interface Authored {
  readonly pinned?: string
  readonly qa?: QaMode
  readonly retries?: number
}

const authoredFields = (markdown: string): Authored =>
  Either.match(parseStoryDoc(markdown), {
    // An unreadable document still runs with the project's defaults; status shows the parse error.
    onLeft: () => ({}),
    onRight: (doc) => ({
      ...(doc.frontMatter.agent === undefined ? {} : { pinned: doc.frontMatter.agent }),
      ...(doc.frontMatter.qa === undefined ? {} : { qa: doc.frontMatter.qa }),
      ...(doc.frontMatter.retries === undefined ? {} : { retries: doc.frontMatter.retries }),
    }),
  })

/** The text a retrying coder is given on top of its prompt. */
export const retryPrompt = (feedback: string): string =>
  `Your previous attempt on this story did not get through the pipeline. What happened:\n\n${feedback}\n\n` +
  "Fix the cause, run the tests, commit your work on the feature branch, and exit."

/**
 * Runs the item until it needs nobody on this node (merge handoff, a person, a timer) or leaves the
 * pipeline. A defect is not caught here: it ends the story actor, whose supervisor restarts it.
 */
export const runStory = (ctx: StoryContext) =>
  Effect.gen(function* () {
    let resume = ctx.resume
    for (;;) {
      const next = yield* step(ctx, resume)
      resume = false
      if (next === "end") return
    }
  }).pipe(Effect.annotateLogs({ storyId: ctx.storyId }))

const step = (ctx: StoryContext, resume: boolean): Effect.Effect<Next, never, Store | Git | TestRuns> =>
  Effect.gen(function* () {
    const store = yield* Store
    const found = yield* Effect.either(store.get(ctx.storyId))
    if (Either.isLeft(found)) return "end"
    const item = found.right
    if (item.stage._tag !== "Coding" && item.stage._tag !== "Qa") return "end"
    const exec = item.execution[store.nodeId]
    if (exec?._tag === "RateLimited") return "end"
    if (exec?._tag === "Completed" && exec.outcome === "stopped") return "end"
    // Running with no actor here means a previous server died mid-run: that process is gone.
    if (exec?._tag === "Running")
      yield* applyOrLog(
        store.apply(item.id, { _tag: "ExecutionCleared", node: store.nodeId, at: yield* now }),
      )

    const config = yield* Effect.either(ctx.loadConfig)
    if (Either.isLeft(config)) {
      // Not the item's fault: it waits, and the Scheduler picks it up again once the file is fixed.
      yield* Effect.logError(`${item.id} waits: ${config.left.message}`)
      return "end"
    }
    const authored = authoredFields(yield* store.content(item.id).pipe(Effect.orElseSucceed(() => "")))
    const plan: Plan = {
      config: config.right,
      qaMode: authored.qa ?? config.right.project.defaultQa,
      retryLimit: authored.retries ?? config.right.project.retryLimit,
      worktree: worktreePathOf(ctx.root, item.id),
      base: config.right.project.baseBranch,
    }
    if (item.stage._tag === "Qa" && plan.qaMode !== "agent") return "end"
    const role: AgentRole = item.stage._tag === "Coding" ? "coder" : "qa"
    if (ctx.stages !== undefined && !ctx.stages.includes(role)) return "end"
    return yield* Effect.scoped(runAgentStep(ctx, item, role, authored, plan, resume))
  })

const runAgentStep = (
  ctx: StoryContext,
  item: WorkItem,
  role: AgentRole,
  authored: Authored,
  plan: Plan,
  resume: boolean,
): Effect.Effect<Next, never, Store | Git | TestRuns | Scope.Scope> =>
  Effect.gen(function* () {
    const git = yield* Git
    const pinnedAgent = ctx.pinned ?? authored.pinned
    yield* ctx.setPhase({ _tag: "WaitingForAgent", role, since: yield* now })
    const lease = yield* Effect.either(
      ctx.slots.acquire({
        storyId: item.id,
        role,
        ...(pinnedAgent === undefined ? {} : { pinned: pinnedAgent }),
        ...(yield* lastAgentOf(ctx, item.id, role)),
      }),
    )
    if (Either.isLeft(lease)) return yield* block(item, lease.left.why)
    const agent = lease.right

    const worktree = plan.worktree
    const present = existsSync(worktree)
    const prepared = yield* Effect.either(
      prepareBranch(
        ctx.root,
        item,
        (yield* Store).nodeId,
        plan.base,
        ctx.nodes,
        present ? worktree : undefined,
      ),
    )
    // Without the remote a new worktree could start from the wrong commit; an existing one is still right.
    if (Either.isLeft(prepared) && !present)
      return yield* retryLater(item.id, `cannot fetch from the nodes' remote: ${prepared.left.message}`)
    if (Either.isLeft(prepared)) yield* Effect.logWarning(prepared.left.message)
    const base = Either.getOrElse(prepared, () => plan.base)
    if (!present) {
      const created = yield* Effect.either(git.createWorktree(ctx.root, item.id, base))
      if (Either.isLeft(created))
        return yield* block(item, `cannot create the worktree: ${created.left.message}`)
    }

    const feedback = role === "coder" ? item.feedback : undefined
    const resumeId =
      role === "coder" && (resume || feedback !== undefined || item.attempts > 0)
        ? yield* findPreviousSessionId(ctx.root, item.id, agent.name)
        : undefined
    const started = yield* Effect.either(
      startAgent({
        storyId: item.id,
        agent,
        role,
        root: ctx.root,
        worktree,
        mcpUrl: yield* ctx.mcpUrl,
        prompt: renderTemplate(agent.prompt, { story_id: item.id }),
        ...(feedback === undefined ? {} : { extraPrompt: retryPrompt(feedback) }),
        ...(resumeId === undefined ? {} : { resumeSessionId: resumeId }),
        ...(ctx.agentEnv === undefined ? {} : { env: { ...processEnv(), ...ctx.agentEnv } }),
      }),
    )
    if (Either.isLeft(started)) return yield* retryLater(item.id, started.left.message)
    const handle = started.right
    yield* ctx.setPhase({ _tag: "Running", handle })
    const result = yield* handle.result
    yield* ctx.onRunEnded(result)
    return yield* afterRun(ctx, item, agent, result, { ...plan, base })
  })

const afterRun = (
  ctx: StoryContext,
  item: WorkItem,
  agent: AgentConfig,
  result: AgentRunResult,
  plan: Plan,
): Effect.Effect<Next, never, Store | Git | TestRuns> =>
  Effect.gen(function* () {
    const store = yield* Store
    if (result.outcome === "stopped") return "end"
    if (result.outcome === "rateLimited") {
      const at = result.resetAt ?? (yield* now) + 60_000
      yield* applyOrLog(
        store.setTimer({ storyId: item.id, kind: "retry", at, note: `${agent.name}: ${result.reason}` }),
      )
      return "end"
    }
    if (result.setupProblem === true) return yield* retryLater(item.id, `${agent.name}: ${result.reason}`)
    if (result.role === "qa") {
      const after = yield* Effect.either(store.get(item.id))
      if (Either.isRight(after) && after.right.stage._tag === "Qa") {
        return yield* block(
          after.right,
          `the QA agent ${agent.name} ended (${result.reason}) without calling approve_qa or reject_qa`,
        )
      }
      return "continue"
    }
    if (result.outcome !== "succeeded") {
      return yield* gatesFailed(item.id, `the coder session failed: ${result.reason}`, plan.retryLimit)
    }
    return yield* runGates(ctx, item, plan)
  })

const runGates = (
  ctx: StoryContext,
  item: WorkItem,
  { config, qaMode, retryLimit, worktree, base }: Plan,
): Effect.Effect<Next, never, Store | Git | TestRuns> =>
  Effect.gen(function* () {
    const store = yield* Store
    const git = yield* Git
    const branch = featureBranchOf(item.id)
    const ahead = yield* Effect.either(git.commitsAhead(ctx.root, base, branch))
    if (Either.isLeft(ahead))
      return yield* gatesFailed(
        item.id,
        `cannot count the commits on ${branch}: ${ahead.left.message}`,
        retryLimit,
      )
    if (ahead.right < 1) {
      return yield* gatesFailed(
        item.id,
        `the coder exited without committing anything on ${branch}: commit the work (git add <files>, then git commit) before exiting`,
        retryLimit,
      )
    }
    // Saved on the remote before the gates, so a node that takes the item over continues from this work.
    const saved = yield* Effect.either(pushBranch(ctx.root, item, ctx.nodes))
    if (Either.isLeft(saved)) yield* Effect.logWarning(saved.left.message)
    if (Either.isRight(saved) && !saved.right) return "end"
    const command = config.project.commands.test
    if (command !== undefined) {
      const startedAt = yield* now
      yield* ctx.setPhase({ _tag: "Gates", command, since: startedAt })
      const runs = yield* TestRuns
      const ran = yield* Effect.either(
        runs.run(item.id, {
          command,
          cwd: worktree,
          timeoutMillis: config.project.gatesTimeoutSecs * 1000,
          logPath: join(ctx.root, ".huskies", "logs", item.id, `gates-${startedAt}.log`),
          pidRecord: { root: ctx.root, storyId: item.id, name: "gates" },
        }),
      )
      if (Either.isLeft(ran)) return yield* gatesFailed(item.id, ran.left.message, retryLimit)
      const gate = ran.right.result
      if (!gate.passed) {
        const how = gate.timedOut
          ? `timed out after ${config.project.gatesTimeoutSecs} s`
          : `exited with code ${gate.exitCode ?? gate.signal}`
        return yield* gatesFailed(
          item.id,
          fitText(
            `the tests failed: \`${command}\` ${how}. The end of its output:\n\n${gate.tail}`,
            feedbackBytes,
          ),
          retryLimit,
        )
      }
    }
    // QA and the merge read the branch from the remote: it must be there before the item moves on.
    const pushed = yield* Effect.either(pushBranch(ctx.root, item, ctx.nodes))
    if (Either.isLeft(pushed))
      return yield* retryLater(item.id, `cannot push ${branch}: ${pushed.left.message}`)
    if (!pushed.right) return "end"
    const moved = yield* Effect.either(
      store.apply(
        item.id,
        {
          _tag: "GatesPassed",
          featureBranch: branch,
          commitsAhead: ahead.right,
          qa: qaMode,
          at: yield* now,
        },
        { by: "server" },
      ),
    )
    if (Either.isLeft(moved))
      yield* Effect.logWarning(`gates passed but the item moved meanwhile: ${moved.left.message}`)
    return "continue"
  })

/**
 * Not the item's fault (a CLI missing or not logged in, a bad config): no attempt is used up, and it is
 * not tried again at once, which would spin; a retry timer (list_timers shows why) tries again later.
 */
const retryLater = (id: StoryId, why: string) =>
  Effect.gen(function* () {
    yield* Effect.logError(`${id} cannot run here: ${why} (trying again in ${startRetrySecs} s)`)
    const store = yield* Store
    yield* applyOrLog(
      store.setTimer({
        storyId: id,
        kind: "retry",
        at: (yield* now) + startRetrySecs * 1000,
        note: fitText(why, 1024),
      }),
    )
    return "end" as const
  })

const gatesFailed = (id: StoryId, why: string, retryLimit: number) =>
  Effect.gen(function* () {
    const store = yield* Store
    yield* applyOrLog(
      store.apply(id, { _tag: "GatesFailed", why, retryLimit, at: yield* now }, { by: "server" }),
    )
    return "continue" as const
  })

const block = (item: WorkItem, why: string) =>
  Effect.gen(function* () {
    const store = yield* Store
    yield* Effect.logWarning(`blocking ${item.id}: ${why}`)
    yield* applyOrLog(store.apply(item.id, { _tag: "Block", why, at: yield* now }, { by: "server" }))
    return "end" as const
  })

/** The agent that last ran this role on the item here, preferred so it can resume its own session. */
const lastAgentOf = (ctx: StoryContext, id: StoryId, role: AgentRole) =>
  Effect.gen(function* () {
    const agents = yield* ctx.slots.agents
    const names = agents.filter((a) => a.stage === role).map((a) => a.name)
    const last = yield* findLastAgentOn(ctx.root, id, names)
    return last === undefined ? {} : { prefer: last }
  })

const now = Effect.clockWith((clock) => clock.currentTimeMillis)

// The item may have been moved or deleted by a person meanwhile; that is theirs to decide, not an error.
const applyOrLog = <A, E extends { readonly message: string }, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.asVoid,
    Effect.catchAll((e) => Effect.logInfo(`not applied: ${e.message}`)),
  )
