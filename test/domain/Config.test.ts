// test/domain/Config.test.ts — project.toml / agents.toml schemas: defaults, every rejection naming file,
// key and fix, and round trips (decode -> encode -> decode, render -> decode) as properties.
import { describe, expect, it } from "@effect/vitest"
import { Either, Redacted, Schema } from "effect"
import * as fc from "fast-check"
import { stringify } from "smol-toml"
import {
  type AgentConfig,
  AgentsConfig,
  type ConfigError,
  decodeAgentsToml,
  decodeProjectToml,
  defaultProjectConfig,
  formatKeyPath,
  maxForStage,
  ProjectConfig,
  renderTemplate,
} from "../../src/domain/Config.js"
import { AgentName } from "../../src/domain/AgentName.js"
import { defaultAgents, defaultPrompts } from "../../src/domain/defaultTeam.js"
import { renderAgentsToml, renderProjectToml } from "../../src/domain/renderConfig.js"

const projectFile = "/repo/.huskies/project.toml"
const agentsFile = "/repo/.huskies/agents.toml"

const ok = <A>(result: Either.Either<A, ConfigError>): A =>
  Either.getOrThrowWith(result, (error) => new Error(`expected success, got:\n${error.message}`))

const failure = <A>(result: Either.Either<A, ConfigError>): ConfigError =>
  Either.match(result, {
    onLeft: (error) => error,
    onRight: (value) => {
      throw new Error(`expected a ConfigError, got ${JSON.stringify(value)}`)
    },
  })

const agent = (lines: string) => `[[agent]]\nname = "a"\nstage = "coder"\n${lines}\n`

