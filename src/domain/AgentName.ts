// src/domain/AgentName.ts — what an agent may be called. A name becomes part of file names (session logs,
// pid records) and of log lines, so it is checked where it enters: agents.toml, MCP tool parameters and
// an item's `agent` front matter all decode through this one schema.
import { Schema } from "effect"

export const maxAgentNameLength = 64

// A first character that is a letter or digit keeps out ".", ".." and hidden files, and "-" (an option
// to any program the name is passed to); the rest cannot hold "/", "\", NUL, spaces or control bytes.
const agentNamePattern = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._-]{0,${maxAgentNameLength - 1}}$`)

/** The rule, as every error about a name says it: "expected an agent name of <this>". */
export const agentNameShape = `1 to ${maxAgentNameLength} letters, digits, ".", "_" or "-", starting with a letter or digit, such as "coder-1"`

export const isAgentNameText = (text: string): boolean => agentNamePattern.test(text)

/** A name that is safe as one path segment and as one argv word. */
export const AgentName = Schema.String.pipe(
  Schema.filter((text) => isAgentNameText(text), {
    message: (issue) => `expected an agent name of ${agentNameShape}; got ${JSON.stringify(issue.actual)}`,
    jsonSchema: { pattern: agentNamePattern.source, maxLength: maxAgentNameLength },
  }),
  Schema.brand("AgentName"),
)
export type AgentName = typeof AgentName.Type

export const isAgentName = Schema.is(AgentName)
