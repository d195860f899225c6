// src/transports/tools/toolReference.ts — renders the registry as the Markdown reference in
// docs/mcp.md, so the documented tools are exactly the served ones (a test keeps them equal).
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
    `${sorted.length} tools: ${sorted.map((t) => `\`${t.name}\``).join(", ")}.`,
    "",
    "## Tools",
    "",
    ...sections,
  ].join("\n")
}
