// src/transports/commands/runCommand.ts — runs a chat command line (`move 12 qa`) for a person: parse
// (src/domain/chatCommand.ts), resolve item numbers against the board, one call on the command layer or a
// view, and a reply text. Used by the web UI's command bar (the Command RPC) and the chat bots.
import { Effect, Either, Match, Schema } from "effect"
import type { Decisions } from "../../actors/Decisions.js"
import type { Pipeline } from "../../actors/Pipeline.js"
import { type ActivityView, PipelineView } from "../../actors/PipelineView.js"
import { type ChatCommand, type ItemRef, parseChatCommand, resolveItemRef } from "../../domain/chatCommand.js"
import type { StoryId } from "../../domain/StoryId.js"
import type { HuskiesConfig } from "../../layers/HuskiesConfig.js"
import type { Project } from "../../layers/Project.js"
import { Refused } from "../../protocol/uiRpcs.js"
import { backlogReply, costReply, helpText, queueReply, showReply, statusReply } from "./readCommands.js"
import {
  assignReply,
  deleteQuestion,
  deleteReply,
  dependsReply,
  moveReply,
  startReply,
  stopReply,
  timerReply,
  unblockReply,
  verdictReply,
} from "./writeCommands.js"

/**
 * What a command may use: the command layer and the decisions for changes, the read-only views and
 * config for what it shows, and the project's root for the usage ledger. No Store, no actors.
 */
export type CommandEnv = Pipeline | Decisions | PipelineView | ActivityView | HuskiesConfig | Project

/**
 * How a command ended: Done (its text says what happened), Refused (not understood, no such item, or the
 * command layer's refusal, each saying what to type or do instead), or Confirm (nothing done yet: the
 * text asks for the confirming command, e.g. `delete 12 confirm`).
 */
export const CommandReply = Schema.Union(
  Schema.TaggedStruct("Done", { text: Schema.String }),
  Schema.TaggedStruct("Refused", { text: Schema.String }),
  Schema.TaggedStruct("Confirm", { text: Schema.String }),
)
export type CommandReply = typeof CommandReply.Type

const done = (text: string): CommandReply => ({ _tag: "Done", text })

type Failure = { readonly message: string }

/** The board's ids, read once per command and only if it names an item. */
const boardIds = Effect.flatMap(PipelineView, (view) => view.list).pipe(
  Effect.map(({ items }) => items.map((i) => i.id)),
  Effect.cached,
)

const run = (command: ChatCommand, by: string): Effect.Effect<CommandReply, Failure, CommandEnv> =>
  Effect.gen(function* () {
    const ids = yield* boardIds
    const resolve = (ref: ItemRef): Effect.Effect<StoryId, Failure, CommandEnv> =>
      Effect.flatMap(ids, (known) =>
        Either.match(resolveItemRef(ref, known), { onLeft: Effect.fail, onRight: Effect.succeed }),
      )
    const text = (effect: Effect.Effect<string, Failure, CommandEnv>) => Effect.map(effect, done)
    return yield* Match.value(command).pipe(
      Match.tagsExhaustive({
        Help: (c) => Effect.succeed(done(helpText(c.verb))),
        Status: (c) =>
          text(c.item === undefined ? statusReply(undefined) : Effect.flatMap(resolve(c.item), statusReply)),
        Backlog: () => text(backlogReply),
        Show: (c) => text(Effect.flatMap(resolve(c.item), showReply)),
        Move: (c) => text(Effect.flatMap(resolve(c.item), (id) => moveReply(id, c.to, c.reason, by))),
        Start: (c) => text(Effect.flatMap(resolve(c.item), (id) => startReply(id, c.agent, by))),
        Stop: (c) => text(Effect.flatMap(resolve(c.item), (id) => stopReply(id, by))),
        Assign: (c) => text(Effect.flatMap(resolve(c.item), (id) => assignReply(id, c.agent))),
        Depends: (c) =>
          text(
            Effect.gen(function* () {
              const id = yield* resolve(c.item)
              return yield* dependsReply(id, yield* Effect.forEach(c.on, resolve))
            }),
          ),
        Unblock: (c) => text(Effect.flatMap(resolve(c.item), (id) => unblockReply(id, by))),
        Delete: (c) =>
          Effect.flatMap(resolve(c.item), (id) =>
            c.confirmed
              ? text(deleteReply(id))
              : Effect.map(deleteQuestion(id), (question): CommandReply => ({
                  _tag: "Confirm",
                  text: question,
                })),
          ),
        Timer: (c) => text(Effect.flatMap(resolve(c.item), (id) => timerReply(id, c.when))),
        Cost: (c) =>
          text(
            c.scope === undefined || c.scope === "today"
              ? costReply(c.scope)
              : Effect.flatMap(resolve(c.scope), costReply),
          ),
        Queue: () => text(queueReply),
        Approve: (c) =>
          text(Effect.flatMap(resolve(c.item), (id) => verdictReply(id, "approve", c.note, by))),
        Reject: (c) => text(Effect.flatMap(resolve(c.item), (id) => verdictReply(id, "reject", c.notes, by))),
      }),
    )
  })

/**
 * Runs one command line as `by` (who asked, for the record of a decision: "ui", "slack:U123"…). Never
 * fails: every refusal is a Refused reply with its message; a defect is logged and answered as such.
 */
export const executeCommand = (line: string, by: string): Effect.Effect<CommandReply, never, CommandEnv> =>
  Either.match(parseChatCommand(line), {
    onLeft: (e) => Effect.succeed<CommandReply>({ _tag: "Refused", text: e.message }),
    onRight: (command) =>
      run(command, by).pipe(
        Effect.catchAll((e) => Effect.succeed<CommandReply>({ _tag: "Refused", text: e.message })),
        Effect.catchAllDefect((defect) =>
          Effect.logError(`command "${line}" crashed`, defect).pipe(
            Effect.as<CommandReply>({
              _tag: "Refused",
              text: `That failed unexpectedly: ${defect instanceof Error ? defect.message : String(defect)} (the server log has details).`,
            }),
          ),
        ),
      ),
  })

/** The reply text of a command line, whatever the outcome: what a chat bot posts. */
export const runCommand = (line: string, by: string): Effect.Effect<string, never, CommandEnv> =>
  Effect.map(executeCommand(line, by), (reply) => reply.text)

/** The web UI's Command RPC: a refusal is `Refused` with the reply's text; Done and Confirm succeed. */
export const commandRpc = (
  line: string,
  by: string,
): Effect.Effect<{ readonly message: string }, Refused, CommandEnv> =>
  Effect.flatMap(executeCommand(line, by), (reply) =>
    reply._tag === "Refused"
      ? Effect.fail(new Refused({ message: reply.text }))
      : Effect.succeed({ message: reply.text }),
  )

/**
 * The Command handler of the web UI's RPC group, answering as `by`: built where the handlers are built,
 * it holds the services it needs, so answering a call needs nothing from the caller.
 */
export const commandHandler = (by: string) =>
  Effect.map(Effect.context<CommandEnv>(), (services) => ({
    Command: ({ text }: { readonly text: string }) => Effect.provide(commandRpc(text, by), services),
  }))
