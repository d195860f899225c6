// src/transports/tools/pipelineTools.ts — move_story, block_story, unblock_story: a person's (or a chat
// LLM's) hand on the pipeline. Every move is a PipelineEvent through Store.apply, so `transition` decides.
import { NodeFileSystem } from "@effect/platform-node"
import { Clock, Effect, Either, Schema } from "effect"
import type { PipelineEvent, PipelineEventTag } from "../../domain/PipelineEvent.js"
import type { Stage, StageTag } from "../../domain/Stage.js"
import type { StoryId } from "../../domain/StoryId.js"
import { describeStage, legalEvents, TransitionError } from "../../domain/transition.js"
import { loadConfig } from "../../layers/Config.js"
import { featureBranchOf, Git, GitError } from "../../layers/Git.js"
import { Project } from "../../layers/Project.js"
import { type ItemNotFound, Store } from "../../layers/Store.js"
import { parseStoryDoc } from "../../domain/StoryDoc.js"
import {
  requireId,
  type StageName,
  stageNameOf,
  stageNameParam,
  stageNames,
  stageTagOf,
  stageView,
  StoryIdParam,
} from "./itemAccess.js"
import { defineTool, ToolFailure } from "./Tool.js"

interface Route {
  readonly from: StageTag
  readonly event: PipelineEventTag
}

const holdable: ReadonlyArray<StageTag> = ["Backlog", "Coding", "Qa", "Merge"]

/** Which event takes an item from each stage to each target; `transition` still has the last word. */
const routes: Record<StageName, ReadonlyArray<Route>> = {
  backlog: [
    ...(["Coding", "Qa", "Merge"] as const).map((from) => ({ from, event: "Reset" as const })),
    { from: "Archived", event: "Unblock" },
  ],
  coding: [
    { from: "Backlog", event: "Start" },
    { from: "Qa", event: "QaRejected" },
  ],
  qa: [{ from: "Coding", event: "GatesPassed" }],
  merge: [{ from: "Qa", event: "QaApproved" }],
  // Done needs the merge commit, which only the merge landing on the base branch can supply.
  done: [],
  archived: [
    // Supersede leaves from the same stages as Abandon; which one is used depends on `reason`.
    ...holdable.map((from) => ({ from, event: "Abandon" as const })),
    { from: "Done", event: "Complete" },
  ],
}

const routeFrom = (stage: Stage, target: StageName): Route | undefined =>
  routes[target].find((r) => r.from === stage._tag && legalEvents(stage).includes(r.event))

/** The `to` values move_story accepts for an item in `stage`. */
export const moveTargets = (stage: Stage): ReadonlyArray<StageName> =>
  stageNames.filter((name) => routeFrom(stage, name) !== undefined)

/** `from Backlog you can move to: coding, archived`, or why nothing is possible. */
export const describeTargets = (stage: Stage): string => {
  const targets = moveTargets(stage)
  return targets.length === 0
    ? `from ${describeStage(stage)} it cannot move anywhere: create a new item for the work, or delete_story this one`
    : `from ${stage._tag} you can move to: ${targets.join(", ")}`
}

/** `what` is the attempted action with the id in it: `move 3_story_x to qa`, `block 3_story_x`. */
const refuse = (stage: Stage, what: string, why: string) =>
  new ToolFailure({
    message: `cannot ${what}: ${why}; it is in ${describeStage(stage)}, and ${describeTargets(stage)}`,
  })

const supersededBy = /^\s*superseded\s+by\s+(\S.*?)\s*$/i

/** Reads base_branch from .huskies/project.toml (the default when the file is absent). */
export const baseBranch = (root: string) =>
  loadConfig(root).pipe(
    Effect.map((config) => config.project.baseBranch),
    Effect.provide(NodeFileSystem.layer),
    Effect.mapError(
      (e) =>
        new ToolFailure({ message: `cannot read the base branch from the project config: ${e.message}` }),
    ),
  )

/** The item's own `retries`, else retry_limit from .huskies/project.toml: how many failures it may have. */
export const retryLimitOf = (id: StoryId) =>
  Effect.gen(function* () {
    const project = yield* Project
    const config = yield* loadConfig(project.root).pipe(
      Effect.provide(NodeFileSystem.layer),
      Effect.mapError(
        (e) => new ToolFailure({ message: `cannot read retry_limit from the project config: ${e.message}` }),
      ),
    )
    const doc = parseStoryDoc(yield* (yield* Store).content(id))
    const own = Either.isRight(doc) ? doc.right.frontMatter.retries : undefined
    return own ?? config.project.retryLimit
  })

