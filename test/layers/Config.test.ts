// test/layers/Config.test.ts — loading .huskies/*.toml from a real directory: defaults when a file is
// missing (and saying so), ConfigError naming the absolute file path, and the ConfigLoader service.
import { NodeFileSystem } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as path from "node:path"
import { defaultProjectConfig } from "../../src/domain/Config.js"
import { defaultAgents } from "../../src/domain/defaultTeam.js"
import { agentsTomlPath, ConfigLoader, loadConfig, projectTomlPath } from "../../src/layers/Config.js"
import { makeTempDir } from "../support/gitRepo.js"

const load = (root: string) => loadConfig(root).pipe(Effect.provide(NodeFileSystem.layer))

describe("loadConfig", () => {
  it.scoped("uses the defaults for missing files and says so", () =>
    Effect.gen(function* () {
      const { dir } = yield* makeTempDir()
      const config = yield* load(dir)
      expect(config.root).toBe(dir)
      expect(config.project).toEqual(defaultProjectConfig)
      expect(config.agents).toEqual(defaultAgents)
      expect(config.sources).toEqual({
        project: { _tag: "Defaults", path: path.join(dir, ".huskies", "project.toml") },
        agents: { _tag: "Defaults", path: path.join(dir, ".huskies", "agents.toml") },
      })
      expect(config.notes).toEqual(
        expect.arrayContaining([
          expect.stringContaining(`no ${projectTomlPath(dir)}: using the default project settings`),
          expect.stringContaining(
            `no ${agentsTomlPath(dir)}: using the default team (coder-1, coder-2, qa, mergemaster)`,
          ),
          expect.stringContaining("no test command"),
        ]),
      )
    }),
  )

  it.scoped("reads both files when they are there", () =>
    Effect.gen(function* () {
      const repo = yield* makeTempDir()
      yield* repo.write(".huskies/project.toml", '[commands]\ntest = "make check"\n')
      yield* repo.write(
        ".huskies/agents.toml",
        '[[agent]]\nname = "solo"\nstage = "coder"\nruntime = "codex"\n',
      )
      const config = yield* load(repo.dir)
      expect(config.project.commands).toEqual({ test: "make check" })
      expect(config.agents.map((a) => [a.name, a.runtime])).toEqual([["solo", "codex"]])
      expect(config.sources.project).toEqual({ _tag: "File", path: projectTomlPath(repo.dir) })
      expect(config.sources.agents).toEqual({ _tag: "File", path: agentsTomlPath(repo.dir) })
      // A team with no QA agent under default_qa = "agent" would leave items waiting forever.
      expect(config.notes).toEqual([
        expect.stringContaining('default_qa = "agent" but no agent has stage = "qa"'),
      ])
    }),
  )

  it.scoped("notes an agent that could be stopped while it waits for run_tests", () =>
    Effect.gen(function* () {
      const repo = yield* makeTempDir()
      yield* repo.write(".huskies/project.toml", 'default_qa = "none"\n[commands]\ntest = "true"\n')
      yield* repo.write(
        ".huskies/agents.toml",
        '[[agent]]\nname = "quick"\nstage = "coder"\ninactivity_timeout_secs = 300\n',
      )
      const config = yield* load(repo.dir)
      expect(config.notes).toEqual([
        'agent[0] "quick": inactivity_timeout_secs = 300 is not above gates_timeout_secs = 1200, so it may be stopped while it waits for run_tests',
      ])
    }),
  )

  it.scoped("fails with a ConfigError naming the file, the key and the fix", () =>
    Effect.gen(function* () {
      const repo = yield* makeTempDir()
      yield* repo.write(
        ".huskies/agents.toml",
        '[[agent]]\nname = "a"\nstage = "coder"\n[[agent]]\nname = "b"\nstage = "qa"\n[[agent]]\nname = "c"\nstage = "qa"\nruntime = "copilot"\n',
      )
      const error = yield* Effect.flip(load(repo.dir))
      expect(error._tag).toBe("ConfigError")
      expect(error.file).toBe(agentsTomlPath(repo.dir))
      expect(error.message).toBe(
        `${agentsTomlPath(repo.dir)}: agent[2].runtime: expected one of claude-code, codex, gemini, command, got "copilot"`,
      )
    }),
  )

  it.scoped("fills an agent's ${NAME} env values at load, and refuses one naming an unset variable", () =>
    Effect.gen(function* () {
      const repo = yield* makeTempDir()
      const set = "HUSKIES_CONFIG_TEST_SET_VAR"
      const unset = "HUSKIES_CONFIG_TEST_UNSET_VAR"
      process.env[set] = "from the server"
      yield* Effect.addFinalizer(() => Effect.sync(() => delete process.env[set]))
      delete process.env[unset]
      const toml = (name: string) =>
        `[[agent]]\nname = "coder-1"\nstage = "coder"\nenv = { TOKEN = "\${${name}}" }\n`
      yield* repo.write(".huskies/agents.toml", toml(set))
      expect((yield* load(repo.dir)).agents[0].env).toEqual({ TOKEN: "from the server" })
      yield* repo.write(".huskies/agents.toml", toml(unset))
      const error = yield* Effect.flip(load(repo.dir))
      expect(error.message).toBe(
        `${agentsTomlPath(repo.dir)}: agent[0].env.TOKEN: agent "coder-1": TOKEN refers to \${${unset}}, which is not set in the environment huskies was started with: set ${unset} before starting huskies, or change the value`,
      )
    }),
  )

  it.scoped("names the line of malformed TOML", () =>
    Effect.gen(function* () {
      const repo = yield* makeTempDir()
      yield* repo.write(".huskies/project.toml", "# settings\n\n[server\nport = 1\n")
      const error = yield* Effect.flip(load(repo.dir))
      expect(error.line).toBe(3)
      expect(error.message).toMatch(new RegExp(`^${projectTomlPath(repo.dir)}:3:\\d+: invalid TOML`))
    }),
  )

  it.scoped("does not mistake an unreadable file for a missing one", () =>
    Effect.gen(function* () {
      const repo = yield* makeTempDir()
      yield* repo.write(".huskies/agents.toml/oops", "a directory where the file should be")
      const error = yield* Effect.flip(load(repo.dir))
      expect(error.file).toBe(agentsTomlPath(repo.dir))
      expect(error.message).toContain("cannot read the file")
    }),
  )
})

describe("ConfigLoader", () => {
  it.scoped("loads through the service with the node file system", () =>
    Effect.gen(function* () {
      const repo = yield* makeTempDir()
      yield* repo.write(".huskies/project.toml", 'base_branch = "develop"\n')
      const loader = yield* ConfigLoader
      const config = yield* loader.load(repo.dir)
      expect(config.project.baseBranch).toBe("develop")
      const project = yield* loader.loadProject(repo.dir)
      expect(project.source._tag).toBe("File")
      const agents = yield* loader.loadAgents(repo.dir)
      expect(agents.source._tag).toBe("Defaults")
      expect(agents.agents).toEqual(defaultAgents)
    }).pipe(Effect.provide(ConfigLoader.Default)),
  )
})
