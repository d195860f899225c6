// src/main.ts — the `huskies` command line: composes the layers and launches one mode.
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Config, Console, Effect, Layer, Option } from "effect"
import { resolve } from "node:path"
import { defaultGraceMillis } from "./actors/agentContract.js"
import { buildInfo } from "./layers/BuildInfo.js"
import { loadConfig } from "./layers/Config.js"
import { HuskiesConfig, HuskiesConfigLive } from "./layers/HuskiesConfig.js"
import { LogsLive } from "./layers/Logs.js"
import { ServerEnv, ServerEnvLive } from "./layers/ServerEnv.js"
import { runAgentMode } from "./transports/cli/agentMode.js"
import { runInit } from "./transports/cli/init.js"
import { mcpUrl, runMcpConfig } from "./transports/cli/mcpConfig.js"
import { nodeCommand, tokenCommand } from "./transports/cli/nodeCommands.js"
import { checkProject, serveProject } from "./transports/cli/serve.js"
import { absorbRepeatedSignals } from "./transports/cli/signalGuard.js"
import { accessNotice, resolveServerAccess, tokenHint } from "./transports/cli/serverAccess.js"

const path = Args.directory({ name: "path", exists: "either" }).pipe(
  Args.withDescription("the project's git repository (default: the current directory)"),
  Args.withDefault("."),
)
const port = Options.integer("port").pipe(
  Options.withDescription("HTTP port (default: project.toml's port, else 3001; 0 picks a free one)"),
  Options.optional,
)
const host = Options.text("host").pipe(
  Options.withDescription("address to bind (default: project.toml's host, else 127.0.0.1)"),
  Options.optional,
)

const startEmpty = Options.boolean("start-empty").pipe(
  Options.withDescription(
    "start with no items although .huskies/huskies.db is empty or gone after a store existed there",
  ),
)

const serveHandler = (args: {
  path: string
  port: Option.Option<number>
  host: Option.Option<string>
  startEmpty: boolean
}) =>
  Effect.gen(function* () {
    const root = yield* checkProject(args.path)
    // One config service for the whole run (it logs what to know about the config): the bind settings
    // are read from it here, then the server reads through the same one.
    const configLayer = yield* Layer.memoize(HuskiesConfigLive(root))
    const config = yield* Effect.flatMap(HuskiesConfig, (c) => c.get).pipe(Effect.provide(configLayer))
    const bindHost = Option.getOrElse(args.host, () => config.project.server.host)
    const access = yield* resolveServerAccess(root, config.project.server, bindHost)
    // Straight to stdout, not the log: it says where the token is (never the token itself).
    const notice = accessNotice(access, bindHost)
    if (notice !== undefined) yield* Console.log(notice)
    yield* absorbRepeatedSignals(defaultGraceMillis)
    yield* serveProject(root, {
      port: Option.getOrElse(args.port, () => config.project.server.port),
      host: bindHost,
      access,
      durability: config.project.store.durability,
      startEmpty: args.startEmpty,
      config: configLayer,
    })
  }).pipe(Effect.scoped)

const write = Options.boolean("write").pipe(
  Options.withDescription("merge the huskies entry into <path>/.mcp.json instead of printing it"),
)

const inlineToken = Options.boolean("inline-token").pipe(
  Options.withDescription(
    "write the token itself into the Authorization header instead of ${HUSKIES_TOKEN} (for clients that expand no variables; keep that file out of git)",
  ),
)

const mcpConfig = Command.make("mcp-config", { path, port, host, write, inlineToken }, (args) =>
  Effect.gen(function* () {
    const root = resolve(args.path)
    // A one-shot command: one read of the files, nothing to watch.
    const config = yield* loadConfig(root)
    const bindHost = Option.getOrElse(args.host, () => config.project.server.host)
    const url = mcpUrl(
      bindHost,
      Option.getOrElse(args.port, () => config.project.server.port),
    )
    const access = yield* resolveServerAccess(root, config.project.server, bindHost)
    yield* runMcpConfig(
      root,
      url,
      args.write,
      access.token === undefined
        ? { _tag: "None" }
        : args.inlineToken
          ? { _tag: "Inline", token: access.token }
          : { _tag: "Env" },
    )
    const notice =
      access.tokenSource === undefined ? undefined : tokenHint(access.tokenSource, args.inlineToken)
    if (notice !== undefined) yield* Console.error(notice)
  }),
).pipe(
  Command.withDescription("print (or --write) the .mcp.json that connects an MCP client to this project"),
)

