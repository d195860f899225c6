// test/support/claudePipeline.ts — what the Claude Code pipeline tests share: the project and agents
// files, the agents' environment pointing the real CLI at the fake model API (in-process, or for the real
// `huskies serve`), MCP calls to the server, and readers of the fake's requests and of the session logs.
import { StoryId } from "../../src/domain/StoryId.js"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { Effect, Option, type Scope } from "effect"
import { mkdirSync } from "node:fs"
import { delimiter, dirname, join } from "node:path"
import { Agents } from "../../src/actors/Scheduler.js"
import { listSessionLogs, readSessionLog } from "../../src/layers/SessionLog.js"
import { Store } from "../../src/layers/Store.js"
import {
  type ContentBlock,
  type FakeAnthropic,
  fakeAnthropic,
  messagesOf,
  type RecordedRequest,
  toolResultsOf,
  toolResultText,
  type Turn,
} from "../fakes/anthropic.js"
import { claudeBin } from "./claude.js"
import { makeTempDir, type TempDir } from "./gitRepo.js"
import { type PipelineProject, withPipeline } from "./pipeline.js"
import { eventually, watchStore } from "./waits.js"
import type { ToolTestEnv } from "./tools.js"

export const projectToml = `base_branch = "main"
retry_limit = 2

[commands]
test = "grep -q good feature.txt || { echo GATE-SAYS-NO: feature.txt is not good; exit 1; }"
`

export const agentsToml = (inactivitySecs = 30) => `
[[agent]]
name = "coder-1"
stage = "coder"
runtime = "claude-code"
inactivity_timeout_secs = ${inactivitySecs}

[[agent]]
name = "qa-1"
stage = "qa"
runtime = "claude-code"
inactivity_timeout_secs = ${inactivitySecs}
`

/**
 * What every agent process gets on top of the server's environment: the fake API, a throwaway HOME
 * and config dir (Claude Code keeps its transcripts there, which --resume reads back), a git identity
 * for the agent's commits, and the CLI's own switches (see test/support/claude.ts).
 */
export const claudeAgentEnv = (
  fake: FakeAnthropic,
  home: string,
  extra: Readonly<Record<string, string>> = {},
) => ({
  PATH: `${dirname(claudeBin)}${delimiter}${process.env["PATH"] ?? ""}`,
  HOME: home,
  CLAUDE_CONFIG_DIR: join(home, ".claude"),
  ANTHROPIC_BASE_URL: fake.url,
  ANTHROPIC_API_KEY: "sk-ant-fake-key",
  IS_SANDBOX: "1",
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
  CLAUDE_CODE_MAX_RETRIES: "0",
  DISABLE_TELEMETRY: "1",
  DISABLE_AUTOUPDATER: "1",
  DISABLE_ERROR_REPORTING: "1",
  GIT_AUTHOR_NAME: "agent",
  GIT_AUTHOR_EMAIL: "agent@huskies.invalid",
  GIT_COMMITTER_NAME: "agent",
  GIT_COMMITTER_EMAIL: "agent@huskies.invalid",
  ...extra,
})

// What the test machine's environment may hold that would send Claude Code to a real account, or hand the
// server (and so its agents) the settings of a huskies or Claude Code session running these tests.
const leaky =
  /^(ANTHROPIC_|CLAUDE_|CLAUDECODE$|AWS_|GOOGLE_|VERTEX_|OTEL_|MCP_|DISABLE_|HUSKIES_|HTTPS?_PROXY$|NO_PROXY$)/i

/**
 * The environment to run the real `huskies` command with, for a user whose machine has git with an
 * identity in ~/.gitconfig (the repository's isolated HOME) and Claude Code set up with an API key, which
 * here points at the fake. The agents the server starts inherit it; huskies itself is told nothing about
 * the fake, and the agents commit as the machine's git user, not as a test identity.
 */
export const claudeServerEnv = (repo: TempDir, fake: FakeAnthropic): NodeJS.ProcessEnv => {
  const home = repo.env["HOME"] ?? ""
  mkdirSync(join(home, ".claude"), { recursive: true })
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !leaky.test(name)),
  )
  for (const [name, value] of Object.entries(repo.env)) {
    if (value === undefined) delete env[name]
    else env[name] = value
  }
  const claude: Record<string, string> = { ...claudeAgentEnv(fake, home) }
  for (const name of Object.keys(claude)) if (name.startsWith("GIT_")) delete claude[name]
  return { ...env, ...claude }
}

/** A fake API and a Claude home for one test; both go when the test's scope closes. */
export const claudeWorld = Effect.gen(function* () {
  const fake = yield* fakeAnthropic
  const home = yield* makeTempDir()
  yield* home.write(".claude/.keep", "")
  return { fake, home: home.dir }
})

