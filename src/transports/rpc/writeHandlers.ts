// src/transports/rpc/writeHandlers.ts — the /rpc writes: each decodes nothing more (the RPC schema did),
// calls one command of the command layer (Pipeline) as "ui", and answers its refusal as Refused with the
// message MCP shows for it.
import type { RpcGroup } from "@effect/rpc"
import { Effect, Either } from "effect"
import { Pipeline } from "../../actors/Pipeline.js"
import { PipelineView } from "../../actors/PipelineView.js"
import { stageNameOf, stageNames, stageTagNamed } from "../../domain/moveRoutes.js"
import {
  newStoryDoc,
  parseStoryDoc,
  renderStoryDoc,
  setCriterionChecked,
  type StoryDoc,
} from "../../domain/StoryDoc.js"
import { parseStoryId, type StoryId } from "../../domain/StoryId.js"
import { describeStage } from "../../domain/transition.js"
import { Refused, type UiRpcs } from "../../protocol/uiRpcs.js"
import { commandHandler } from "../commands/runCommand.js"

/** Who a click in the web UI is, in the record of a decision or a QA verdict. */
export const uiCaller = "ui"

/** The command layer's refusal (any typed error: each message says what to do) as the UI gets it. */
export const refused = <A, R>(effect: Effect.Effect<A, { readonly message: string }, R>) =>
  Effect.mapError(effect, (e) => new Refused({ message: e.message }))

const ok = (message: string) => ({ message })

const moved = (
  id: StoryId,
  m: {
    readonly before: { readonly _tag: string }
    readonly after: { readonly stage: Parameters<typeof describeStage>[0] }
  },
) => ok(`${id}: ${m.before._tag} -> ${describeStage(m.after.stage)}`)

/** The ids of the items numbered `numbers`, or a refusal naming the numbers no item has. */
const idsNumbered = (numbers: ReadonlyArray<number>) =>
  Effect.gen(function* () {
    if (numbers.length === 0) return [] as ReadonlyArray<StoryId>
    const { items } = yield* (yield* PipelineView).list
    const byNumber = new Map(items.map((i) => [parseStoryId(i.id).number, i.id]))
    const missing = numbers.filter((n) => !byNumber.has(n))
    if (missing.length > 0)
      return yield* new Refused({ message: `dependsOn: no item is numbered ${missing.join(", ")}` })
    return numbers.flatMap((n) => byNumber.get(n) ?? [])
  })

const sameDoc = (doc: StoryDoc, expected: string): boolean =>
  Either.match(parseStoryDoc(expected), {
    onLeft: () => false,
    onRight: (e) => renderStoryDoc(e) === renderStoryDoc(doc),
  })

type Handlers = RpcGroup.HandlersFrom<RpcGroup.Rpcs<typeof UiRpcs>>
type WriteTags =
  | "Create"
  | "Edit"
  | "CheckCriterion"
  | "Move"
  | "Block"
  | "Unblock"
  | "Delete"
  | "StartAgent"
  | "StopAgent"
  | "Schedule"
  | "Answer"
  | "Command"

export const writeHandlers = Effect.gen(function* () {
  const pipeline = yield* Pipeline
  const view = yield* PipelineView
  return {
    Create: ({ kind, name, criteria, dependsOn, description }) =>
      Effect.gen(function* () {
        const deps = yield* idsNumbered(dependsOn)
        const doc = yield* Either.match(
          newStoryDoc({
            name,
            criteria,
            dependsOn: deps,
            ...(description === undefined || description === "" ? {} : { description }),
          }),
          { onLeft: (e) => Effect.fail(new Refused({ message: e.message })), onRight: Effect.succeed },
        )
        const created = yield* refused(pipeline.create(kind, doc, uiCaller))
        return { id: created.item.id, message: `${created.item.id} filed in Backlog` }
      }).pipe(Effect.provideService(PipelineView, view)),
    Edit: ({ id, content, expected }) =>
      Effect.gen(function* () {
        const replacement = yield* Either.match(parseStoryDoc(content), {
          onLeft: (e) => Effect.fail(new Refused({ message: `the markdown does not parse: ${e.message}` })),
          onRight: Effect.succeed,
        })
        const changedMeanwhile = {
          message: `${id} was changed by someone else since it was loaded: reload it and edit again`,
        }
        if (expected !== undefined && (yield* refused(view.content(id))) !== expected)
          return yield* new Refused(changedMeanwhile)
        // The command's own compare-and-set covers the time between the check above and its write.
        yield* refused(
          pipeline.edit(id, (doc) =>
            expected === undefined || sameDoc(doc, expected)
              ? Either.right(replacement)
              : Either.left(changedMeanwhile),
          ),
        )
        return ok(`${id} saved`)
      }),
    CheckCriterion: ({ id, index, done }) =>
      Effect.map(refused(pipeline.edit(id, (doc) => setCriterionChecked(doc, index, done))), (edited) =>
        ok(
          `${id}: criterion ${index} ${done ? "checked" : "unchecked"} (${edited.after.criteria.filter((c) => c.checked).length}/${edited.after.criteria.length} done)`,
        ),
      ),
    Move: ({ id, to, reason }) => {
      const tag = stageTagNamed(to)
      if (tag === undefined)
        return Effect.fail(
          new Refused({ message: `to: expected one of ${stageNames.join(", ")} (any case)` }),
        )
      return Effect.map(refused(pipeline.move(id, stageNameOf(tag), reason, uiCaller)), (m) => moved(id, m))
    },
    Block: ({ id, reason }) => Effect.map(refused(pipeline.block(id, reason, uiCaller)), (m) => moved(id, m)),
    Unblock: ({ id }) => Effect.map(refused(pipeline.unblock(id, uiCaller)), (m) => moved(id, m)),
    Delete: ({ id }) => Effect.map(refused(pipeline.delete(id)), () => ok(`${id} deleted`)),
    StartAgent: ({ id, agent }) =>
      Effect.map(refused(pipeline.startAgent(id, agent, uiCaller)), (started) =>
        ok(started.alreadyRunning ? `${id} is already being worked on` : `${id}: work starts`),
      ),
    StopAgent: ({ id }) =>
      Effect.map(refused(pipeline.stopAgent(id, uiCaller)), (stopped) =>
        ok(stopped.stopped ? `${id}: stopped` : `${id}: nothing was running; it will not start by itself`),
      ),
    Schedule: ({ id, at }) =>
      Effect.map(refused(pipeline.scheduleStart(id, at)), (timer) =>
        ok(`${id} starts at ${new Date(timer.at).toISOString()}`),
      ),
    Answer: ({ id, verdict, note }) =>
      Effect.map(refused(pipeline.answerDecision(id, verdict, uiCaller, note)), (decision) =>
        ok(`${decision.id}: ${verdict}`),
      ),
    ...(yield* commandHandler(uiCaller)),
  } satisfies Pick<Handlers, WriteTags>
})
