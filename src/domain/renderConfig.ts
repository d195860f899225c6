// src/domain/renderConfig.ts — writes ProjectConfig and agent lists as commented TOML that decodes back
// to the same values (a property test holds it to that). Used by `huskies init` to write .huskies/*.toml.
import { Redacted } from "effect"
import { stringify } from "smol-toml"
import { type AgentConfig, defaultMaxChat, type ProjectConfig } from "./Config.js"

/** One TOML value, escaped by smol-toml so that no string can break out of its quotes. */
const tomlValue = (value: unknown): string => stringify({ v: value }).trim().replace(/^v = /, "")

// Prompts are long and multi-line: a '''literal''' block keeps them readable and editable in place.
// It cannot hold ''' , a CR or other control characters, nor end in a quote; those fall back to "...".
const tomlText = (text: string): string =>
  text.includes("\n") &&
  !text.includes("'''") &&
  !text.endsWith("'") &&
  // eslint-disable-next-line no-control-regex
  !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(text)
    ? `'''\n${text}'''`
    : tomlValue(text)

const line = (key: string, value: unknown): string =>
  `${key} = ${typeof value === "string" ? tomlText(value) : tomlValue(value)}`

const optionalLine = (key: string, value: string | undefined, example: string): string =>
  value === undefined ? `# ${key} = ${tomlValue(example)}` : line(key, value)

