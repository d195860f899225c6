// src/actors/pipeline/moves.ts — the commands that move an item: move, block, unblock, and the QA
// verdicts (request, approve, reject, a person's accept). Each gathers its facts, builds the event
// and applies it; `transition` has the last word. Part of the Pipeline command layer.
import { Clock, Effect, Either, Option } from "effect"
import {
  type StageName,
  describeTargets,
  routeFrom,
  type Route,
  stageNameOf,
  supersededBy,
} from "../../domain/moveRoutes.js"
import type { Asked } from "../../domain/History.js"
import type { PipelineEvent } from "../../domain/PipelineEvent.js"
import type { Stage } from "../../domain/Stage.js"
import { parseStoryDoc } from "../../domain/StoryDoc.js"
import type { StoryId } from "../../domain/StoryId.js"
import { describeStage, legalEvents, type TransitionError } from "../../domain/transition.js"
import type { WorkItem } from "../../domain/WorkItem.js"
import type { ConfigError, LoadedConfig } from "../../layers/Config.js"
import { Store } from "../../layers/Store.js"
import { Agents } from "../Scheduler.js"
import { branchFacts } from "./branchFacts.js"
import { CommandRefused } from "./errors.js"
import { NoProjectCommand, runProjectCommand } from "./projectCommand.js"

/** What the command layer reads its settings from (the project's root and its current config). */
export interface Settings {
  readonly root: string
  readonly config: Effect.Effect<LoadedConfig, ConfigError>
}

/** A move that happened: where the item was, where it is, and the event that moved it. */
export interface Moved {
  readonly before: Stage
  readonly after: WorkItem
  readonly event: PipelineEvent
}

const now = Clock.currentTimeMillis

/** `cannot move 3 to qa: why; it is in Backlog, and from Backlog you can move to: coding, archived`. */
const refuse = (stage: Stage, command: string, why: string) =>
  new CommandRefused({
    command,
    message: `cannot ${command}: ${why}; it is in ${describeStage(stage)}, and ${describeTargets(stage)}`,
  })

const configError = (command: string, what: string) => (e: { readonly message: string }) =>
  new CommandRefused({ command, message: `cannot read ${what} from the project config: ${e.message}` })

/** The item's own `retries`, else retry_limit from .huskies/project.toml: how many failures it may have. */
export const retryLimitOf = (settings: Settings, id: StoryId, command: string) =>
  Effect.gen(function* () {
    const config = yield* settings.config.pipe(Effect.mapError(configError(command, "retry_limit")))
    const doc = parseStoryDoc(yield* (yield* Store).content(id))
    const own = Either.isRight(doc) ? doc.right.frontMatter.retries : undefined
    return own ?? config.project.retryLimit
  })

/** The branch facts for `command`, with the base branch from the config; refusals say `cannot <command>`. */
const factsFor = (
  settings: Settings,
  id: StoryId,
  command: string,
  onRefuse: (why: string) => CommandRefused,
) =>
  Effect.gen(function* () {
    const config = yield* settings.config.pipe(Effect.mapError(configError(command, "the base branch")))
    return yield* branchFacts(settings.root, id, config.project.baseBranch).pipe(
      Effect.mapError((e) => onRefuse(e.why)),
    )
  })

const eventFor = (
  settings: Settings,
  id: StoryId,
  stage: Stage,
  route: Route,
  target: StageName,
  reason: string | undefined,
) =>
  Effect.gen(function* () {
    const why = reason?.trim() ?? ""
    const at = yield* now
    const command = `move ${id} to ${target}`
    const facts = () => factsFor(settings, id, command, (w) => refuse(stage, command, w))
    switch (route.event) {
      case "QaRejected":
        if (why === "") {
          return yield* new CommandRefused({
            command,
            message: `moving ${id} from qa back to coding rejects its QA: give reason (the notes the next coder reads)`,
          })
        }
        return {
          _tag: "QaRejected",
          notes: why,
          retryLimit: yield* retryLimitOf(settings, id, command),
          at,
        } as const
      case "GatesPassed":
        // A person moving it to QA reviews it themselves.
        return { _tag: "GatesPassed", ...(yield* facts()), qa: "human", at } as const
      case "QaApproved":
        return { _tag: "QaApproved", ...(yield* facts()), at } as const
      case "Abandon": {
        const by = supersededBy(why)
        return by === undefined
          ? ({ _tag: "Abandon", at } as const)
          : ({ _tag: "Supersede", by, at } as const)
      }
      case "Start":
      case "Reset":
      case "Unblock":
      case "Complete":
        return { _tag: route.event, at } as const
      default:
        return yield* Effect.die(new Error(`move has no event builder for ${route.event}`))
    }
  })

/** Store.apply, with a transition refused (the item moved meanwhile) phrased in the command's terms. */
const applyAs = (id: StoryId, event: PipelineEvent, command: string, asked: Asked) =>
  Effect.gen(function* () {
    const store = yield* Store
    return yield* store
      .apply(id, event, asked)
      .pipe(
        Effect.catchTag("TransitionError", (e: TransitionError) =>
          Effect.flatMap(store.get(id), (now) => Effect.fail(refuse(now.stage, command, e.reason))),
        ),
      )
  })

