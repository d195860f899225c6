// src/transports/tools/decisionTools.ts — list_decisions and answer_decision: the decisions waiting for a
// person (permission requests the rules answer "ask", human QA) and their recent answers, through Decisions.
import { Effect, Schema } from "effect"
import { Decisions } from "../../actors/Decisions.js"
import { Pipeline } from "../../actors/Pipeline.js"
import { type Decision, isPending, Verdict } from "../../domain/Decision.js"
import { defineTool } from "./Tool.js"

const AnswerView = Schema.Struct({
  verdict: Schema.String,
  by: Schema.String,
  at: Schema.String,
  note: Schema.optional(Schema.String),
})

const DecisionView = Schema.Struct({
  decision_id: Schema.String,
  kind: Schema.Literal("permission", "human_qa"),
  story_id: Schema.optional(Schema.String),
  agent: Schema.optional(Schema.String),
  tool_name: Schema.optional(Schema.String),
  input: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  requested_at: Schema.String,
  expires_at: Schema.optional(Schema.String),
  verdicts: Schema.Array(Schema.String),
  answer: Schema.optional(AnswerView),
})

const iso = (millis: number) => new Date(millis).toISOString()

const view = (decision: Decision): typeof DecisionView.Type => ({
  decision_id: decision.id,
  ...(decision.storyId === undefined ? {} : { story_id: decision.storyId }),
  requested_at: iso(decision.requestedAt),
  ...(decision.answer === undefined
    ? {}
    : {
        answer: {
          verdict: decision.answer.verdict,
          by: decision.answer.by,
          at: iso(decision.answer.at),
          ...(decision.answer.note === undefined ? {} : { note: decision.answer.note }),
        },
      }),
  ...(decision._tag === "HumanQa"
    ? { kind: "human_qa" as const, verdicts: ["approve", "reject"] }
    : {
        kind: "permission" as const,
        ...(decision.agent === undefined ? {} : { agent: decision.agent }),
        tool_name: decision.toolName,
        input: decision.input,
        // The end of time means "no timeout": not worth a date.
        ...(decision.expiresAt >= Number.MAX_SAFE_INTEGER ? {} : { expires_at: iso(decision.expiresAt) }),
        verdicts: ["allow", "deny"],
      }),
})

export const listDecisions = defineTool({
  name: "list_decisions",
  description:
    "The decisions waiting for a person, oldest first: permission requests of agents that the [permissions] rules of .huskies/project.toml answer with ask (the agent is blocked until answered or ask_timeout_secs pass, then denied), and the QA of items with qa: human. Then the recent answers, newest first, each with its verdict, who gave it and when. Answer with answer_decision. Does not block.",
  input: {},
  output: Schema.Struct({
    pending: Schema.Array(DecisionView),
    recent: Schema.Array(DecisionView),
    projection_errors: Schema.Array(Schema.Struct({ path: Schema.String, detail: Schema.String })),
  }),
  run: () =>
    Effect.gen(function* () {
      const { decisions, errors } = yield* (yield* Decisions).list
      const answered = decisions.filter((d) => !isPending(d))
      return {
        pending: decisions.filter(isPending).map(view),
        recent: answered.sort((a, b) => (b.answer?.at ?? 0) - (a.answer?.at ?? 0)).map(view),
        projection_errors: errors.map((e) => ({ path: e.path, detail: e.detail })),
      }
    }),
})

export const answerDecision = defineTool({
  name: "answer_decision",
  people: true,
  description:
    "A person's answer to a pending decision (list_decisions shows them): allow or deny for a permission request (the waiting agent gets the answer at once), approve or reject for a human QA. The answer is recorded with who gave it (this MCP client) and when, and cannot be changed. Approving a human QA moves the item to Merge (as accept_story does), rejecting it sends it back to Coding with the note as the next coder's instructions (as reject_qa does); if the item cannot move, the QA stays pending under a new decision id and the error says why. Does not block.",
  input: {
    decision_id: Schema.String.annotations({ description: "as list_decisions shows it, e.g. dec-…" }),
    verdict: Verdict.annotations({ description: "allow | deny (permission), approve | reject (human QA)" }),
    note: Schema.optional(Schema.String.annotations({ description: "why, for the record and the agent" })),
  },
  output: DecisionView,
  run: ({ decision_id, verdict, note }, context) =>
    Effect.gen(function* () {
      const by = context.caller ?? "mcp"
      const answered = yield* (yield* Pipeline).answerDecision(decision_id, verdict, by, note)
      return view(answered)
    }),
})

export const decisionTools = [listDecisions, answerDecision] as const
