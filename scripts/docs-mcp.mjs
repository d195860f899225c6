// scripts/docs-mcp.mjs — writes docs/mcp.md from the tool registry (run after `npm run build`).
import { writeFileSync } from "node:fs"
import { renderToolReference } from "../dist/src/transports/tools/toolReference.js"
import { toolRegistry } from "../dist/src/transports/tools/registry.js"

writeFileSync("docs/mcp.md", renderToolReference(toolRegistry.list))
console.log(`docs/mcp.md: ${toolRegistry.list.length} tools`)
