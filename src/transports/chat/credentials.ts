// src/transports/chat/credentials.ts — a chat platform's secrets: from the environment
// (HUSKIES_<PLATFORM>_<NAME>, e.g. HUSKIES_SLACK_BOT_TOKEN) or from bot.toml's `credentials_file`
// (KEY=value lines, mode 0600 or refused); never from bot.toml itself, never logged. Used by the adapters.
import { Effect, Redacted, Schema } from "effect"
import { readFileSync, statSync } from "node:fs"
import { isAbsolute, join } from "node:path"
import type { PlatformConfig } from "../../domain/BotConfig.js"
import type { AdapterMemory } from "./memory.js"
import type { PlatformName } from "./platform.js"

export class MissingCredential extends Schema.TaggedError<MissingCredential>()("MissingCredential", {
  variable: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `${this.variable}: ${this.detail}`
  }
}

/** What an adapter is given besides its bot.toml table. */
export interface AdapterEnv {
  /** The project's root. */
  readonly root: string
  /** The secret `name` (BOT_TOKEN, SIGNING_SECRET, APP_TOKEN…) of this platform. */
  readonly secret: (name: string) => Effect.Effect<Redacted.Redacted<string>, MissingCredential>
  /** The same, or undefined when it is not set (optional secrets). */
  readonly optionalSecret: (
    name: string,
  ) => Effect.Effect<Redacted.Redacted<string> | undefined, MissingCredential>
  /** What the adapter remembers across restarts (the outbox's); absent: this process's memory only. */
  readonly memory?: AdapterMemory
  /** `[server] allowed_hosts` of project.toml: the names a webhook receiver answers to besides its bind. */
  readonly allowedHosts?: ReadonlyArray<string>
}

/** What serve adds to an adapter's environment besides its credentials. */
export interface AdapterExtras {
  readonly memory?: AdapterMemory
  readonly allowedHosts?: ReadonlyArray<string>
}

const parseLines = (text: string): Map<string, string> =>
  new Map(
    text
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "" && !line.startsWith("#"))
      .flatMap((line) => {
        const eq = line.indexOf("=")
        return eq < 0 ? [] : [[line.slice(0, eq).trim(), line.slice(eq + 1).trim()] as const]
      }),
  )

/** The credentials of `platform`, from `env` (process.env) and its credentials file if bot.toml names one. */
export const adapterEnv = (
  root: string,
  platform: PlatformName,
  config: PlatformConfig,
  env: Readonly<Record<string, string | undefined>> = process.env,
  extras: AdapterExtras = {},
): AdapterEnv => {
  const fileValues = Effect.suspend(() => {
    const file = config.credentials_file
    if (file === undefined) return Effect.succeed(new Map<string, string>())
    const path = isAbsolute(file) ? file : join(root, file)
    return Effect.try({
      try: () => {
        const mode = statSync(path).mode & 0o777
        if ((mode & 0o077) !== 0)
          throw new Error(`${path} is readable by others (mode ${mode.toString(8)}): chmod 600 it`)
        return parseLines(readFileSync(path, "utf8"))
      },
      catch: (e) =>
        new MissingCredential({
          variable: "credentials_file",
          detail: e instanceof Error ? e.message : String(e),
        }),
    })
  })
  const optionalSecret = (name: string) => {
    const variable = `HUSKIES_${platform.toUpperCase()}_${name}`
    const fromEnv = env[variable]
    if (fromEnv !== undefined && fromEnv !== "") return Effect.succeed(Redacted.make(fromEnv))
    return Effect.map(fileValues, (values) => {
      const value = values.get(variable) ?? values.get(name)
      return value === undefined || value === "" ? undefined : Redacted.make(value)
    })
  }
  return {
    ...extras,
    root,
    optionalSecret,
    secret: (name) =>
      Effect.flatMap(optionalSecret(name), (value) =>
        value === undefined
          ? Effect.fail(
              new MissingCredential({
                variable: `HUSKIES_${platform.toUpperCase()}_${name}`,
                detail: "not set: export it, or put it in the 0600 file bot.toml's credentials_file names",
              }),
            )
          : Effect.succeed(value),
      ),
  }
}