describe("project.toml", () => {
  it("an empty file is valid and takes every default", () => {
    const config = ok(decodeProjectToml("", projectFile))
    expect(config).toEqual(defaultProjectConfig)
    expect(config).toEqual({
      baseBranch: "main",
      autoAssign: true,
      defaultQa: "agent",
      retryLimit: 2,
      gatesTimeoutSecs: 1200,
      commands: {},
      concurrency: { maxAgents: 4, maxCoders: 2, maxQa: 1, maxMergemasters: 1 },
      server: { port: 3001, host: "127.0.0.1", allowedHosts: [] },
      store: { durability: "normal" },
      permissions: {
        default: "allow",
        allow: [],
        deny: ["Bash(*git push*)"],
        ask: [],
        askTimeoutSecs: 300,
      },
      merge: { attempts: 3, updateCheckout: true, archiveDoneAfterSecs: 86_400 },
      nodes: { leaseSecs: 30, remote: "origin", workerStages: ["coder"], pushBase: false },
    })
  })

  it("maps snake_case keys to camelCase and fills what a table leaves out", () => {
    const config = ok(
      decodeProjectToml(
        [
          'base_branch = "trunk"',
          'default_qa = "human"',
          "retry_limit = 0",
          "gates_timeout_secs = 60",
          "[commands]",
          'test = "cargo test"',
          "[concurrency]",
          "max_coders = 3",
          "[server]",
          "port = 8080",
          "[store]",
          'durability = "full"',
          "[merge]",
          "archive_done_after_secs = 0",
          "[nodes]",
          "lease_secs = 5",
          'remote = "shared"',
          'worker_stages = ["coder", "qa"]',
          "push_base = true",
          "[chat.slack]",
          'token_env = "SLACK_TOKEN"',
        ].join("\n"),
        projectFile,
      ),
    )
    expect(config).toEqual({
      baseBranch: "trunk",
      autoAssign: true,
      defaultQa: "human",
      retryLimit: 0,
      gatesTimeoutSecs: 60,
      commands: { test: "cargo test" },
      concurrency: { maxAgents: 4, maxCoders: 3, maxQa: 1, maxMergemasters: 1 },
      server: { port: 8080, host: "127.0.0.1", allowedHosts: [] },
      store: { durability: "full" },
      permissions: {
        default: "allow",
        allow: [],
        deny: ["Bash(*git push*)"],
        ask: [],
        askTimeoutSecs: 300,
      },
      merge: { attempts: 3, updateCheckout: true, archiveDoneAfterSecs: 0 },
      nodes: { leaseSecs: 5, remote: "shared", workerStages: ["coder", "qa"], pushBase: true },
      chat: { slack: { token_env: "SLACK_TOKEN" } },
    })
    expect(maxForStage(config.concurrency, "coder")).toBe(3)
    expect(maxForStage({ ...config.concurrency, maxAgents: 2 }, "coder")).toBe(2)
  })

  it.each([
    ["retry_limit = -1", "retry_limit", "expected a whole number >= 0, got -1"],
    ["gates_timeout_secs = 1.5", "gates_timeout_secs", "expected a whole number >= 1, got 1.5"],
    ['default_qa = "maybe"', "default_qa", 'expected one of agent, human, none, got "maybe"'],
    ['base_branch = "my branch"', "base_branch", 'expected a git branch name such as "main"'],
    ["[commands]\ntest = 1", "commands.test", "expected a non-empty string, got 1"],
    ['[commands]\ntest = ""', "commands.test", 'expected a non-empty string, got ""'],
    [
      'commands = "npm test"',
      "commands",
      'expected a [commands] table, e.g. test = "npm test", got "npm test"',
    ],
    ["[concurrency]\nmax_agents = 0", "concurrency.max_agents", "expected a whole number >= 1, got 0"],
    ["[server]\nport = 70000", "server.port", "expected a port number from 0 to 65535, got 70000"],
    ['[server]\nport = "3001"', "server.port", 'expected a port number from 0 to 65535, got "3001"'],
    ["server = 1", "server", "expected a [server] table, got 1"],
    [
      '[server]\nallowed_hosts = ["http://x.lan"]',
      "server.allowed_hosts[0]",
      'expected a host name or address, optionally with a port, such as "huskies.lan" or "10.0.0.5:3001", got "http://x.lan"',
    ],
    ['[store]\ndurability = "fast"', "store.durability", 'expected one of normal, full, got "fast"'],
    ["chat = 1", "chat", "expected a [chat] table, got 1"],
    [
      "[commands]\ntset = 'x'",
      "commands.tset",
      "unknown key (did you mean test?); accepted keys here: test, lint, build",
    ],
    [
      "retries = 3",
      "retries",
      "unknown key; accepted keys here: base_branch, auto_assign, default_qa, retry_limit",
    ],
    ["[concurency]", "concurency", "unknown key (did you mean concurrency?)"],
  ])("rejects %j at %s", (toml, keyPath, message) => {
    const error = failure(decodeProjectToml(toml, projectFile))
    expect(error.file).toBe(projectFile)
    expect(error.issues).toContainEqual({ keyPath, message: expect.stringContaining(message) })
    expect(error.message).toContain(`${projectFile}: ${keyPath}: ${message}`)
  })

  it("decodes [server] token as a secret and never repeats a bad one in the error", () => {
    const config = ok(decodeProjectToml('[server]\ntoken = "0123456789abcdef-x"', projectFile))
    expect(config.server.token && Redacted.value(config.server.token)).toBe("0123456789abcdef-x")
    expect(String(config.server.token)).not.toContain("0123456789abcdef")
    const error = failure(decodeProjectToml('[server]\ntoken = "short secret"', projectFile))
    expect(error.issues.map((i) => i.keyPath)).toEqual(["server.token"])
    expect(error.message).not.toContain("short secret")
  })

  it("reports every problem at once, not just the first", () => {
    const error = failure(decodeProjectToml("retry_limit = -1\n[server]\nport = -5\nhots = 'x'", projectFile))
    expect(error.issues.map((i) => i.keyPath).sort()).toEqual(["retry_limit", "server.hots", "server.port"])
  })

  it("names the file, line and column of a TOML syntax error", () => {
    const error = failure(decodeProjectToml('base_branch = "main"\nretry_limit = = 2\n', projectFile))
    expect(error.line).toBe(2)
    expect(error.column).toBeTypeOf("number")
    expect(error.message).toMatch(
      new RegExp(`^${projectFile}:2:\\d+: invalid TOML: .+; fix the syntax on line 2$`),
    )
  })
})

