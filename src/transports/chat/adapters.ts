// src/transports/chat/adapters.ts — the registry of chat platform adapters: how to connect to each
// platform bot.toml can enable. Each entry imports its adapter (and its SDK) only when called, so a
// server without chat loads none of them. Used by the chat door's supervisor (door/serveChat.ts).
import { Effect, type Scope } from "effect"
import type { PlatformConfig } from "../../domain/BotConfig.js"
import type { AdapterEnv, MissingCredential } from "./credentials.js"
import { type ChatPlatform, type PlatformName, PlatformUnavailable } from "./platform.js"

/** Connects to a platform for as long as the scope lives; the adapter reconnects by itself after a drop. */
export type PlatformAdapter = (
  config: PlatformConfig,
  env: AdapterEnv,
) => Effect.Effect<ChatPlatform, PlatformUnavailable | MissingCredential, Scope.Scope>

export const platformAdapters: Record<PlatformName, PlatformAdapter> = {
  slack: (_config, env) =>
    Effect.flatMap(
      Effect.promise(() => import("./slack/SlackPlatform.js")),
      (m) => m.connectSlack(env),
    ),
  discord: (_config, env) =>
    Effect.flatMap(
      Effect.promise(() => import("./discord/DiscordPlatform.js")),
      (m) => m.connectDiscord(env),
    ),
  matrix: (config, env) =>
    Effect.flatMap(
      Effect.promise(() => import("./matrix/MatrixPlatform.js")),
      (m) => m.connectMatrix(config, env),
    ),
  whatsapp: (config, env) =>
    Effect.flatMap(
      Effect.promise(() => import("./whatsapp/whatsappConfig.js")),
      (m) => m.connectWhatsApp(config, env),
    ),
}