/**
 * How many commits `feature/story-<id>` has that `base` lacks, or why that cannot be answered (no
 * repository, no branch, no commits): the caller refuses the move with that reason.
 */
export const commitsAheadOf = (root: string, id: StoryId, base: string) =>
  Effect.gen(function* () {
    const git = yield* Git
    const branch = featureBranchOf(id)
    if (!(yield* git.isRepo(root))) {
      return yield* Effect.fail(`${root} is not a git repository, so ${branch} cannot have commits`)
    }
    if (!(yield* git.branchExists(root, branch))) {
      return yield* Effect.fail(
        `branch ${branch} does not exist, so there is no work to review or merge: the coder commits its work there`,
      )
    }
    const commits = yield* git
      .commitsAhead(root, base, branch)
      .pipe(
        Effect.mapError((e) =>
          e.reason === "UnknownRevision"
            ? `cannot count the commits of ${branch} ahead of base branch ${base}: ${base} does not exist (check base_branch in .huskies/project.toml)`
            : `cannot count the commits of ${branch} ahead of base branch ${base}: ${e.message}`,
        ),
      )
    if (commits < 1) {
      return yield* Effect.fail(
        `${branch} has no commits ahead of ${base}, so there is nothing to review or merge: commit the work on ${branch} first`,
      )
    }
    return { featureBranch: branch, commitsAhead: commits }
  }).pipe(
    // A git that cannot answer at all (not installed, unreadable repository) is a reason to refuse too.
    Effect.catchIf(
      (e): e is GitError => e instanceof GitError,
      (e) => Effect.fail(`cannot read the branches of ${root}: ${e.message}`),
    ),
  )

/** The git facts a move to qa or merge needs, or a refusal saying why the branch is not ready. */
const branchFacts = (id: StoryId, stage: Stage, target: StageName) =>
  Effect.gen(function* () {
    const project = yield* Project
    const base = yield* baseBranch(project.root)
    return yield* commitsAheadOf(project.root, id, base).pipe(
      Effect.catchAll((why) => refuse(stage, `move ${id} to ${target}`, why)),
    )
  })

const eventFor = (
  id: StoryId,
  stage: Stage,
  route: Route,
  target: StageName,
  reason: string | undefined,
  at: number,
): Effect.Effect<PipelineEvent, ToolFailure | ItemNotFound, Project | Git | Store> => {
  const why = reason?.trim() ?? ""
  switch (route.event) {
    case "QaRejected":
      if (why === "") {
        return Effect.fail(
          new ToolFailure({
            message: `moving ${id} from qa back to coding rejects its QA: give reason (the notes the next coder reads)`,
          }),
        )
      }
      return Effect.map(retryLimitOf(id), (retryLimit) => ({
        _tag: "QaRejected" as const,
        notes: why,
        retryLimit,
        at,
      }))
    case "GatesPassed":
      return Effect.map(branchFacts(id, stage, target), (facts) => ({
        _tag: "GatesPassed" as const,
        ...facts,
        qa: "human" as const,
        at,
      }))
    case "QaApproved":
      return Effect.map(branchFacts(id, stage, target), (facts) => ({
        _tag: "QaApproved" as const,
        ...facts,
        at,
      }))
    case "Abandon": {
      const by = supersededBy.exec(why)?.[1]
      return Effect.succeed(by === undefined ? { _tag: "Abandon", at } : { _tag: "Supersede", by, at })
    }
    case "Start":
    case "Reset":
    case "Unblock":
    case "Complete":
      return Effect.succeed({ _tag: route.event, at })
    default:
      return Effect.die(new Error(`move_story has no event builder for ${route.event}`))
  }
}

/** Store.apply, with a transition refused (the item moved meanwhile) phrased in move_story's terms. */
const applyMove = (id: StoryId, event: PipelineEvent, what: string) =>
  Effect.gen(function* () {
    const store = yield* Store
    return yield* store
      .apply(id, event)
      .pipe(
        Effect.catchTag("TransitionError", (e: TransitionError) =>
          Effect.flatMap(store.get(id), (now) => Effect.fail(refuse(now.stage, what, e.reason))),
        ),
      )
  })

const MoveOutput = Schema.Struct({
  story_id: Schema.String,
  from: Schema.String,
  stage: Schema.Unknown,
  event: Schema.String,
  reason_recorded: Schema.Boolean,
})

const recorded = (event: PipelineEvent): boolean =>
  event._tag === "QaRejected" || event._tag === "Supersede" || event._tag === "Block"

