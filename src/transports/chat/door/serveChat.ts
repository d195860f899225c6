// src/transports/chat/door/serveChat.ts — the chat doors of a server: one supervised fiber per platform
// bot.toml enables, which connects through the adapter registry and runs the door; a failure (bad
// credentials, an outage, a defect) restarts it with backoff and never reaches the pipeline. Loaded by
// chatLayer.ts only when some platform is enabled.
import { Cause, Duration, Effect, Layer, Option, Schedule } from "effect"
import { enabledPlatforms, type BotConfig } from "../../../domain/BotConfig.js"
import { withComponent } from "../../../layers/Logs.js"
import { OutboxLive } from "../../../layers/Outbox.js"
import { projectPaths } from "../../../layers/Project.js"
import { join } from "node:path"
import { type PlatformAdapter, platformAdapters } from "../adapters.js"
import type { PlatformName } from "../platform.js"
import { adapterEnv } from "../credentials.js"
import { type DoorOptions, runDoor } from "./Door.js"
import type { CommandEnv } from "../../commands/runCommand.js"

// The log shows messages only: the reason goes in the text (a typed failure's message names what to fix).
const reasonOf = (cause: Cause.Cause<unknown>): string =>
  Option.match(Cause.failureOption(cause), {
    onSome: (e) => (e instanceof Error ? e.message : String(e)),
    onNone: () => Cause.pretty(cause),
  })

export interface DoorsOptions extends DoorOptions {
  /** How to connect to each platform (default: the registry in adapters.ts). */
  readonly adapters?: Record<PlatformName, PlatformAdapter>
  /** The first pause before a failed platform connects again (default 1 s, doubling to 5 min). */
  readonly restart?: Duration.DurationInput
}

/** Runs the doors of every enabled platform in the caller's scope, each restarted on failure. */
export const startDoors = (root: string, config: BotConfig, options: DoorsOptions = {}) =>
  Effect.gen(function* () {
    const adapters = options.adapters ?? platformAdapters
    const restart = Schedule.exponential(options.restart ?? Duration.seconds(1)).pipe(
      Schedule.either(Schedule.spaced(Duration.minutes(5))),
    )
    for (const [name, platform] of enabledPlatforms(config)) {
      const once = Effect.scoped(
        Effect.flatMap(adapters[name](platform, adapterEnv(root, name, platform)), (connected) =>
          runDoor(connected, platform, options),
        ),
      ).pipe(
        Effect.sandbox,
        // The door only returns when the platform's events end: that is a connection to make again too.
        Effect.zipRight(Effect.logWarning("the platform's events ended; connecting again")),
        Effect.tapError((cause) =>
          Effect.logError(`${name} failed; connecting again after a pause: ${reasonOf(cause)}`),
        ),
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