export const renderProjectToml = (config: ProjectConfig): string => {
  const { commands, concurrency, server, store, permissions, merge, nodes } = config
  return `# .huskies/project.toml — settings of this huskies project. Every key is optional: an absent key
# takes its default. An unknown key is an error, so a typo cannot go unnoticed.

# Branch that finished work is squash-merged into.
${line("base_branch", config.baseBranch)}

# Start work items by themselves when their dependencies are done and an agent is free. With false,
# only start_agent (and schedule_start) start them.
${line("auto_assign", config.autoAssign)}

# QA for work items whose front matter sets no \`qa:\` — "agent" (a QA agent reviews the work),
# "human" (a person approves it on the board or in chat) or "none" (merge once the gates pass).
${line("default_qa", config.defaultQa)}

# Failed coder sessions (gates failed or QA rejected) before an item is archived as Blocked.
${line("retry_limit", config.retryLimit)}

# Seconds the gates may run before they count as failed.
${line("gates_timeout_secs", config.gatesTimeoutSecs)}

# The gates: shell command lines run with \`sh -c\` in the story's worktree when its coder exits.
# A command that is not set is skipped.
[commands]
${optionalLine("test", commands.test, "npm test")}
${optionalLine("lint", commands.lint, "npm run lint")}
${optionalLine("build", commands.build, "npm run build")}

# Agents running at once on this machine: in all, and per stage. The smaller bound wins.
[concurrency]
${line("max_agents", concurrency.maxAgents)}
${line("max_coders", concurrency.maxCoders)}
${line("max_qa", concurrency.maxQa)}
${line("max_mergemasters", concurrency.maxMergemasters)}
# Chat assistant agents (stage = "chat") at once over every chat conversation, beside max_agents.
${concurrency.maxChat === undefined ? `# max_chat = ${defaultMaxChat}` : line("max_chat", concurrency.maxChat)}

# The web UI, MCP and sync endpoints. A request's Host (and a browser page's Origin) must name this
# server: a loopback name, the bound address, or one of allowed_hosts ("name" or "name:port").
# A host other than loopback needs a bearer token on every request: HUSKIES_TOKEN, \`token\` here
# (this file is usually committed: prefer the variable), or one huskies generates in .huskies/run/token.
[server]
${line("port", server.port)}
${line("host", server.host)}
${line("allowed_hosts", server.allowedHosts)}
${server.token === undefined ? '# token = "at least 16 characters"' : line("token", Redacted.value(server.token))}

# .huskies/huskies.db: "normal" is fast and may lose the last moments of work on a power cut;
# "full" syncs every write to disk.
[store]
${line("durability", store.durability)}

# What an agent may do with a tool it has no standing permission for. Rules are "Tool" or
# "Tool(pattern)"; the pattern matches the Bash command or the file path, and * matches anything.
# Deny rules are checked first, then ask rules (a person answers on the board, in chat or with
# answer_decision; unanswered after \`ask_timeout_secs\`, the call is refused), then allow rules; a tool
# no rule names gets \`default\` ("allow", "deny" or "ask").
[permissions]
${line("default", permissions.default)}
${line("allow", permissions.allow)}
${line("deny", permissions.deny)}
${line("ask", permissions.ask)}
${line("ask_timeout_secs", permissions.askTimeoutSecs)}

# The merge queue. A merge that conflicts or fails the gates goes to the mergemaster agent, which fixes
# the feature branch; after \`attempts\` failed merges the item is archived as MergeFailed. Items Done for
# longer than \`archive_done_after_secs\` are archived as Completed (0: never).
[merge]
${line("attempts", merge.attempts)}
# A clean checkout of base_branch follows the merges; with false, merges wait while it is checked out.
${line("update_checkout", merge.updateCheckout)}
${line("archive_done_after_secs", merge.archiveDoneAfterSecs)}

# Several machines on one pipeline (docs/nodes.md). A claim on an item lasts \`lease_secs\` without a
# heartbeat; workers push feature branches to \`remote\` and run only \`worker_stages\` ("coder", "qa",
# "mergemaster"): by default QA and merges stay on the main node.
[nodes]
${line("lease_secs", nodes.leaseSecs)}
${line("remote", nodes.remote)}
${line("worker_stages", nodes.workerStages)}
# Push base_branch to \`remote\` after each merge (workers start new branches from the remote's base).
${line("push_base", nodes.pushBase)}

# Chat integrations (Slack, Discord, Matrix, WhatsApp): names of the environment variables or files
# that hold credentials, never the secrets themselves.
${config.chat === undefined ? '# [chat]\n# slack = { token_env = "SLACK_BOT_TOKEN", channel = "#huskies" }' : renderChat(config.chat)}
`
}

const renderChat = (chat: Readonly<Record<string, unknown>>): string =>
  Object.keys(chat).length === 0 ? "[chat]" : stringify({ chat }).trim()

const renderAgent = (agent: AgentConfig): string =>
  [
    "[[agent]]",
    line("name", agent.name),
    line("stage", agent.stage),
    line("runtime", agent.runtime),
    agent.model === undefined ? undefined : line("model", agent.model),
    agent.role === undefined ? undefined : line("role", agent.role),
    agent.maxTurns === undefined ? undefined : line("max_turns", agent.maxTurns),
    agent.maxBudgetUsd === undefined ? undefined : line("max_budget_usd", agent.maxBudgetUsd),
    line("inactivity_timeout_secs", agent.inactivityTimeoutSecs),
    agent.command === undefined ? undefined : line("command", agent.command),
    agent.systemPrompt === undefined ? undefined : line("system_prompt", agent.systemPrompt),
    line("prompt", agent.prompt),
  ]
    .filter((l): l is string => l !== undefined)
    .join("\n")

export const renderAgentsToml = (agents: ReadonlyArray<AgentConfig>): string =>
  `# .huskies/agents.toml — the agents huskies runs. One [[agent]] table per agent:
#   name                     unique, e.g. "coder-1"
#   stage                    "coder", "qa" or "mergemaster": the stage whose work it takes; or "chat":
#                            the chat assistant (docs/chat.md), never given an item
#   runtime                  "claude-code" (default), "codex", "gemini", or "command" for any program
#   command                  with runtime = "command" only: the program and its arguments, run without
#                            a shell, e.g. ["./scripts/agent.sh", "--fast"]
#   model                    passed to the runtime as is; absent: the runtime's default model
#   role                     one line shown on the board
#   prompt, system_prompt    templates: {{story_id}} becomes the work item's id. Without a prompt the
#                            agent gets huskies' default prompt for its stage.
#   max_turns, max_budget_usd, inactivity_timeout_secs   limits the watchdog enforces
# An unknown key, runtime or stage, or two agents with one name, stop huskies with an error naming it.
# Delete this file to go back to huskies' default team.

${agents.map(renderAgent).join("\n\n")}
`