/** Calls a huskies tool over the server's /mcp, as any MCP client would. */
export const callTool = (url: string, name: string, args: Readonly<Record<string, unknown>>) =>
  Effect.promise(async () => {
    const client = new Client({ name: "pipeline-test", version: "1.0.0" })
    await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)))
    try {
      const result = await client.callTool({ name, arguments: { ...args } })
      return { isError: result.isError === true, value: result.structuredContent as Record<string, unknown> }
    } finally {
      await client.close()
    }
  })

export const bash = (command: string): Turn => ({ toolUses: [{ name: "Bash", input: { command } }] })
export const mcp = (tool: string, input: unknown): Turn => ({
  toolUses: [{ name: `mcp__huskies__${tool}`, input }],
})

/** The sessions that asked the model something, in the order they first did. */
export const mainSessions = (fake: FakeAnthropic): ReadonlyArray<string> => [
  ...new Set(
    fake.requests.flatMap((r) => (r.kind === "main" && r.sessionId !== undefined ? [r.sessionId] : [])),
  ),
]

/** The agent events of an agent's runs on an item, oldest first, as its session logs recorded them. */
export const sessionLogEvents = (root: string, id: string, agent: string) =>
  listSessionLogs(root, id)
    .filter((f) => f.agent === agent)
    .sort((a, b) => a.session - b.session)
    .flatMap((f) =>
      readSessionLog(f.path).flatMap((entry) => {
        const event = entry["event"]
        return typeof event === "object" && event !== null && "_tag" in event
          ? [event as { readonly _tag: string; readonly [field: string]: unknown }]
          : []
      }),
    )

/** The CLI session ids an agent's runs on an item reported, oldest run first. */
export const sessionIdsOf = (root: string, id: string, agent: string): ReadonlyArray<string> =>
  sessionLogEvents(root, id, agent).flatMap((e) =>
    e._tag === "SessionStarted" && typeof e["sessionId"] === "string" ? [e["sessionId"]] : [],
  )

/** The text of the request's last user message: what the CLI was told this time. */
export const lastUserText = (request: RecordedRequest): string => {
  const last = messagesOf(request)
    .filter((m) => m.role === "user")
    .at(-1)
  if (last === undefined) return ""
  const blocks: ReadonlyArray<ContentBlock> =
    typeof last.content === "string" ? [{ type: "text", text: last.content }] : last.content
  return blocks.flatMap((b) => (b.type === "text" && b.text !== undefined ? [b.text] : [])).join("\n")
}

/** Every tool result the model was sent in the session, with the name of the tool that produced it. */
export const toolResultsByName = (requests: ReadonlyArray<RecordedRequest>) => {
  const last = requests.at(-1)
  if (last === undefined) return []
  const names = new Map(
    messagesOf(last).flatMap((m) =>
      typeof m.content === "string"
        ? []
        : m.content.flatMap((b) =>
            b.type === "tool_use" && b.id !== undefined ? [[b.id, b.name ?? ""] as const] : [],
          ),
    ),
  )
  return toolResultsOf(last).map((b) => ({
    name: names.get(b.tool_use_id ?? "") ?? "?",
    isError: b.is_error === true,
    text: toolResultText(b),
  }))
}

/**
 * Seconds of silence the watchdog test allows. The watchdog counts from the spawn, and Claude Code
 * prints nothing until its init line: 1.7-2.6 s here, up to 4 s with both cores busy. Any less and
 * the CLI is sometimes killed starting up rather than while it waits for the model.
 */
export const INACTIVITY = 6

/** The API's retry-after in the rate-limit test: when the limit resets. */
export const RESET_SECS = 2

/** The item's running agent, once its StoryActor has one (the Store says Running a moment earlier). */
export const awaitHandle = (id: string) =>
  Effect.flatMap(Agents, (agents) =>
    eventually(
      `an agent running on ${id}`,
      Effect.map(agents.handle(StoryId.make(id)), Option.getOrUndefined),
    ),
  )

/**
 * Starts watching the Store's timers now; the effect it returns gives the first timers that were set
 * (read when they appeared, so a timer that fires soon after is still seen).
 */
export const watchTimers = Effect.flatMap(Store, (store) =>
  watchStore(
    "a timer to be set",
    Effect.map(store.timers, ({ timers }) => (timers.length > 0 ? timers : undefined)),
  ),
)

/**
 * A fake model API, a Claude home, and a server on a fresh repository whose agents are the real Claude
 * Code CLI pointed at that fake; `body` gets the project and the fake to script.
 */
export const withClaudePipeline = <A, E>(
  options: { readonly inactivitySecs?: number; readonly env?: Readonly<Record<string, string>> },
  body: (project: PipelineProject, fake: FakeAnthropic) => Effect.Effect<A, E, ToolTestEnv | Scope.Scope>,
) =>
  Effect.gen(function* () {
    const { fake, home } = yield* claudeWorld
    return yield* withPipeline(
      {
        projectToml,
        agentsToml: agentsToml(options.inactivitySecs),
        agentEnv: claudeAgentEnv(fake, home, options.env),
      },
      (project) => body(project, fake),
    )
  })
