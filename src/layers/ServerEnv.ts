// src/layers/ServerEnv.ts — the settings huskies takes from its own environment, read through effect's
// Config so tests provide them (ServerEnvFixed, or a ConfigProvider) instead of setting process.env.
// main builds the logger from it. HUSKIES_TOKEN is read the same way, where it is checked (serverAccess).
import { Config, Context, Effect, Layer, LogLevel, Schema } from "effect"

export interface ServerEnvShape {
  /**
   * HUSKIES_LOG_LEVEL: the least severe log line written, one of all, trace, debug, info, warn, error,
   * fatal, off (any case). Default: info.
   */
  readonly logLevel: LogLevel.LogLevel
}

/** What the environment says to huskies itself (not what its agents inherit: see agentFiles.processEnv). */
export class ServerEnv extends Context.Tag("huskies/ServerEnv")<ServerEnv, ServerEnvShape>() {}

export const serverEnvDefaults: ServerEnvShape = { logLevel: LogLevel.Info }

/** The settings as an effect Config: each with its variable, its default and what it means. */
export const serverEnvConfig: Config.Config<ServerEnvShape> = Config.all({
  logLevel: Config.logLevel("HUSKIES_LOG_LEVEL").pipe(
    Config.withDefault(serverEnvDefaults.logLevel),
    Config.withDescription(
      "the least severe log line written: all, trace, debug, info, warn, error, fatal, off",
    ),
  ),
})

/** A variable that is set but cannot be used: huskies does not start, and says which and why. */
export class EnvError extends Schema.TaggedError<EnvError>()("EnvError", { detail: Schema.String }) {
  override get message(): string {
    return `environment: ${this.detail}`
  }
}

/** The settings from the current ConfigProvider (the process environment unless a test sets another). */
export const ServerEnvLive: Layer.Layer<ServerEnv, EnvError> = Layer.effect(
  ServerEnv,
  Effect.mapError(
    serverEnvConfig,
    // effect's ConfigError prints as "(Invalid data at NAME: why)".
    (e) =>
      new EnvError({ detail: `${String(e).replace(/^\((.*)\)$/s, "$1")}; set a valid value or unset it` }),
  ),
)

/** Fixed settings, the defaults where `options` says nothing: for tests. */
export const ServerEnvFixed = (options: Partial<ServerEnvShape> = {}): Layer.Layer<ServerEnv> =>
  Layer.succeed(ServerEnv, { ...serverEnvDefaults, ...options })
