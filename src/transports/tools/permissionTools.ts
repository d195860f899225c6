// src/transports/tools/permissionTools.ts — prompt_permission: the agent CLI's permission hook
// (`--permission-prompt-tool mcp__huskies__prompt_permission`). Every decision is logged. Without it
// the CLI refuses to start, so it must always be registered.
import { Effect, Schema } from "effect"
import { withComponent } from "../../layers/Logs.js"
import { defineTool } from "./Tool.js"

export const promptPermission = defineTool({
  name: "prompt_permission",
  description:
    "Permission hook for agent CLIs: decides whether the agent may use a tool it has no standing permission for. Current policy: allow (the agent works in its own worktree on its own branch) and log every decision to server_logs; asking a person through the board or chat comes with those interfaces. Does not block. Returns {behavior: allow, updatedInput} or {behavior: deny, message}.",
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
    Effect.logInfo(`allowed ${request.tool_name}`).pipe(
      Effect.annotateLogs({ tool: request.tool_name, toolUseId: request.tool_use_id ?? "", policy: "allow" }),
      withComponent("permissions"),
      Effect.as({ behavior: "allow" as const, updatedInput: request.input }),
    ),
})

export const permissionTools = [promptPermission] as const
