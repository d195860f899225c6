// src/transports/chat/door/serveChat.ts — the chat doors of a server: one supervised fiber per platform
// bot.toml enables, which connects through the adapter registry and runs the door; a failure (bad
// credentials, an outage, a defect) restarts it with backoff and never reaches the pipeline. Loaded by
// chatLayer.ts only when some platform is enabled.
import { Duration, Effect, Layer, Schedule } from "effect"
import { enabledPlatforms, type BotConfig } from "../../../domain/BotConfig.js"
import { withComponent } from "../../../layers/Logs.js"
import { OutboxLive } from "../../../layers/Outbox.js"
import { projectPaths } from "../../../layers/Project.js"
import { join } from "node:path"
import { platformAdapters } from "../adapters.js"
import { adapterEnv } from "../credentials.js"
import { type DoorOptions, runDoor } from "./Door.js"
import type { CommandEnv } from "../../commands/runCommand.js"

/** How long a platform that failed waits before it connects again: 1 s doubling, at most 5 min. */
const restart = Schedule.exponential(Duration.seconds(1)).pipe(
  Schedule.either(Schedule.spaced(Duration.minutes(5))),
)

/** Runs the doors of every enabled platform in the caller's scope, each restarted on failure. */
export const startDoors = (root: string, config: BotConfig, options: DoorOptions = {}) =>
  Effect.gen(function* () {
    for (const [name, platform] of enabledPlatforms(config)) {
      const once = Effect.scoped(
        Effect.flatMap(platformAdapters[name](platform, adapterEnv(root, name, platform)), (connected) =>
          runDoor(connected, platform, options),
        ),
      ).pipe(
        Effect.sandbox,
        // The door only returns when the platform's events end: that is a connection to make again too.
        Effect.zipRight(Effect.logWarning("the platform's events ended; connecting again")),
        Effect.tapError((cause) => Effect.logError(`${name} failed; connecting again after a pause`, cause)),
        Effect.either,
        Effect.repeat(restart),
        withComponent(`chat:${name}`),
      )
      yield* Effect.forkScoped(once)
    }
  })

/**
 * The doors as a layer over the command environment, with the outbox in `.huskies/outbox.db`. An outbox
 * that cannot open leaves the server without chat (logged), never without its pipeline.
 */
export const chatDoorsLive = (root: string, config: BotConfig): Layer.Layer<never, never, CommandEnv> =>
  Layer.scopedDiscard(
    Effect.gen(function* () {
      const outbox = yield* Effect.either(
        Layer.build(OutboxLive(join(projectPaths(root).huskiesDir, "outbox.db"))),
      )
      if (outbox._tag === "Left")
        return yield* Effect.logError(`chat not started: ${outbox.left.message}`).pipe(withComponent("chat"))
      yield* Effect.provide(startDoors(root, config), outbox.right)
    }),
  )
