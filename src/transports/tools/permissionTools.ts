// src/transports/tools/permissionTools.ts — prompt_permission: the agent CLI's permission hook
// (`--permission-prompt-tool mcp__huskies__prompt_permission`). Every decision is logged. Without it
// the CLI refuses to start, so it must always be registered.
import { Effect, Either, Schema } from "effect"
import { decidePermission, type PermissionDecision } from "../../domain/permissions.js"
import { withComponent } from "../../layers/Logs.js"
import { projectConfig } from "./gateTool.js"
import { defineTool } from "./Tool.js"

export const promptPermission = defineTool({
  name: "prompt_permission",
  description:
    "Permission hook for agent CLIs: decides whether the agent may use a tool it has no standing permission for, by the [permissions] rules of .huskies/project.toml (deny rules first, then allow rules, then the default; pushing is denied by default). A Bash command is parsed: rules see each command it runs, unwrapped from env, sh -c, xargs and the like, with git's global options set aside, and the commands inside $(...) and backticks and in a here-document a shell runs; a command that cannot be parsed (eval, $((...)), or a $(...) or variable that decides which program runs) is denied with a request for a simpler form. Every decision is logged to server_logs. Asking a person through the board or chat comes with those interfaces. Does not block. Returns {behavior: allow, updatedInput} or {behavior: deny, message}.",
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
  run: (request) =>
    Effect.gen(function* () {
      const config = yield* Effect.either(projectConfig)
      // Settings that cannot be read mean no policy can be applied: refuse rather than guess.
      const decision: PermissionDecision = Either.isRight(config)
        ? decidePermission(config.right.project.permissions, request.tool_name, request.input)
        : { behavior: "deny", message: `huskies cannot read its permission rules: ${config.left.message}` }
      yield* (decision.behavior === "allow" ? Effect.logInfo : Effect.logWarning)(
        `${decision.behavior === "allow" ? "allowed" : "denied"} ${request.tool_name}`,
      ).pipe(
        Effect.annotateLogs({
          tool: request.tool_name,
          toolUseId: request.tool_use_id ?? "",
          rule: decision.rule ?? `default`,
        }),
        withComponent("permissions"),
      )
      return decision.behavior === "allow"
        ? { behavior: "allow" as const, updatedInput: request.input }
        : { behavior: "deny" as const, message: decision.message }
    }),
})

export const permissionTools = [promptPermission] as const