describe("agents.toml", () => {
  it("fills the defaults of an agent that sets only name and stage", () => {
    const decoded = ok(decodeAgentsToml('[[agent]]\nname = "q"\nstage = "qa"\n', agentsFile))
    expect(decoded.agents).toEqual([
      {
        name: "q",
        stage: "qa",
        runtime: "claude-code",
        prompt: defaultPrompts.qa,
        inactivityTimeoutSecs: 1800,
      },
    ])
  })

  it("decodes every key", () => {
    const decoded = ok(
      decodeAgentsToml(
        agent(
          [
            'runtime = "command"',
            'command = ["./agent.sh", "--fast"]',
            'model = "m"',
            'role = "does things"',
            'prompt = "work on {{story_id}}"',
            'system_prompt = "be brief about {{ story_id }}"',
            "max_turns = 10",
            "max_budget_usd = 1.5",
            "inactivity_timeout_secs = 99",
          ].join("\n"),
        ),
        agentsFile,
      ),
    )
    expect(decoded.agents[0]).toEqual({
      name: "a",
      stage: "coder",
      runtime: "command",
      command: ["./agent.sh", "--fast"],
      model: "m",
      role: "does things",
      prompt: "work on {{story_id}}",
      systemPrompt: "be brief about {{ story_id }}",
      maxTurns: 10,
      maxBudgetUsd: 1.5,
      inactivityTimeoutSecs: 99,
    })
    const vars = { story_id: "12_story_x" }
    expect(renderTemplate(decoded.agents[0].prompt, vars)).toBe("work on 12_story_x")
    expect(renderTemplate(decoded.agents[0].systemPrompt ?? "", vars)).toBe("be brief about 12_story_x")
  })

  const runtimes = "expected one of claude-code, codex, gemini, command"
  it.each([
    [agent('runtime = "claud-code"'), "agent[0].runtime", `${runtimes}, got "claud-code"`],
    [
      '[[agent]]\nname = "a"\nstage = "coding"',
      "agent[0].stage",
      'expected one of coder, qa, mergemaster, chat, got "coding"',
    ],
    ['[[agent]]\nstage = "qa"', "agent[0].name", 'is required: add name = "coder-1"'],
    ['[[agent]]\nname = "a"', "agent[0].stage", 'is required: add stage = "coder"'],
    ...[
      ["has space", '"has space"'],
      ["../../../bin/sh", '"../../../bin/sh"'],
      ["a\\u0000b", '"a\\u0000b"'],
      ["", '""'],
      ["coder/1", '"coder/1"'],
      ["..", '".."'],
      ["-rf", '"-rf"'],
      ["a".repeat(65), `"${"a".repeat(65)}"`],
    ].map(([name, shown]) => [
      `[[agent]]\nname = "${name}"\nstage = "qa"`,
      "agent[0].name",
      `expected an agent name of 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit, such as "coder-1", got ${shown}`,
    ]),
    [
      agent("max_turn = 3"),
      "agent[0].max_turn",
      "unknown key (did you mean max_turns?); accepted keys here: name, stage, runtime, model, role, system_prompt, max_turns, max_budget_usd, inactivity_timeout_secs, command, env, prompt",
    ],
    [agent('max_turns = "3"'), "agent[0].max_turns", 'expected a whole number >= 1, got "3"'],
    [
      agent("max_budget_usd = -1"),
      "agent[0].max_budget_usd",
      "expected a positive number of dollars, got -1",
    ],
    [
      agent("inactivity_timeout_secs = 0"),
      "agent[0].inactivity_timeout_secs",
      "expected a whole number >= 1, got 0",
    ],
    [agent("model = 5"), "agent[0].model", "expected a non-empty string, got 5"],
    [agent("prompt = ['a']"), "agent[0].prompt", "expected a string, got an array"],
    [
      agent('prompt = "   "'),
      "agent[0].prompt",
      "expected a non-empty template (omit the key to use the default)",
    ],
    [
      agent('prompt = "do {{storyid}}"'),
      "agent[0].prompt",
      "uses unknown template variable {{storyid}}; known variables: {{story_id}}",
    ],
    [
      agent('command = ["x"]'),
      "agent[0].command",
      'is only used with runtime = "command" (this agent\'s runtime is "claude-code"): remove it, or set runtime = "command"',
    ],
    [agent('runtime = "command"'), "agent[0].command", 'is required when runtime = "command"'],
    [
      agent('runtime = "command"\ncommand = []'),
      "agent[0].command",
      "expected the program and its arguments",
    ],
    [
      agent('runtime = "command"\ncommand = "ls"'),
      "agent[0].command",
      'expected an array such as ["./scripts/agent.sh", "--fast"], got "ls"',
    ],
    [agent('runtime = "command"\ncommand = ["ls", 1]'), "agent[0].command[1]", "expected a string, got 1"],
    [
      '[[agent]]\nname = "a"\nstage = "coder"\n[[agent]]\nname = "b"\nstage = "qa"\n[[agent]]\nname = "a"\nstage = "qa"',
      "agent[2].name",
      'duplicate agent name "a" (also agent[0].name): names must be unique',
    ],
    ["", "agent", "is missing: the file defines no [[agent]] tables; add one, or delete the file"],
    ["agent = []", "agent", "defines no agents: add at least one [[agent]]"],
    ['agent = ["x"]', "agent[0]", 'expected an [[agent]] table, got "x"'],
    ['[[agents]]\nname = "a"', "agents", "unknown key (did you mean agent?); accepted keys here: agent"],
  ])("rejects %j at %s", (toml, keyPath, message) => {
    const error = failure(decodeAgentsToml(toml, agentsFile))
    expect(error.file).toBe(agentsFile)
    expect(error.issues).toContainEqual({ keyPath, message: expect.stringContaining(message) })
    expect(error.message).toContain(`${agentsFile}: ${keyPath}: ${message}`)
  })

  it("points at the agent by its index in the file", () => {
    const toml = [
      agent(""),
      agent("").replace('"a"', '"b"'),
      agent('runtime = "gpt"').replace('"a"', '"c"'),
    ].join("\n")
    const error = failure(decodeAgentsToml(toml, agentsFile))
    expect(error.issues).toEqual([{ keyPath: "agent[2].runtime", message: `${runtimes}, got "gpt"` }])
  })

  it("names the file and line of a TOML syntax error", () => {
    const error = failure(decodeAgentsToml('[[agent]]\nname = "a\nstage = "qa"\n', agentsFile))
    expect(error.line).toBe(2)
    expect(error.message).toMatch(new RegExp(`^${agentsFile}:2:\\d+: invalid TOML`))
  })
})

