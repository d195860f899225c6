// src/transports/tools/registry.ts — every tool huskies offers, in one registry shared by MCP,
// chat commands and the UI.
import type { Git } from "../../layers/Git.js"
import type { LogBuffer } from "../../layers/Logs.js"
import type { Project } from "../../layers/Project.js"
import type { Store } from "../../layers/Store.js"
import type { TestRuns } from "../../layers/TestRuns.js"
import { boardTools } from "./boardTools.js"
import { createTools } from "./createTools.js"
import { deleteTools } from "./deleteTools.js"
import { dependencyTools } from "./dependencyTools.js"
import { editTools } from "./editTools.js"
import { inspectTools } from "./inspectTools.js"
import { permissionTools } from "./permissionTools.js"
import { pipelineTools } from "./pipelineTools.js"
import { testTools } from "./testTools.js"
import { type AnyTool, makeRegistry } from "./Tool.js"

/** What tool handlers may use. */
export type ToolEnv = Store | Project | LogBuffer | Git | TestRuns

export const huskiesTools: ReadonlyArray<AnyTool<ToolEnv>> = [
  ...createTools,
  ...inspectTools,
  ...editTools,
  ...dependencyTools,
  ...boardTools,
  ...pipelineTools,
  ...deleteTools,
  ...testTools,
  ...permissionTools,
]

export const toolRegistry = makeRegistry<ToolEnv>(huskiesTools)