const init = Command.make("init", { path }, ({ path }) => runInit(path)).pipe(
  Command.withDescription("scaffold .huskies/ in a git repository and commit only the files it creates"),
)

const serve = Command.make("serve", { path, port, host, startEmpty }, serveHandler).pipe(
  Command.withDescription("serve one project: /health and /mcp on one HTTP port"),
)

const rendezvous = Options.text("rendezvous").pipe(
  Options.withDescription("the main node to join: ws://host:port (its `huskies serve`)"),
)
const joinToken = Options.text("token").pipe(
  Options.withDescription(
    "a one-time join token from `huskies token create` on the main node (first start only); or set HUSKIES_JOIN_TOKEN, which keeps it out of the process list",
  ),
  Options.withFallbackConfig(Config.string("HUSKIES_JOIN_TOKEN")),
  Options.optional,
)
const label = Options.text("label").pipe(
  Options.withDescription("the name the board shows for this node (default: its node id)"),
  Options.optional,
)

const agent = Command.make("agent", { path, rendezvous, token: joinToken, label }, (args) =>
  Effect.gen(function* () {
    yield* absorbRepeatedSignals(defaultGraceMillis)
    yield* runAgentMode(args)
  }).pipe(Effect.scoped),
).pipe(
  Command.withDescription(
    "run a headless worker node on a clone of the project: replicate the main node's pipeline, claim and code items, push their branches",
  ),
)

const huskies = Command.make("huskies", { path, port, host, startEmpty }, serveHandler).pipe(
  Command.withDescription(
    "huskies turns a backlog of work items into merged, tested code; `huskies [path]` serves",
  ),
  Command.withSubcommands([init, serve, agent, mcpConfig, tokenCommand, nodeCommand]),
)

const cli = Command.run(huskies, { name: "huskies", version: buildInfo().version })

const logs = Layer.unwrapEffect(
  Effect.map(ServerEnv, (env) => LogsLive({ minimumLevel: env.logLevel })),
).pipe(Layer.provide(ServerEnvLive))

/** Errors a person caused and can fix: one clear line and exit code 1, no stack trace. */
const reportUserError = (e: { readonly message: string }) =>
  Console.error(`huskies: ${e.message}`).pipe(
    Effect.zipRight(
      Effect.sync(() => {
        process.exitCode = 1
      }),
    ),
  )

cli(process.argv).pipe(
  Effect.catchTags({
    ProjectNotInitialised: reportUserError,
    ConfigError: reportUserError,
    NotAGitWorkTree: reportUserError,
    ScaffoldError: reportUserError,
    McpConfigError: reportUserError,
    TokenError: reportUserError,
    ProjectLocked: reportUserError,
    ProjectLockError: reportUserError,
    StoreDamaged: reportUserError,
    PersistError: reportUserError,
    WorkerSetupError: reportUserError,
    WorkerRefused: reportUserError,
    MainNodeRefused: reportUserError,
    MainKeyPinUnreadable: reportUserError,
    NodeTrustError: reportUserError,
    NodeKeyError: reportUserError,
    NodeCommandError: reportUserError,
    // The tree already logged why at error level; one short last line and exit code 1, no second trace.
    SupervisorEscalation: (e) =>
      reportUserError({ message: `stopped: its part "${e.key}" kept crashing (see the log above)` }),
    ServeError: (e) =>
      reportUserError({
        message: `could not start the HTTP server: ${e.cause instanceof Error ? e.cause.message : String(e.cause)} (another process may hold the port: choose one with --port or [server] port in .huskies/project.toml)`,
      }),
  }),
  Effect.provide(Layer.mergeAll(NodeContext.layer, logs)),
  Effect.catchTag("EnvError", reportUserError),
  NodeRuntime.runMain({ disablePrettyLogger: true }),
)