/** `by`: who asked (recorded in the item's history with the reason). */
export const move = (settings: Settings, id: StoryId, target: StageName, reason?: string, by?: string) =>
  Effect.gen(function* () {
    const item = yield* (yield* Store).get(id)
    const command = `move ${id} to ${target}`
    if (target === "done") {
      return yield* refuse(
        item.stage,
        command,
        "an item becomes Done when its merge lands on the base branch (move it to merge and the merge queue lands it)",
      )
    }
    if (stageNameOf(item.stage._tag) === target)
      return yield* refuse(item.stage, command, "it is already there")
    const route = routeFrom(item.stage, target)
    if (route === undefined) {
      return yield* refuse(item.stage, command, `that is not a move out of ${item.stage._tag}`)
    }
    const event = yield* eventFor(settings, id, item.stage, route, target, reason)
    const after = yield* applyAs(id, event, command, { by, reason })
    return { before: item.stage, after, event } satisfies Moved
  })

export const block = (id: StoryId, reason: string, by?: string) =>
  Effect.gen(function* () {
    const item = yield* (yield* Store).get(id)
    if (!legalEvents(item.stage).includes("Block")) {
      return yield* refuse(
        item.stage,
        `block ${id}`,
        "only an item in backlog, coding, qa or merge can be blocked",
      )
    }
    const event: PipelineEvent = { _tag: "Block", why: reason, at: yield* now }
    const after = yield* applyAs(id, event, `block ${id}`, { by })
    return { before: item.stage, after, event } satisfies Moved
  })

export const unblock = (id: StoryId, by?: string) =>
  Effect.gen(function* () {
    const item = yield* (yield* Store).get(id)
    if (!legalEvents(item.stage).includes("Unblock")) {
      const why =
        item.stage._tag === "Archived"
          ? "a superseded or completed item stays archived"
          : "only an archived item can be unblocked"
      return yield* refuse(item.stage, `unblock ${id}`, why)
    }
    const event: PipelineEvent = { _tag: "Unblock", at: yield* now }
    const after = yield* applyAs(id, event, `unblock ${id}`, { by })
    return { before: item.stage, after, event } satisfies Moved
  })

/** The item, if it is in QA; else a refusal saying QA verdicts apply only there. */
const inQa = (id: StoryId, verb: string, rule: string) =>
  Effect.gen(function* () {
    const item = yield* (yield* Store).get(id)
    if (item.stage._tag !== "Qa") {
      return yield* new CommandRefused({
        command: `${verb} ${id}`,
        message: `cannot ${verb} ${id}: it is in ${describeStage(item.stage)}${rule}`,
      })
    }
    return item
  })

const plainRefusal = (command: string) => (why: string) =>
  new CommandRefused({ command, message: `cannot ${command}: ${why}` })

/**
 * QA approved (by the QA agent's approve_qa, or a person's accept): to Merge with the branch facts.
 * `asker` names who, for the item's history (`mcp:<client>`, `ui:<user>`).
 */
export const approveQa = (
  settings: Settings,
  id: StoryId,
  by: "agent" | "person",
  notes?: string,
  asker?: string,
) =>
  Effect.gen(function* () {
    const verb = by === "agent" ? "approve" : "accept"
    yield* inQa(
      id,
      verb,
      by === "agent" ? ", and QA verdicts apply only to items in QA" : "; accept_story approves items in QA",
    )
    const facts = yield* factsFor(settings, id, `${verb} ${id}`, plainRefusal(`${verb} ${id}`))
    const after = yield* (yield* Store).apply(
      id,
      { _tag: "QaApproved", ...facts, at: yield* now },
      { by: asker, reason: notes },
    )
    if (notes !== undefined && notes.trim() !== "") {
      yield* Effect.logInfo(by === "agent" ? `QA approved ${id}: ${notes}` : `${id} accepted: ${notes}`)
    }
    return after
  })

export const rejectQa = (settings: Settings, id: StoryId, notes: string, asker?: string) =>
  Effect.gen(function* () {
    yield* inQa(id, "reject", ", and QA verdicts apply only to items in QA")
    const retryLimit = yield* retryLimitOf(settings, id, `reject ${id}`)
    const after = yield* (yield* Store).apply(
      id,
      { _tag: "QaRejected", notes, retryLimit, at: yield* now },
      { by: asker },
    )
    return { after, retryLimit }
  })

/**
 * A coder's request to be reviewed: the item must be in Coding with no coder running, its branch must
 * have commits, and the project's tests (if any) must pass; then it moves to QA.
 */
export const requestQa = (settings: Settings, id: StoryId, asker?: string) =>
  Effect.gen(function* () {
    const store = yield* Store
    const command = `request QA for ${id}`
    const item = yield* store.get(id)
    if (item.stage._tag !== "Coding") {
      return yield* new CommandRefused({
        command,
        message: `cannot request QA for ${id}: it is in ${describeStage(item.stage)}; QA is requested for items in Coding`,
      })
    }
    const running = yield* (yield* Agents).handle(id)
    if (Option.isSome(running)) {
      return yield* new CommandRefused({
        command,
        message: `cannot request QA for ${id} while the coder ${running.value.agent} runs on it: let it finish (wait_for_agent) or stop_agent first`,
      })
    }
    const facts = yield* factsFor(settings, id, command, plainRefusal(command))
    const config = yield* settings.config.pipe(Effect.mapError(configError(command, "the test command")))
    const tests = yield* runProjectCommand(settings.root, config, id, "test").pipe(
      Effect.map((run) => run.result),
      Effect.catchIf(
        (e): e is NoProjectCommand => e instanceof NoProjectCommand,
        () => Effect.succeed(undefined),
      ),
    )
    if (tests !== undefined && !tests.passed) return { moved: false, item, tests }
    const after = yield* store.apply(
      id,
      {
        _tag: "GatesPassed",
        ...facts,
        // Anything but "none" moves to QA; who reviews (agent or person) is read from the item there.
        qa: "agent",
        at: yield* now,
      },
      { by: asker },
    )
    return { moved: true, item: after, tests }
  })
