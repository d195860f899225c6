// src/layers/runtimes/adapters.ts — the runtime adapter for each `runtime` of agents.toml. AgentActor
// looks an agent's adapter up here.
import type { AgentRuntime } from "../../domain/Config.js"
import { claudeCode } from "./claudeCode.js"
import { codex } from "./codex.js"
import { command } from "./command.js"
import { gemini } from "./gemini.js"
import type { RuntimeAdapter } from "./Runtime.js"

const adapters: Readonly<Record<AgentRuntime, RuntimeAdapter>> = {
  "claude-code": claudeCode,
  codex,
  gemini,
  command,
}

export const adapterFor = (runtime: AgentRuntime): RuntimeAdapter => adapters[runtime]
