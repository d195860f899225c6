// src/domain/Config.ts — schemas of .huskies/project.toml and .huskies/agents.toml (snake_case in TOML,
// camelCase in TypeScript) and their pure decoding into values or a ConfigError that names the file, the
// key path and the fix. Read by layers/Config (loading) and layers/Scaffold (writing defaults).
import { type Either, Schema } from "effect"
import { AgentEnv } from "./agentEnv.js"
import { AgentName, agentNameShape } from "./AgentName.js"
import { chatAgentPrompt } from "./chatAssistant.js"
import { defaultPrompts } from "./defaultTeam.js"
import { PermissionRule } from "./permissions.js"
import { NodesSettings } from "./NodesSettings.js"
import { AgentRole, QaMode } from "./Stage.js"
import {
  asTable,
  type ConfigError,
  decodeToml,
  expecting,
  expectingContainer,
  required,
} from "./tomlSchema.js"

export { ConfigError, ConfigIssue, decodeToml, formatKeyPath } from "./tomlSchema.js"
export { NodesSettings } from "./NodesSettings.js"

const oneOf = (values: ReadonlyArray<string>): string => `one of ${values.join(", ")}`

const NonEmptyString = Schema.NonEmptyTrimmedString.annotations(expecting("a non-empty string"))
const PositiveInt = Schema.Int.pipe(Schema.positive()).annotations(expecting("a whole number >= 1"))
const NonNegativeInt = Schema.Int.pipe(Schema.nonNegative()).annotations(expecting("a whole number >= 0"))

/** Variables a prompt template may use, written `{{story_id}}`. */
export const templateVariables = ["story_id"] as const
export type TemplateVariables = Readonly<Record<(typeof templateVariables)[number], string>>

const placeholder = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g

/** Fills `{{story_id}}`-style placeholders; the schema has already rejected unknown ones. */
export const renderTemplate = (template: string, vars: TemplateVariables): string =>
  template.replace(placeholder, (whole, name: string) =>
    name in vars ? vars[name as keyof typeof vars] : whole,
  )

// A typo such as {{storyid}} would otherwise reach the agent verbatim and silently lose the story id.
const Template = Schema.String.annotations(expecting("a string")).pipe(
  Schema.filter((text) => {
    const unknown = [...text.matchAll(placeholder)]
      .map((m) => m[1] ?? "")
      .filter((name) => !(templateVariables as ReadonlyArray<string>).includes(name))
    return unknown.length === 0
      ? text.trim() !== "" || "expected a non-empty template (omit the key to use the default)"
      : `uses unknown template variable ${unknown.map((n) => `{{${n}}}`).join(", ")}; ` +
          `known variables: ${templateVariables.map((n) => `{{${n}}}`).join(", ")}`
  }),
)

// -------------------------------------------------------------------------------------- project.toml

export const storeDurabilities = ["normal", "full"] as const
/** SQLite `synchronous` mode of the store: "full" fsyncs every write, "normal" only at checkpoints. */
export const StoreDurability = Schema.Literal(...storeDurabilities).annotations(
  expecting(oneOf(storeDurabilities)),
)
export type StoreDurability = typeof StoreDurability.Type

