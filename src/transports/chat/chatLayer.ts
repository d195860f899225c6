// src/transports/chat/chatLayer.ts — what `serve` adds for chat: reads `.huskies/bot.toml` once at start
// and, only when it enables a platform, loads the door and the adapters (dynamic import, so a server
// without chat loads no chat SDK). A missing file means no chat; a bad one is logged, never fatal.
import { Effect, Either, Layer } from "effect"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { botTomlName, decodeBotConfig, enabledPlatforms } from "../../domain/BotConfig.js"
import { withComponent } from "../../layers/Logs.js"
import { projectPaths } from "../../layers/Project.js"
import type { CommandEnv } from "../commands/runCommand.js"

export const botTomlPath = (root: string) => join(projectPaths(root).huskiesDir, botTomlName)

export const chatLayer = (root: string): Layer.Layer<never, never, CommandEnv> =>
  Layer.unwrapScoped(
    Effect.gen(function* () {
      const file = botTomlPath(root)
      if (!existsSync(file)) return Layer.empty
      const text = yield* Effect.either(Effect.try(() => readFileSync(file, "utf8")))
      if (Either.isLeft(text)) {
        yield* Effect.logError(`chat not started: ${file} cannot be read (${String(text.left.error)})`)
        return Layer.empty
      }
      const decoded = decodeBotConfig(text.right, file)
      if (Either.isLeft(decoded)) {
        yield* Effect.logError(`chat not started: ${decoded.left.message}`)
        return Layer.empty
      }
      if (enabledPlatforms(decoded.right).length === 0) return Layer.empty
      const { chatDoorsLive } = yield* Effect.promise(() => import("./door/serveChat.js"))
      return chatDoorsLive(root, decoded.right)
    }).pipe(withComponent("chat")),
  )