describe("the default team", () => {
  it("is two coders, a QA agent and a mergemaster on claude-code", () => {
    expect(defaultAgents.map((a) => [a.name, a.stage, a.runtime])).toEqual([
      ["coder-1", "coder", "claude-code"],
      ["coder-2", "coder", "claude-code"],
      ["qa", "qa", "claude-code"],
      ["mergemaster", "mergemaster", "claude-code"],
    ])
  })

  it("prompts name the story, the MCP tools, committing, and that long tools block", () => {
    for (const a of defaultAgents) {
      expect(a.prompt).toContain("{{story_id}}")
      expect(a.prompt).toContain("MCP tools")
      expect(a.prompt).toMatch(/never poll/i)
      expect(a.inactivityTimeoutSecs).toBeGreaterThan(defaultProjectConfig.gatesTimeoutSecs)
    }
    expect(defaultPrompts.coder).toContain("run_tests")
    expect(defaultPrompts.coder).toMatch(/commit your work on the feature branch/i)
  })

  it("renders to an agents.toml that decodes back to itself", () => {
    expect(ok(decodeAgentsToml(renderAgentsToml(defaultAgents), agentsFile)).agents).toEqual(defaultAgents)
  })
})

describe("key paths", () => {
  it("are written the way a TOML user reads them", () => {
    expect(formatKeyPath(["agent", 2, "runtime"])).toBe("agent[2].runtime")
    expect(formatKeyPath(["chat", "my key"])).toBe('chat."my key"')
    expect(formatKeyPath([])).toBe("")
  })
})

