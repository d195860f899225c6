// src/transports/tools/registry.ts — every tool huskies offers, in one registry shared by MCP,
// chat commands and the UI.
import type { Decisions } from "../../actors/Decisions.js"
import type { Pipeline } from "../../actors/Pipeline.js"
import type { ActivityView, PipelineView } from "../../actors/PipelineView.js"
import type { Git } from "../../layers/Git.js"
import type { HuskiesConfig } from "../../layers/HuskiesConfig.js"
import type { LogBuffer } from "../../layers/Logs.js"
import type { Project } from "../../layers/Project.js"
import type { TestRuns } from "../../layers/TestRuns.js"
import { agentLogTools } from "./agentLogTools.js"
import { agentTools } from "./agentTools.js"
import { boardTools } from "./boardTools.js"
import { commandTools } from "./commandTools.js"
import { createTools } from "./createTools.js"
import { decisionTools } from "./decisionTools.js"
import { deleteTools } from "./deleteTools.js"
import { dependencyTools } from "./dependencyTools.js"
import { editTools } from "./editTools.js"
import { gitTools } from "./gitTools.js"
import { inspectTools } from "./inspectTools.js"
import { mergeTools } from "./mergeTools.js"
import { permissionTools } from "./permissionTools.js"
import { pipelineTools } from "./pipelineTools.js"
import { qaTools } from "./qaTools.js"
import { testTools } from "./testTools.js"
import { timerTools } from "./timerTools.js"
import { type AnyTool, makeRegistry } from "./Tool.js"
import { usageTools } from "./usageTools.js"
import { worktreeTools } from "./worktreeTools.js"

/**
 * What tool handlers may use: the command layer for every change, the read-only view for everything
 * they show, and infrastructure that cannot write the pipeline's state. The Store and the actors are
 * not here, so a handler that writes the Store does not type-check.
 */
export type ToolEnv =
  Pipeline | Decisions | PipelineView | ActivityView | Project | HuskiesConfig | LogBuffer | Git | TestRuns

export const huskiesTools: ReadonlyArray<AnyTool<ToolEnv>> = [
  ...createTools,
  ...inspectTools,
  ...editTools,
  ...dependencyTools,
  ...boardTools,
  ...pipelineTools,
  ...deleteTools,
  ...testTools,
  ...agentTools,
  ...qaTools,
  ...mergeTools,
  ...timerTools,
  ...commandTools,
  ...worktreeTools,
  ...gitTools,
  ...agentLogTools,
  ...usageTools,
  ...permissionTools,
  ...decisionTools,
]

export const toolRegistry = makeRegistry<ToolEnv>(huskiesTools)
