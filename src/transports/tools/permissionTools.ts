// src/transports/tools/permissionTools.ts — prompt_permission: the agent CLI's permission hook
// (`--permission-prompt-tool mcp__huskies__prompt_permission`). Every decision is logged. Without it
// the CLI refuses to start, so it must always be registered. A call the rules answer "ask" waits for a
// person through Decisions.
import { Duration, Effect, Either, Schema } from "effect"
import { Decisions } from "../../actors/Decisions.js"
import type { Permissions } from "../../domain/Config.js"
import { decidePermission, type PermissionDecision } from "../../domain/permissions.js"
import { withComponent } from "../../layers/Logs.js"
import { projectConfig, withProgress } from "./gateTool.js"
import { defineTool, type ToolContext } from "./Tool.js"

type Answered = Exclude<PermissionDecision, { readonly behavior: "ask" }> & { readonly by?: string }

/** Opens a decision for a person and waits (blocking, with progress) for its answer or its timeout. */
const askPerson = (
  permissions: Permissions,
  request: { readonly tool_name: string; readonly input: Readonly<Record<string, unknown>> },
  rule: string | undefined,
  context: ToolContext,
) =>
  Effect.gen(function* () {
    const decisions = yield* Decisions
    const asked = yield* withProgress(
      context,
      `waiting for a person to answer the use of ${request.tool_name}`,
      decisions.ask(
        { _tag: "Permission", toolName: request.tool_name, input: request.input },
        Duration.seconds(permissions.askTimeoutSecs),
      ),
    ).pipe(Effect.either)
    // A request that cannot be recorded cannot be answered: refuse rather than guess.
    if (Either.isLeft(asked))
      return {
        behavior: "deny",
        ...(rule === undefined ? {} : { rule }),
        message: `${request.tool_name} needs a person's answer, and huskies could not ask for one: ${asked.left.message}`,
      } satisfies Answered
    const answer = asked.right.answer
    const by = answer?.by ?? "unknown"
    if (answer?.verdict === "allow")
      return { behavior: "allow", by, ...(rule === undefined ? {} : { rule }) } satisfies Answered
    const why = answer?.note === undefined ? "" : ` (${answer.note})`
    return {
      behavior: "deny",
      by,
      ...(rule === undefined ? {} : { rule }),
      message: `${request.tool_name} was refused by ${by}${why}: a person decides calls like this one ([permissions] of .huskies/project.toml asks). Do the work another way, or stop and say what you needed.`,
    } satisfies Answered
  })

/** Logs the decision and answers it the way the CLI reads it. */
const answerWith = (
  request: {
    readonly tool_name: string
    readonly input: Readonly<Record<string, unknown>>
    readonly tool_use_id?: string | undefined
  },
  decision: Answered,
) =>
  Effect.gen(function* () {
    yield* (decision.behavior === "allow" ? Effect.logInfo : Effect.logWarning)(
      `${decision.behavior === "allow" ? "allowed" : "denied"} ${request.tool_name}`,
    ).pipe(
      Effect.annotateLogs({
        tool: request.tool_name,
        toolUseId: request.tool_use_id ?? "",
        rule: decision.rule ?? `default`,
        decidedBy: decision.by ?? "rules",
      }),
      withComponent("permissions"),
    )
    return decision.behavior === "allow"
      ? { behavior: "allow" as const, updatedInput: request.input }
      : { behavior: "deny" as const, message: decision.message }
  })

export const promptPermission = defineTool({
  name: "prompt_permission",
  description:
    "Permission hook for agent CLIs: decides whether the agent may use a tool it has no standing permission for, by the [permissions] rules of .huskies/project.toml (deny rules first, then ask rules, then allow rules, then the default; pushing is denied by default). A Bash command is parsed: rules see each command it runs, unwrapped from env, sh -c, xargs and the like, with git's global options set aside, and the commands inside $(...) and backticks and in a here-document a shell runs; a command that cannot be parsed (eval, $((...)), or a $(...) or variable that decides which program runs) is denied with a request for a simpler form. Every decision is logged to server_logs. A call the rules answer with ask becomes a pending decision (list_decisions, answer_decision) and BLOCKS until a person answers it or ask_timeout_secs pass (then it is denied), with progress notifications meanwhile; a denial names who decided. Otherwise does not block. Returns {behavior: allow, updatedInput} or {behavior: deny, message}.",
  input: {
    tool_name: Schema.String.annotations({ description: "the tool the agent wants to use, e.g. Bash" }),
    input: Schema.Record({ key: Schema.String, value: Schema.Unknown }).annotations({
      description: "the tool's input as the agent gave it",
    }),
    tool_use_id: Schema.optional(Schema.String),
  },
  output: Schema.Struct({
    behavior: Schema.Literal("allow", "deny"),
    updatedInput: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
    message: Schema.optional(Schema.String),
  }),
  // Claude Code accepts exactly one text block holding the decision as JSON.
  structured: false,
  run: (request, context) =>
    Effect.gen(function* () {
      const config = yield* Effect.either(projectConfig)
      // Settings that cannot be read mean no policy can be applied: refuse rather than guess.
      if (Either.isLeft(config))
        return yield* answerWith(request, {
          behavior: "deny",
          message: `huskies cannot read its permission rules: ${config.left.message}`,
        })
      const permissions = config.right.project.permissions
      const ruled = decidePermission(permissions, request.tool_name, request.input)
      return yield* answerWith(
        request,
        ruled.behavior === "ask" ? yield* askPerson(permissions, request, ruled.rule, context) : ruled,
      )
    }),
})

export const permissionTools = [promptPermission] as const