// ------------------------------------------------------------------------------------------- properties

const specialChars = ["'", '"', "\\", "\n", "\t", "\r", "\u0001", "\u007f", "é", "{", "}", "#", "=", "[", "]"]
const text = fc.string({
  unit: fc.oneof(
    fc.constantFrom(...specialChars),
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }),
  ),
})
const trimmed = text.filter((s) => s !== "" && s.trim() === s)
const template = fc
  .oneof(
    text,
    text.map((s) => `${s}{{story_id}}${s}`),
  )
  .filter(
    (s) =>
      s.trim() !== "" &&
      [...s.matchAll(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g)].every((m) => m[1] === "story_id"),
  )

const projectArb: fc.Arbitrary<ProjectConfig> = fc.record(
  {
    baseBranch: fc.stringMatching(/^[a-z][a-z0-9_-]{0,10}(\/[a-z0-9_-]{1,10})?$/),
    autoAssign: fc.boolean(),
    defaultQa: fc.constantFrom("agent" as const, "human" as const, "none" as const),
    retryLimit: fc.nat({ max: 20 }),
    gatesTimeoutSecs: fc.integer({ min: 1, max: 100_000 }),
    commands: fc.record({ test: trimmed, lint: trimmed, build: trimmed }, { requiredKeys: [] }),
    merge: fc.record({
      attempts: fc.integer({ min: 1, max: 10 }),
      updateCheckout: fc.boolean(),
      archiveDoneAfterSecs: fc.nat({ max: 10_000_000 }),
    }),
    permissions: fc.record({
      default: fc.constantFrom("allow" as const, "deny" as const, "ask" as const),
      allow: fc.array(
        fc.oneof(
          fc.constantFrom("Bash", "mcp__*", "Write"),
          text.map((p) => `Bash(${p})`),
        ),
      ),
      deny: fc.array(text.map((p) => `Bash(${p})`)),
      ask: fc.array(text.map((p) => `Write(${p})`)),
      askTimeoutSecs: fc.integer({ min: 1, max: 100_000 }),
    }),
    concurrency: fc.record({
      maxAgents: fc.integer({ min: 1, max: 64 }),
      maxCoders: fc.integer({ min: 1, max: 64 }),
      maxQa: fc.integer({ min: 1, max: 64 }),
      maxMergemasters: fc.integer({ min: 1, max: 64 }),
    }),
    server: fc.record(
      {
        port: fc.integer({ min: 0, max: 65535 }),
        host: fc.stringMatching(/^[a-z0-9.:-]{1,20}$/),
        allowedHosts: fc.array(fc.stringMatching(/^[a-z0-9.-]{1,20}(:[0-9]{1,5})?$/), { maxLength: 3 }),
        token: fc.stringMatching(/^[\x21-\x7e]{16,40}$/).map(Redacted.make),
      },
      { requiredKeys: ["port", "host", "allowedHosts"] },
    ),
    store: fc.record({ durability: fc.constantFrom("normal" as const, "full" as const) }),
    nodes: fc.record({
      leaseSecs: fc.integer({ min: 1, max: 100_000 }),
      remote: fc.stringMatching(/^[a-z][a-z0-9._-]{0,10}$/),
      workerStages: fc.uniqueArray(fc.constantFrom("coder" as const, "qa" as const, "mergemaster" as const)),
      pushBase: fc.boolean(),
    }),
    chat: fc.dictionary(fc.stringMatching(/^[a-z_]{1,8}$/), fc.oneof(text, fc.integer(), fc.boolean())),
  },
  {
    requiredKeys: [
      "baseBranch",
      "autoAssign",
      "defaultQa",
      "retryLimit",
      "gatesTimeoutSecs",
      "commands",
      "permissions",
      "merge",
      "concurrency",
      "server",
      "store",
      "nodes",
    ],
  },
)

