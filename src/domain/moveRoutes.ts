// src/domain/moveRoutes.ts — which event takes an item from its stage to a stage a person names, and
// how to say what is possible: the rules behind move_story (and the UI's and chat's moves), pure.
import type { PipelineEventTag } from "./PipelineEvent.js"
import { type Stage, type StageTag, stageTags } from "./Stage.js"
import { describeStage, legalEvents } from "./transition.js"

/** Stage names as people and tools give them: the stage tags in lowercase (`qa` for Qa). */
export const stageNames = ["backlog", "coding", "qa", "merge", "done", "archived"] as const
export type StageName = (typeof stageNames)[number]

const stageByName = new Map<string, StageTag>(stageTags.map((tag) => [tag.toLowerCase(), tag]))

/** The stage a name (any case) means, or undefined. */
export const stageTagNamed = (name: string): StageTag | undefined => stageByName.get(name.toLowerCase())

export const stageNameOf = (tag: StageTag): StageName => tag.toLowerCase() as StageName

export interface Route {
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
    // Supersede leaves from the same stages as Abandon; which one is used depends on the reason.
    ...holdable.map((from) => ({ from, event: "Abandon" as const })),
    { from: "Done", event: "Complete" },
  ],
}

/** The route from `stage` to `target` that `transition` allows now, if any. */
export const routeFrom = (stage: Stage, target: StageName): Route | undefined =>
  routes[target].find((r) => r.from === stage._tag && legalEvents(stage).includes(r.event))

/** The targets a move accepts for an item in `stage`. */
export const moveTargets = (stage: Stage): ReadonlyArray<StageName> =>
  stageNames.filter((name) => routeFrom(stage, name) !== undefined)

/** `from Backlog you can move to: coding, archived`, or why nothing is possible. */
export const describeTargets = (stage: Stage): string => {
  const targets = moveTargets(stage)
  return targets.length === 0
    ? `from ${describeStage(stage)} it cannot move anywhere: create a new item for the work, or delete_story this one`
    : `from ${stage._tag} you can move to: ${targets.join(", ")}`
}

/** "superseded by 12_story_x" as an archive reason names the replacement. */
export const supersededBy = (reason: string): string | undefined =>
  /^\s*superseded\s+by\s+(\S.*?)\s*$/i.exec(reason)?.[1]

/** The events whose reason the item keeps (QA notes, the superseding item, a block's why). */
export const recordsReason = (event: PipelineEventTag): boolean =>
  event === "QaRejected" || event === "Supersede" || event === "Block"