const moveResult = (id: string, before: Stage, after: Stage, event: PipelineEvent) => ({
  story_id: id,
  from: before._tag,
  stage: stageView(after),
  event: event._tag,
  reason_recorded: recorded(event),
})

export const moveStory = defineTool({
  name: "move_story",
  description: [
    "Moves a work item to another stage and returns its new stage. Does not block.",
    "to: backlog (reset from coding/qa/merge, or revive an archived blocked/held/failed/abandoned item);",
    "coding (start from backlog, or reject from qa: reason is then required and becomes the coder's notes);",
    "qa (from coding, for human QA) and merge (from qa) need feature/story-<id> to have commits ahead of the base branch;",
    "archived (abandon; a reason of the form 'superseded by <id>' records the replacement; from done it archives as completed).",
    "done is refused: an item is Done when its merge lands on the base branch.",
    "Stage names are accepted in any case. An illegal move is refused with the moves that are legal from the item's stage.",
    "reason is recorded only for qa rejections and 'superseded by'; reason_recorded says whether it was.",
  ].join(" "),
  input: {
    story_id: StoryIdParam,
    to: stageNameParam("the stage to move to"),
    reason: Schema.optional(
      Schema.String.annotations({
        description: "why; required when rejecting from qa to coding; 'superseded by <id>' when archiving",
      }),
    ),
  },
  output: MoveOutput,
  run: ({ story_id, to, reason }) =>
    Effect.gen(function* () {
      const id = yield* requireId(story_id)
      const target = stageNameOf(stageTagOf(to))
      const store = yield* Store
      const item = yield* store.get(id)
      const what = `move ${id} to ${target}`
      if (target === "done") {
        return yield* refuse(
          item.stage,
          what,
          "an item becomes Done when its merge lands on the base branch (move it to merge and the merge queue lands it)",
        )
      }
      if (stageNameOf(item.stage._tag) === target) {
        return yield* refuse(item.stage, what, `it is already there`)
      }
      const route = routeFrom(item.stage, target)
      if (route === undefined) {
        return yield* refuse(item.stage, what, `that is not a move out of ${item.stage._tag}`)
      }
      const at = yield* Clock.currentTimeMillis
      const event = yield* eventFor(id, item.stage, route, target, reason, at)
      const after = yield* applyMove(id, event, what)
      return moveResult(id, item.stage, after.stage, event)
    }),
})

export const blockStory = defineTool({
  name: "block_story",
  description:
    "Blocks a work item: moves it to Archived (blocked) with the reason, stopping it from being worked on until unblock_story. Works from backlog, coding, qa and merge. Does not block the caller; returns the new stage.",
  input: {
    story_id: StoryIdParam,
    reason: Schema.NonEmptyTrimmedString.annotations({
      description: "why it is blocked; shown on the board",
    }),
  },
  output: MoveOutput,
  run: ({ story_id, reason }) =>
    Effect.gen(function* () {
      const id = yield* requireId(story_id)
      const store = yield* Store
      const item = yield* store.get(id)
      if (!legalEvents(item.stage).includes("Block")) {
        return yield* refuse(
          item.stage,
          `block ${id}`,
          "only an item in backlog, coding, qa or merge can be blocked",
        )
      }
      const event: PipelineEvent = { _tag: "Block", why: reason, at: yield* Clock.currentTimeMillis }
      const after = yield* applyMove(id, event, `block ${id}`)
      return moveResult(id, item.stage, after.stage, event)
    }),
})

export const unblockStory = defineTool({
  name: "unblock_story",
  description:
    "Unblocks a work item: moves it from Archived (blocked, merge failed, on review hold or abandoned) back to Backlog with its attempts reset. Superseded and completed items cannot be unblocked. Does not block; returns the new stage.",
  input: { story_id: StoryIdParam },
  output: MoveOutput,
  run: ({ story_id }) =>
    Effect.gen(function* () {
      const id = yield* requireId(story_id)
      const store = yield* Store
      const item = yield* store.get(id)
      if (!legalEvents(item.stage).includes("Unblock")) {
        const why =
          item.stage._tag === "Archived"
            ? "a superseded or completed item stays archived"
            : "only an archived item can be unblocked"
        return yield* refuse(item.stage, `unblock ${id}`, why)
      }
      const event: PipelineEvent = { _tag: "Unblock", at: yield* Clock.currentTimeMillis }
      const after = yield* applyMove(id, event, `unblock ${id}`)
      return moveResult(id, item.stage, after.stage, event)
    }),
})

export const pipelineTools = [moveStory, blockStory, unblockStory] as const
