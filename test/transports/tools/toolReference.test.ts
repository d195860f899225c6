// test/transports/tools/toolReference.test.ts — docs/mcp.md lists exactly the tools the registry
// serves, with their current descriptions and parameters.
import { describe, expect, it } from "vitest"
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { toolRegistry } from "../../../src/transports/tools/registry.js"
import { renderToolReference } from "../../../src/transports/tools/toolReference.js"

describe("docs/mcp.md", () => {
  it("matches the registry (regenerate with `npm run docs:mcp`)", () => {
    const rendered = renderToolReference(toolRegistry.list)
    // Compare after the same formatting the committed file gets.
    const formatted = execFileSync("npx", ["prettier", "--stdin-filepath", "docs/mcp.md"], {
      input: rendered,
      encoding: "utf8",
    })
    expect(readFileSync("docs/mcp.md", "utf8")).toBe(formatted)
    for (const tool of toolRegistry.list) expect(formatted).toContain(`### ${tool.name}`)
  })
})
