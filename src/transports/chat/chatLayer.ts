// src/transports/chat/chatLayer.ts — what `serve` adds for chat: reads `.huskies/bot.toml`, watches it
// (an edit applies while serve runs; one that does not decode is logged naming the field and the last
// good config stays in force) and, once it enables a platform, loads the door and the adapters (dynamic
// import, so a server without chat loads no chat SDK). A missing file means no chat; never fatal.
import { Duration, Effect, Either, Layer, Queue, Stream, SubscriptionRef } from "effect"
import { existsSync, readFileSync, watch } from "node:fs"
import { join } from "node:path"
import { type BotConfig, botTomlName, decodeBotConfig, enabledPlatforms } from "../../domain/BotConfig.js"
import { withComponent } from "../../layers/Logs.js"
import { projectPaths } from "../../layers/Project.js"
import type { CommandEnv } from "../commands/runCommand.js"
import type { DoorsOptions } from "./door/serveChat.js"

export const botTomlPath = (root: string) => join(projectPaths(root).huskiesDir, botTomlName)

export interface ChatLayerOptions {
  /** How long bot.toml must be quiet after a change before it is read (default 100 ms): a save is often
   * several writes, and reading between them would load half a file. */
  readonly debounce?: Duration.DurationInput
  /** How the doors connect and retry (default: the adapter registry, serve's pauses). */
  readonly doors?: DoorsOptions
}

type Read = Either.Either<BotConfig, string>

/** The file as it is now: a missing file is a config without platforms; a bad one is the reason. */
const readBotToml = (file: string): Read => {
  if (!existsSync(file)) return Either.mapLeft(decodeBotConfig("", file), (e) => e.message)
  let text: string
  try {
    text = readFileSync(file, "utf8")
  } catch (e) {
    return Either.left(`${file} cannot be read (${String(e)})`)
  }
  return Either.mapLeft(decodeBotConfig(text, file), (e) => e.message)
}

export const chatLayer = (
  root: string,
  options: ChatLayerOptions = {},
): Layer.Layer<never, never, CommandEnv> =>
  Layer.scopedDiscard(
    Effect.gen(function* () {
      const file = botTomlPath(root)
      // The config in force: undefined until one loads.
      const inForce = yield* SubscriptionRef.make<BotConfig | undefined>(undefined)
      const reload = Effect.gen(function* () {
        const before = yield* SubscriptionRef.get(inForce)
        const read = readBotToml(file)
        if (Either.isLeft(read))
          return yield* before === undefined
            ? Effect.logError(`chat not started: ${read.left}`)
            : Effect.logError(`bot.toml not reloaded, the last good one stays in force: ${read.left}`)
        // Plain decoded data: equal JSON is the same config, so a save that changes nothing is no change.
        if (before !== undefined && JSON.stringify(before) === JSON.stringify(read.right)) return
        yield* SubscriptionRef.set(inForce, read.right)
        if (before !== undefined) yield* Effect.logInfo("bot.toml reloaded")
      })
      yield* reload

      // Watched from the start, so a bot.toml written while serve runs enables chat without a restart.
      const touched = yield* Queue.sliding<void>(1)
      const watching = yield* Effect.acquireRelease(
        Effect.try(() =>
          watch(projectPaths(root).huskiesDir, (_event, name) => {
            // No name (some platforms): it may be ours, and a needless read costs little.
            if (name === null || String(name) === botTomlName) touched.unsafeOffer(undefined)
          }),
        ).pipe(Effect.either),
        (watcher) => Effect.sync(() => Either.map(watcher, (w) => w.close())),
      )
      if (Either.isLeft(watching))
        yield* Effect.logWarning(
          `bot.toml not watched (${String(watching.left.error)}): edits apply when serve restarts`,
        )
      else
        yield* Stream.fromQueue(touched).pipe(
          Stream.debounce(options.debounce ?? Duration.millis(100)),
          Stream.runForEach(() => reload),
          Effect.forkScoped,
        )

      const configs = inForce.changes.pipe(Stream.filter((c): c is BotConfig => c !== undefined))
      // The doors (and their SDKs) load once some platform is enabled, now or after an edit.
      yield* configs.pipe(
        Stream.filter((c) => enabledPlatforms(c).length > 0),
        Stream.runHead,
        Effect.zipRight(Effect.promise(() => import("./door/serveChat.js"))),
        Effect.flatMap(({ chatDoorsLive }) => Layer.build(chatDoorsLive(root, configs, options.doors))),
        Effect.forkScoped,
      )
    }).pipe(withComponent("chat")),
  )
