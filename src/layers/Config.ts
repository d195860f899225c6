// src/layers/Config.ts — loads a project's .huskies/project.toml and .huskies/agents.toml. A missing file
// means defaults, said so in the result so callers can log it; a bad one is a ConfigError naming the fix.
// The server reads them through HuskiesConfig (loaded once, watched); one-shot commands load directly.
import { FileSystem } from "@effect/platform"
import { Effect, Option } from "effect"
import * as path from "node:path"
import {
  type AgentsConfig,
  ConfigError,
  decodeAgentsToml,
  decodeProjectToml,
  defaultProjectConfig,
  type ProjectConfig,
} from "../domain/Config.js"
import { fillAgentsEnv } from "../domain/agentEnv.js"
import { defaultAgents } from "../domain/defaultTeam.js"

export { ConfigError } from "../domain/Config.js"

export const huskiesDir = (root: string): string => path.join(path.resolve(root), ".huskies")
export const projectTomlPath = (root: string): string => path.join(huskiesDir(root), "project.toml")
export const agentsTomlPath = (root: string): string => path.join(huskiesDir(root), "agents.toml")

/** Where a setting came from: the file at `path`, or the built-in defaults because `path` does not exist. */
export type ConfigSource =
  { readonly _tag: "File"; readonly path: string } | { readonly _tag: "Defaults"; readonly path: string }

export type Agents = AgentsConfig["agents"]

export interface LoadedConfig {
  /** The project root, absolute. */
  readonly root: string
  readonly project: ProjectConfig
  readonly agents: Agents
  readonly sources: { readonly project: ConfigSource; readonly agents: ConfigSource }
  /** One line each, for the log: defaults in use and settings that will likely not do what was meant. */
  readonly notes: ReadonlyArray<string>
}

// Only "the file is not there" means defaults; any other read failure (permissions, a directory in the
// file's place) is an error, because silently running with defaults would ignore the user's settings.
const readIfPresent = (
  file: string,
): Effect.Effect<Option.Option<string>, ConfigError, FileSystem.FileSystem> =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(file)).pipe(
    Effect.map(Option.some),
    Effect.catchAll((error) =>
      error._tag === "SystemError" && error.reason === "NotFound"
        ? Effect.succeed(Option.none())
        : Effect.fail(
            new ConfigError({
              file,
              issues: [
                {
                  keyPath: "",
                  message: `cannot read the file (${error.message}): check that it is a readable file`,
                },
              ],
            }),
          ),
    ),
  )

export const loadProjectConfig = (
  root: string,
): Effect.Effect<
  { readonly project: ProjectConfig; readonly source: ConfigSource },
  ConfigError,
  FileSystem.FileSystem
> =>
  Effect.gen(function* () {
    const file = projectTomlPath(root)
    const text = yield* readIfPresent(file)
    if (Option.isNone(text))
      return { project: defaultProjectConfig, source: { _tag: "Defaults", path: file } }
    const project = yield* decodeProjectToml(text.value, file)
    return { project, source: { _tag: "File", path: file } }
  })

export const loadAgentsConfig = (
  root: string,
): Effect.Effect<
  { readonly agents: Agents; readonly source: ConfigSource },
  ConfigError,
  FileSystem.FileSystem
> =>
  Effect.gen(function* () {
    const file = agentsTomlPath(root)
    const text = yield* readIfPresent(file)
    if (Option.isNone(text)) return { agents: defaultAgents, source: { _tag: "Defaults", path: file } }
    const decoded = yield* decodeAgentsToml(text.value, file)
    // `${NAME}` in an agent's env table names a variable of this server's environment.
    const agents = yield* fillAgentsEnv(decoded.agents, process.env, file)
    return { agents, source: { _tag: "File", path: file } }
  })

/** Settings that decode but will likely not do what was meant: worth a line in the log, not a refusal. */
export const configNotes = (
  project: ProjectConfig,
  agents: Agents,
  sources: LoadedConfig["sources"],
): ReadonlyArray<string> => {
  const notes: Array<string> = []
  if (sources.project._tag === "Defaults")
    notes.push(
      `no ${sources.project.path}: using the default project settings (run "huskies init" to write one)`,
    )
  if (sources.agents._tag === "Defaults")
    notes.push(
      `no ${sources.agents.path}: using the default team (${defaultAgents.map((a) => a.name).join(", ")})`,
    )
  if (project.commands.test === undefined)
    notes.push("no test command ([commands] test in project.toml): the gates will not run tests")
  const stages = new Set(agents.map((a) => a.stage))
  if (!stages.has("coder")) notes.push('no agent has stage = "coder": nothing will be coded')
  if (project.defaultQa === "agent" && !stages.has("qa"))
    notes.push('default_qa = "agent" but no agent has stage = "qa": items will wait in QA')
  agents.forEach((agent, i) => {
    if (agent.inactivityTimeoutSecs <= project.gatesTimeoutSecs)
      notes.push(
        `agent[${i}] "${agent.name}": inactivity_timeout_secs = ${agent.inactivityTimeoutSecs} is not above ` +
          `gates_timeout_secs = ${project.gatesTimeoutSecs}, so it may be stopped while it waits for run_tests`,
      )
  })
  return notes
}

export const loadConfig = (root: string): Effect.Effect<LoadedConfig, ConfigError, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const project = yield* loadProjectConfig(root)
    const agents = yield* loadAgentsConfig(root)
    const sources = { project: project.source, agents: agents.source }
    return {
      root: path.resolve(root),
      project: project.project,
      agents: agents.agents,
      sources,
      notes: configNotes(project.project, agents.agents, sources),
    }
  })