const qaModes = QaMode.literals
const BranchName = Schema.String.pipe(
  Schema.filter((name) => /^[^\s~^:?*[\\]+$/.test(name) && !name.startsWith("-") && !name.includes("..")),
).annotations(expecting('a git branch name such as "main"'))

/** Shell command lines, run with `sh -c` in the story's worktree. An absent command is skipped. */
export const Commands = asTable(
  Schema.Struct({
    test: Schema.optionalWith(NonEmptyString, { exact: true }),
    lint: Schema.optionalWith(NonEmptyString, { exact: true }),
    build: Schema.optionalWith(NonEmptyString, { exact: true }),
  }),
  'a [commands] table, e.g. test = "npm test"',
)
export type Commands = typeof Commands.Type

const limit = (fallback: number) => Schema.optionalWith(PositiveInt, { default: () => fallback, exact: true })

/** How many agents run at once on one node: in all, and per stage. The smaller bound wins. */
export const Concurrency = asTable(
  Schema.Struct({
    maxAgents: limit(4).pipe(Schema.fromKey("max_agents")),
    maxCoders: limit(2).pipe(Schema.fromKey("max_coders")),
    maxQa: limit(1).pipe(Schema.fromKey("max_qa")),
    maxMergemasters: limit(1).pipe(Schema.fromKey("max_mergemasters")),
    /**
     * Chat assistant agents (stage = "chat") at once, over every chat conversation; not counted in
     * max_agents. Absent: `defaultMaxChat`.
     */
    maxChat: Schema.optionalWith(PositiveInt, { exact: true }).pipe(Schema.fromKey("max_chat")),
  }),
  "a [concurrency] table",
)
export type Concurrency = typeof Concurrency.Type

export const defaultMaxChat = 2

export const maxForStage = (concurrency: Concurrency, stage: AgentRole): number =>
  Math.min(
    concurrency.maxAgents,
    stage === "coder"
      ? concurrency.maxCoders
      : stage === "qa"
        ? concurrency.maxQa
        : concurrency.maxMergemasters,
  )

const AllowedHost = Schema.String.pipe(
  Schema.pattern(/^(\[[0-9A-Fa-f:.]+\]|[^\s:/\\[\]@?#]+)(:\d{1,5})?$/),
).annotations(
  expecting('a host name or address, optionally with a port, such as "huskies.lan" or "10.0.0.5:3001"'),
)

/** Goes in an HTTP header: printable ASCII without spaces, and long enough not to be guessed. */
export const serverTokenPattern = /^[\x21-\x7e]{16,}$/
// The message never repeats the value: a token that is wrong is still someone's secret.
export const ServerToken = Schema.Redacted(
  Schema.String.pipe(Schema.pattern(serverTokenPattern)).annotations({
    message: () => ({
      message:
        "expected a token of at least 16 printable characters without spaces " +
        "(e.g. the output of `openssl rand -hex 32`); the value given is not shown",
      override: true,
    }),
  }),
)

export const Server = asTable(
  Schema.Struct({
    port: Schema.optionalWith(
      Schema.Int.pipe(Schema.between(0, 65535)).annotations(expecting("a port number from 0 to 65535")),
      { default: () => 3001, exact: true },
    ),
    host: Schema.optionalWith(
      Schema.String.pipe(Schema.pattern(/^\S+$/)).annotations(
        expecting('a host or address such as "127.0.0.1"'),
      ),
      { default: () => "127.0.0.1", exact: true },
    ),
    /** Names (or name:port) besides the bind's own that requests may use as Host and browsers as Origin. */
    allowedHosts: Schema.optionalWith(Schema.Array(AllowedHost), { default: () => [], exact: true }).pipe(
      Schema.fromKey("allowed_hosts"),
    ),
    /** The bearer token every request must carry (HUSKIES_TOKEN overrides it). Never logged. */
    token: Schema.optionalWith(ServerToken, { exact: true }),
  }),
  "a [server] table",
)

export const Store = asTable(
  Schema.Struct({
    durability: Schema.optionalWith(StoreDurability, { default: () => "normal" as const, exact: true }),
  }),
  "a [store] table",
)

const permissionDefaults = ["allow", "deny", "ask"] as const

/**
 * What an agent may do with a tool it has no standing permission for (answered by prompt_permission).
 * Pushing is denied by default: publishing work is the merge queue's job, never an agent's. "ask" makes
 * the call wait for a person's answer (a pending decision), refused after `ask_timeout_secs`.
 */
export const Permissions = asTable(
  Schema.Struct({
    default: Schema.optionalWith(
      Schema.Literal(...permissionDefaults).annotations(expecting(oneOf(permissionDefaults))),
      { default: () => "allow" as const, exact: true },
    ),
    allow: Schema.optionalWith(
      Schema.Array(PermissionRule).annotations(expectingContainer('an array such as ["Bash(npm *)"]')),
      { default: () => [], exact: true },
    ),
    deny: Schema.optionalWith(
      Schema.Array(PermissionRule).annotations(expectingContainer('an array such as ["Bash(*git push*)"]')),
      { default: () => ["Bash(*git push*)"], exact: true },
    ),
    ask: Schema.optionalWith(
      Schema.Array(PermissionRule).annotations(expectingContainer('an array such as ["Bash(rm *)"]')),
      { default: () => [], exact: true },
    ),
    askTimeoutSecs: Schema.optionalWith(PositiveInt, { default: () => 300, exact: true }).pipe(
      Schema.fromKey("ask_timeout_secs"),
    ),
  }),
  "a [permissions] table",
)
export type Permissions = typeof Permissions.Type

/** How the merge queue retries and tidies up. */
export const MergeSettings = asTable(
  Schema.Struct({
    /** Merge attempts an item gets (a mergemaster fixes the branch between them) before MergeFailed. */
    attempts: Schema.optionalWith(PositiveInt, { default: () => 3, exact: true }),
    /**
     * Bring a clean checkout of the base branch (the project root's, usually) along when the base moves.
     * false: merges wait while the base is checked out anywhere, so no checkout is ever changed.
     */
    updateCheckout: Schema.optionalWith(Schema.Boolean.annotations(expecting("true or false")), {
      default: () => true,
      exact: true,
    }).pipe(Schema.fromKey("update_checkout")),
    /** Items Done for longer than this are Archived as Completed; 0 keeps them in Done. */
    archiveDoneAfterSecs: Schema.optionalWith(NonNegativeInt, { default: () => 86_400, exact: true }).pipe(
      Schema.fromKey("archive_done_after_secs"),
    ),
  }),
  "a [merge] table",
)
export type MergeSettings = typeof MergeSettings.Type

const table = <S extends Schema.Schema.AnyNoContext>(schema: S) =>
  Schema.optionalWith(schema, { default: () => Schema.decodeUnknownSync(schema)({}), exact: true })

export const ProjectConfig = Schema.Struct({
  /** Branch that finished work is squash-merged into. `huskies init` writes the repo's current branch. */
  baseBranch: Schema.optionalWith(BranchName, { default: () => "main", exact: true }).pipe(
    Schema.fromKey("base_branch"),
  ),
  /** Start items by themselves (dependencies met, agent free); false: only start_agent and timers do. */
  autoAssign: Schema.optionalWith(Schema.Boolean.annotations(expecting("true or false")), {
    default: () => true,
    exact: true,
  }).pipe(Schema.fromKey("auto_assign")),
  /** QA for items whose front matter sets none. */
  defaultQa: Schema.optionalWith(QaMode.annotations(expecting(oneOf(qaModes))), {
    default: () => "agent" as const,
    exact: true,
  }).pipe(Schema.fromKey("default_qa")),
  /** Failed coder sessions (gates or QA) an item may have before it is Archived as Blocked. */
  retryLimit: Schema.optionalWith(NonNegativeInt, { default: () => 2, exact: true }).pipe(
    Schema.fromKey("retry_limit"),
  ),
  gatesTimeoutSecs: Schema.optionalWith(PositiveInt, { default: () => 1200, exact: true }).pipe(
    Schema.fromKey("gates_timeout_secs"),
  ),
  commands: table(Commands),
  concurrency: table(Concurrency),
  server: table(Server),
  store: table(Store),
  permissions: table(Permissions),
  merge: table(MergeSettings),
  nodes: table(NodesSettings),
  /** Chat integrations: references to credentials (env var names, files), never secrets. Free-form for now. */
  chat: Schema.optionalWith(
    asTable(Schema.Record({ key: Schema.String, value: Schema.Unknown }), "a [chat] table"),
    { exact: true },
  ),
})
export type ProjectConfig = typeof ProjectConfig.Type

export const defaultProjectConfig: ProjectConfig = Schema.decodeUnknownSync(ProjectConfig)({})

// --------------------------------------------------------------------------------------- agents.toml

export const agentRuntimes = ["claude-code", "codex", "gemini", "command"] as const
/** How an agent is run: a known agent CLI, or `command`, any program given as an argv array. */
export const AgentRuntime = Schema.Literal(...agentRuntimes).annotations(expecting(oneOf(agentRuntimes)))
export type AgentRuntime = typeof AgentRuntime.Type

const AgentNameEntry = AgentName.annotations(expecting(`an agent name of ${agentNameShape}`))

/**
 * The work an agent takes: an item's stage (its AgentRole: coder, qa, mergemaster), or "chat", the chat
 * assistant, which no item is ever given to (assign.ts matches agents to items by AgentRole).
 */
export const AgentStage = Schema.Literal(...AgentRole.literals, "chat")
export type AgentStage = typeof AgentStage.Type

const Argv = Schema.Array(Schema.String.annotations(expecting("a string")))
  .annotations(expectingContainer('an array such as ["./scripts/agent.sh", "--fast"]'))
  .pipe(
    Schema.filter((argv): argv is readonly [string, ...Array<string>] => argv.length > 0 && argv[0] !== "", {
      message: () => 'expected the program and its arguments, e.g. ["./scripts/agent.sh", "--fast"]',
    }),
  )

// Everything but `prompt`, which is optional in the file and always present once decoded.
const agentFields = {
  name: Schema.propertySignature(AgentNameEntry).annotations(
    required('add name = "coder-1" (unique per file)'),
  ),
  stage: Schema.propertySignature(AgentStage.annotations(expecting(oneOf(AgentStage.literals)))).annotations(
    required(`add stage = "coder" (${oneOf(AgentStage.literals)})`),
  ),
  /** Defaults to claude-code. */
  runtime: Schema.optionalWith(AgentRuntime, { default: () => "claude-code" as const, exact: true }),
  /** Passed to the runtime as is (e.g. "sonnet"); absent: the runtime's default model. */
  model: Schema.optionalWith(NonEmptyString, { exact: true }),
  /** One line on what the agent is for, shown on the board. */
  role: Schema.optionalWith(NonEmptyString, { exact: true }),
  systemPrompt: Schema.optionalWith(Template, { exact: true }).pipe(Schema.fromKey("system_prompt")),
  maxTurns: Schema.optionalWith(PositiveInt, { exact: true }).pipe(Schema.fromKey("max_turns")),
  maxBudgetUsd: Schema.optionalWith(
    Schema.Number.pipe(Schema.positive(), Schema.finite()).annotations(
      expecting("a positive number of dollars"),
    ),
    { exact: true },
  ).pipe(Schema.fromKey("max_budget_usd")),
  /** Seconds without output before the watchdog stops the agent. */
  inactivityTimeoutSecs: Schema.optionalWith(PositiveInt, { default: () => 1800, exact: true }).pipe(
    Schema.fromKey("inactivity_timeout_secs"),
  ),
  /** Required with runtime = "command" (run without a shell), rejected with any other runtime. */
  command: Schema.optionalWith(Argv, { exact: true }),
  /** Variables for this agent on top of the server's and the runtime's; `${NAME}` names a server variable. */
  env: Schema.optionalWith(asTable(AgentEnv, 'an env table, e.g. env = { RUST_LOG = "debug" }'), {
    exact: true,
  }),
}

// A `command` on a CLI runtime is an error rather than ignored: whoever wrote it expected it to run.
const AgentEntry = Schema.Struct({
  ...agentFields,
  prompt: Schema.optionalWith(Template, { exact: true }),
}).pipe(
  Schema.filter((agent) => {
    if (agent.runtime === "command" && agent.command === undefined)
      return {
        path: ["command"],
        message: 'is required when runtime = "command": add command = ["program", "arg", ...]',
      }
    if (agent.runtime !== "command" && agent.command !== undefined)
      return {
        path: ["command"],
        message: `is only used with runtime = "command" (this agent's runtime is "${agent.runtime}"): remove it, or set runtime = "command"`,
      }
    return undefined
  }),
)

const AgentShape = Schema.typeSchema(Schema.Struct({ ...agentFields, prompt: Template }))

/** One [[agent]]. `command` is present exactly when `runtime` is "command". */
export const AgentConfig = Schema.transform(AgentEntry, AgentShape, {
  strict: true,
  decode: (entry) => ({
    ...entry,
    prompt: entry.prompt ?? (entry.stage === "chat" ? chatAgentPrompt : defaultPrompts[entry.stage]),
  }),
  encode: (agent) => agent,
})
export type AgentConfig = typeof AgentConfig.Type

const AgentList = Schema.Array(asTable(AgentConfig, "an [[agent]] table"))
  .annotations(expectingContainer('[[agent]] tables, e.g. [[agent]] name = "coder-1" stage = "coder"'))
  .pipe(
    Schema.filter((agents): agents is readonly [AgentConfig, ...Array<AgentConfig>] => agents.length > 0, {
      message: () =>
        "defines no agents: add at least one [[agent]], or delete the file to use the default team",
    }),
  )

export const AgentsConfig = Schema.Struct({
  agents: Schema.propertySignature(AgentList)
    .annotations({
      missingMessage: () =>
        "is missing: the file defines no [[agent]] tables; add one, or delete the file to use the default team",
    })
    .pipe(Schema.fromKey("agent")),
}).pipe(
  Schema.filter((file) =>
    file.agents.flatMap((agent, index) => {
      const first = file.agents.findIndex((other) => other.name === agent.name)
      return first === index
        ? []
        : [
            {
              path: ["agent", index, "name"],
              message: `duplicate agent name "${agent.name}" (also agent[${first}].name): names must be unique`,
            },
          ]
    }),
  ),
)
export type AgentsConfig = typeof AgentsConfig.Type

export const decodeProjectToml = (text: string, file: string): Either.Either<ProjectConfig, ConfigError> =>
  decodeToml(ProjectConfig, text, file)

export const decodeAgentsToml = (text: string, file: string): Either.Either<AgentsConfig, ConfigError> =>
  decodeToml(AgentsConfig, text, file)
