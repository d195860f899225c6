// test/layers/Config.test.ts — loading .huskies/*.toml from a real directory: defaults when a file is
// missing (and saying so), ConfigError naming the absolute file path, and the HuskiesConfig service
// watching them (waits on its `changes` stream, never on a clock).
import { NodeFileSystem } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Context, Deferred, Effect, Exit, Fiber, Layer, Option, Scope, Stream } from "effect"
import * as path from "node:path"
import { defaultProjectConfig } from "../../src/domain/Config.js"
import { defaultAgents } from "../../src/domain/defaultTeam.js"
import { agentsTomlPath, loadConfig, projectTomlPath } from "../../src/layers/Config.js"
import {
  type ConfigState,
  HuskiesConfig,
  HuskiesConfigLive,
  type HuskiesConfigShape,
} from "../../src/layers/HuskiesConfig.js"
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

describe("HuskiesConfig", () => {
  const badToml = "[server\nport = 1\n"

  /** The service for `dir`, built in the test's scope, with a short debounce. */
  const live = (dir: string) =>
    Effect.map(Layer.build(HuskiesConfigLive(dir, { debounce: "20 millis" })), Context.get(HuskiesConfig))

  /** The first state, now or after a change, that satisfies `done`: waits on `changes`, not on a clock. */
  const awaitState = (config: HuskiesConfigShape, done: (state: ConfigState) => boolean) =>
    config.changes.pipe(
      Stream.filter(done),
      Stream.runHead,
      Effect.flatten,
      Effect.timeoutFail({
        duration: "10 seconds",
        onTimeout: () => new Error("the config never got there"),
      }),
      Effect.orDie,
    )

  const baseBranch = (state: ConfigState) => Option.map(state.current, (c) => c.project.baseBranch)

  it.scopedLive("picks up an edit of project.toml through the watcher", () =>
    Effect.gen(function* () {
      const repo = yield* makeTempDir()
      yield* repo.write(".huskies/project.toml", 'base_branch = "main"\n')
      const config = yield* live(repo.dir)
      expect((yield* config.get).project.baseBranch).toBe("main")
      yield* repo.write(".huskies/project.toml", 'base_branch = "develop"\n')
      // Only the watcher reads the file here: nothing calls get until the new state has been announced.
      const state = yield* awaitState(config, (s) => Option.contains(baseBranch(s), "develop"))
      expect(state.problem).toEqual(Option.none())
      expect((yield* config.get).project.baseBranch).toBe("develop")
    }),
  )

  it.scopedLive("picks up agents.toml created after the start through the watcher", () =>
    Effect.gen(function* () {
      const repo = yield* makeTempDir()
      const config = yield* live(repo.dir)
      expect((yield* config.get).agents).toEqual(defaultAgents)
      yield* repo.write(".huskies/agents.toml", '[[agent]]\nname = "solo"\nstage = "coder"\n')
      const state = yield* awaitState(config, (s) =>
        Option.exists(s.current, (c) => c.sources.agents._tag === "File"),
      )
      expect(Option.map(state.current, (c) => c.agents.map((a) => a.name))).toEqual(Option.some(["solo"]))
      expect((yield* config.get).agents.map((a) => a.name)).toEqual(["solo"])
    }),
  )

  it.scopedLive(
    "get reads no file: an edit is in force once the watcher has read it, or at once by reload",
    () =>
      Effect.gen(function* () {
        const repo = yield* makeTempDir()
        yield* repo.write(".huskies/project.toml", 'base_branch = "main"\n')
        // A debounce far longer than the test: only reload reads the edit here.
        const config = Context.get(
          yield* Layer.build(HuskiesConfigLive(repo.dir, { debounce: "1 hour" })),
          HuskiesConfig,
        )
        yield* repo.write(".huskies/project.toml", 'base_branch = "develop"\n')
        expect((yield* config.get).project.baseBranch).toBe("main")
        expect(baseBranch(yield* config.reload)).toEqual(Option.some("develop"))
        expect((yield* config.get).project.baseBranch).toBe("develop")
      }),
  )

  it.scopedLive(
    "keeps the last good config while an edit does not parse, reports it, and clears it when fixed",
    () =>
      Effect.gen(function* () {
        const repo = yield* makeTempDir()
        yield* repo.write(".huskies/project.toml", 'base_branch = "main"\n')
        const config = yield* live(repo.dir)
        yield* repo.write(".huskies/project.toml", badToml)
        const broken = yield* awaitState(config, (s) => Option.isSome(s.problem))
        expect(baseBranch(broken)).toEqual(Option.some("main"))
        const problem = Option.getOrThrow(yield* config.problem)
        expect(problem._tag).toBe("ConfigError")
        expect(problem.file).toBe(projectTomlPath(repo.dir))
        expect(problem.line).toBe(1)
        // The last good config stays in force for everyone who reads it.
        expect((yield* config.get).project.baseBranch).toBe("main")
        expect(Option.map(yield* config.current, (c) => c.project.baseBranch)).toEqual(Option.some("main"))

        yield* repo.write(".huskies/project.toml", 'base_branch = "trunk"\n')
        const fixed = yield* awaitState(config, (s) => Option.isNone(s.problem))
        expect(baseBranch(fixed)).toEqual(Option.some("trunk"))
        expect(yield* config.problem).toEqual(Option.none())
      }),
  )

  it.scopedLive(
    "fails get with the ConfigError while the first load has not succeeded, until the file is fixed",
    () =>
      Effect.gen(function* () {
        const repo = yield* makeTempDir()
        yield* repo.write(".huskies/project.toml", badToml)
        const config = yield* live(repo.dir)
        const error = yield* Effect.flip(config.get)
        expect(error._tag).toBe("ConfigError")
        expect(error.file).toBe(projectTomlPath(repo.dir))
        expect(yield* config.current).toEqual(Option.none())
        yield* repo.write(".huskies/project.toml", 'base_branch = "develop"\n')
        const fixed = yield* awaitState(config, (s) => Option.isSome(s.current))
        expect(fixed.problem).toEqual(Option.none())
        expect((yield* config.get).project.baseBranch).toBe("develop")
      }),
  )

  it.scopedLive("ignores the other files in .huskies/ and a save that changes nothing", () =>
    Effect.gen(function* () {
      const repo = yield* makeTempDir()
      yield* repo.write(".huskies/project.toml", 'base_branch = "main"\n')
      const config = yield* live(repo.dir)
      const subscribed = yield* Deferred.make<void>()
      const announced = yield* config.changes.pipe(
        Stream.tap(() => Deferred.succeed(subscribed, undefined)),
        Stream.takeUntil((s) => Option.contains(baseBranch(s), "next")),
        Stream.runCollect,
        Effect.fork,
      )
      yield* Deferred.await(subscribed)
      yield* repo.write(".huskies/huskies.db-wal", "not config")
      yield* repo.write(".huskies/project.toml", 'base_branch = "main"\n')
      expect((yield* config.reload).current).toEqual(yield* config.current)
      // A real change afterwards is the next state announced: the two writes above announced nothing.
      yield* repo.write(".huskies/project.toml", 'base_branch = "next"\n')
      const states = yield* Fiber.join(announced).pipe(
        Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error("no change announced") }),
        Effect.orDie,
      )
      expect(Chunk.toArray(states).map(baseBranch)).toEqual([Option.some("main"), Option.some("next")])
    }),
  )

  it.scopedLive("releases its watcher with the layer's scope", () =>
    Effect.gen(function* () {
      const repo = yield* makeTempDir()
      const watchers = () => process.getActiveResourcesInfo().filter((r) => r === "FSEventWrap").length
      const before = watchers()
      const scope = yield* Scope.make()
      yield* Scope.extend(live(repo.dir), scope)
      expect(watchers()).toBe(before + 1)
      yield* Scope.close(scope, Exit.void)
      // Node frees a closed watcher's handle a few turns of the event loop later.
      const turn = Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 0)))
      for (let i = 0; i < 100 && watchers() > before; i++) yield* turn
      expect(watchers()).toBe(before)
    }),
  )
})
