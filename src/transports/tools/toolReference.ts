// src/transports/tools/toolReference.ts — renders the registry as the Markdown reference in
// docs/mcp.md, so the documented tools are exactly the served ones (a test keeps them equal).
import { defaultSessionLimits } from "../mcp/sessionLimits.js"
import type { ListedTool } from "./Tool.js"

type JsonSchema = Readonly<Record<string, unknown>>

const typeOf = (schema: JsonSchema): string => {
  if (Array.isArray(schema["enum"]))
    return (schema["enum"] as ReadonlyArray<unknown>).map((v) => `\`${String(v)}\``).join(" \\| ")
  if (Array.isArray(schema["anyOf"]))
    return (schema["anyOf"] as ReadonlyArray<JsonSchema>).map(typeOf).join(" \\| ")
  const type = schema["type"]
  if (type === "array") {
    const items = schema["items"]
    return `array of ${typeof items === "object" && items !== null ? typeOf(items as JsonSchema) : "any"}`
  }
  if (type === "object" && schema["properties"] === undefined) return "object (any JSON values)"
  return typeof type === "string" ? type : "any JSON value"
}

const describeParams = (schema: JsonSchema): string => {
  const properties = (schema["properties"] ?? {}) as Record<string, JsonSchema>
  const required = new Set((schema["required"] ?? []) as ReadonlyArray<string>)
  const names = Object.keys(properties)
  if (names.length === 0) return "No parameters.\n"
  const rows = names.map((name) => {
    const prop = properties[name] ?? {}
    const description = typeof prop["description"] === "string" ? prop["description"] : ""
    return `| \`${name}\` | ${typeOf(prop)} | ${required.has(name) ? "yes" : "no"} | ${description.replace(/\|/g, "\\|")} |`
  })
  return ["| parameter | type | required | meaning |", "| --- | --- | --- | --- |", ...rows, ""].join("\n")
}

const limits = defaultSessionLimits

/** How long a client's session lives and how many there may be, from the limits the endpoint applies. */
const sessionRules = [
  "## Sessions",
  "",
  "Each client gets its own session (the `mcp-session-id` header). huskies frees a session:",
  "",
  "- at once when the client sends `DELETE /mcp` with its session id (the SDK's `terminateSession()`);",
  `- ${limits.streamGraceMillis / 1000} seconds after its event stream (the ` +
    "`GET /mcp` the SDK clients keep open) closed, unless the",
  "  client reopens it or sends a request meanwhile: a client that exits or loses its connection is",
  "  forgotten within seconds;",
  `- after ${limits.idleMillis / 60_000} minutes without a request, for a session that never opened an event stream (a client that`,
  "  only POSTs).",
  "",
  "A session with a request in flight or an open event stream is never timed out, however quiet it is.",
  `At most ${limits.maxSessions} sessions are open, and at most ${limits.maxSessionsPerClient} from one remote address (every local client shares`,
  "127.0.0.1). A new client past either cap takes the place of the least recently used idle session (no",
  "request in flight), one without an event stream first; at the per-address cap it is one of that",
  "address's own. Only when every candidate is busy is the new client refused, with HTTP 503. A request",
  "naming a session that was freed gets HTTP 404 (`Session not found`): the client sends `initialize`",
  "again, as the MCP specification asks.",
]

export const renderToolReference = (tools: ReadonlyArray<ListedTool>): string => {
  const sorted = [...tools].sort((a, b) => a.name.localeCompare(b.name))
  const sections = sorted.map((t) => `### ${t.name}\n\n${t.description}\n\n${describeParams(t.inputSchema)}`)
  return [
    "# MCP tools",
    "",
    "Every tool huskies serves at `/mcp`, generated from the tool registry (`npm run docs:mcp`); a test",
    "fails when this file and the registry differ. In Claude Code the tools appear as",
    "`mcp__huskies__<name>`. Parameters are checked strictly: an unknown parameter or a wrong type is",
    "refused with the field name and the accepted shape, and nothing is written.",
    "",
    ...sessionRules,
    "",
    `${sorted.length} tools: ${sorted.map((t) => `\`${t.name}\``).join(", ")}.`,
    "",
    "## Tools",
    "",
    ...sections,
  ].join("\n")
}