const agentArb: fc.Arbitrary<AgentConfig> = fc
  .record(
    {
      name: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,12}$/).map((name) => AgentName.make(name)),
      stage: fc.constantFrom("coder" as const, "qa" as const, "mergemaster" as const),
      runtime: fc.constantFrom(
        "claude-code" as const,
        "codex" as const,
        "gemini" as const,
        "command" as const,
      ),
      model: trimmed,
      role: trimmed,
      prompt: template,
      systemPrompt: template,
      maxTurns: fc.integer({ min: 1, max: 1000 }),
      maxBudgetUsd: fc.double({ min: 0.01, max: 1000, noNaN: true }),
      inactivityTimeoutSecs: fc.integer({ min: 1, max: 100_000 }),
      command: fc.tuple(trimmed, fc.array(text, { maxLength: 3 })),
    },
    { requiredKeys: ["name", "stage", "runtime", "prompt", "inactivityTimeoutSecs", "command"] },
  )
  .map(({ command, ...rest }) =>
    rest.runtime === "command" ? { ...rest, command: [command[0], ...command[1]] } : rest,
  )

const agentsArb: fc.Arbitrary<readonly [AgentConfig, ...Array<AgentConfig>]> = fc
  .uniqueArray(agentArb, { minLength: 1, maxLength: 5, selector: (a) => a.name })
  .filter((agents): agents is [AgentConfig, ...Array<AgentConfig>] => agents.length > 0)

// fast-check's own runner: @effect/vitest's it.prop is typed for the fast-check bundled inside effect.
describe("round trips", () => {
  it("project.toml: decode(encode(config)) is config", () => {
    fc.assert(
      fc.property(projectArb, (config) => {
        const toml = stringify(Schema.encodeSync(ProjectConfig)(config))
        expect(ok(decodeProjectToml(toml, projectFile))).toEqual(config)
      }),
    )
  })

  it("project.toml: the rendered, commented file decodes to the config", () => {
    fc.assert(
      fc.property(projectArb, (config) => {
        const decoded = ok(decodeProjectToml(renderProjectToml(config), projectFile))
        expect(decoded).toEqual(config)
        // toEqual cannot see inside a Redacted.
        const token = (c: ProjectConfig) =>
          c.server.token === undefined ? undefined : Redacted.value(c.server.token)
        expect(token(decoded)).toBe(token(config))
      }),
    )
  })

  it("agents.toml: decode(encode(agents)) is agents", () => {
    fc.assert(
      fc.property(agentsArb, ([first, ...rest]) => {
        const toml = stringify(Schema.encodeSync(AgentsConfig)({ agents: [first, ...rest] }))
        expect(ok(decodeAgentsToml(toml, agentsFile)).agents).toEqual([first, ...rest])
      }),
    )
  })

  it("agents.toml: the rendered, commented file decodes to the agents", () => {
    fc.assert(
      fc.property(agentsArb, (agents) => {
        expect(ok(decodeAgentsToml(renderAgentsToml(agents), agentsFile)).agents).toEqual(agents)
      }),
    )
  })
})
