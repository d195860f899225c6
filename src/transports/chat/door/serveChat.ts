// src/transports/chat/door/serveChat.ts — the chat doors of a server: one supervised fiber per platform
// bot.toml enables, which connects through the adapter registry and runs the door; a failure (bad
// credentials, an outage, a defect) restarts it with backoff and never reaches the pipeline. Follows
// bot.toml's reloads: rooms, people and subscriptions apply at once, a platform enabled connects, one
// disabled disconnects. Loaded by chatLayer.ts only once some platform is enabled.
import { Cause, Duration, Effect, FiberMap, Layer, Option, Ref, Schedule, Stream } from "effect"
import {
  botPlatforms,
  enabledPlatforms,
  type BotConfig,
  type PlatformConfig,
} from "../../../domain/BotConfig.js"
import { HuskiesConfig } from "../../../layers/HuskiesConfig.js"
import { withComponent } from "../../../layers/Logs.js"
import { Outbox, OutboxLive } from "../../../layers/Outbox.js"
import { projectPaths } from "../../../layers/Project.js"
import { join } from "node:path"
import { type PlatformAdapter, platformAdapters } from "../adapters.js"
import type { PlatformName } from "../platform.js"
import { adapterEnv } from "../credentials.js"
import { outboxMemory } from "../memory.js"
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

/**
 * What a platform's connection is made from: a change here connects again; any other change (rooms,
 * people, subscriptions, the ops room, the window) applies to the running door. Matrix joins its rooms
 * when it connects, so their ids are part of its connection.
 */
export const connectionKey = (name: PlatformName, config: PlatformConfig): string =>
  JSON.stringify({
    ...config,
    room: name === "matrix" ? config.room.map((room) => room.id) : undefined,
    users: undefined,
    ops_room: undefined,
    coalesce_ms: undefined,
  })

/**
 * Runs the door of every platform each config of `configs` enables, in the caller's scope: the first
 * config connects them, each later one connects, updates or disconnects each platform as it says.
 */
export const superviseDoors = (root: string, configs: Stream.Stream<BotConfig>, options: DoorsOptions = {}) =>
  Effect.gen(function* () {
    const adapters = options.adapters ?? platformAdapters
    const outbox = yield* Outbox
    const restart = Schedule.exponential(options.restart ?? Duration.seconds(1)).pipe(
      Schedule.either(Schedule.spaced(Duration.minutes(5))),
    )
    const doors = yield* FiberMap.make<PlatformName>()
    // Touched by the one fiber that follows `configs` only.
    const running = new Map<
      PlatformName,
      { readonly key: string; readonly config: Ref.Ref<PlatformConfig> }
    >()

    const supervised = (name: PlatformName, platform: PlatformConfig, live: Ref.Ref<PlatformConfig>) =>
      Effect.gen(function* () {
        // Read at each connection: the names a webhook receiver answers to besides its bind.
        const allowedHosts = Option.match(yield* (yield* HuskiesConfig).current, {
          onNone: () => [],
          onSome: (loaded) => loaded.project.server.allowedHosts,
        })
        const env = adapterEnv(root, name, platform, process.env, {
          memory: outboxMemory(outbox, name),
          allowedHosts,
        })
        return yield* Effect.flatMap(adapters[name](platform, env), (connected) =>
          runDoor(connected, platform, { ...options, current: Ref.get(live) }),
        )
      }).pipe(
        Effect.scoped,
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

    const apply = (config: BotConfig) =>
      Effect.gen(function* () {
        const enabled = new Map(enabledPlatforms(config))
        for (const name of botPlatforms) {
          const next = enabled.get(name)
          const now = running.get(name)
          if (next === undefined) {
            if (now === undefined) continue
            running.delete(name)
            yield* FiberMap.remove(doors, name)
            yield* Effect.logInfo(`${name} disconnected: bot.toml no longer enables it`)
            continue
          }
          const key = connectionKey(name, next)
          if (now !== undefined && now.key === key) {
            yield* Ref.set(now.config, next)
            continue
          }
          const live = yield* Ref.make(next)
          running.set(name, { key, config: live })
          if (now !== undefined)
            yield* Effect.logInfo(`${name}: its bot.toml table changed; connecting again`)
          // Replaces (interrupts) the previous door of the platform, if any.
          yield* FiberMap.run(doors, name, supervised(name, next, live))
        }
      }).pipe(withComponent("chat"))

    yield* Effect.forkScoped(Stream.runForEach(configs, apply))
  })

/** Runs the doors of every enabled platform in the caller's scope, each restarted on failure. */
export const startDoors = (root: string, config: BotConfig, options: DoorsOptions = {}) =>
  superviseDoors(root, Stream.make(config), options)

/**
 * The doors as a layer over the command environment, with the outbox in `.huskies/outbox.db`. An outbox
 * that cannot open leaves the server without chat (logged), never without its pipeline.
 */
export const chatDoorsLive = (
  root: string,
  configs: Stream.Stream<BotConfig>,
  options: DoorsOptions = {},
): Layer.Layer<never, never, CommandEnv> =>
  Layer.scopedDiscard(
    Effect.gen(function* () {
      const outbox = yield* Effect.either(
        Layer.build(OutboxLive(join(projectPaths(root).huskiesDir, "outbox.db"))),
      )
      if (outbox._tag === "Left")
        return yield* Effect.logError(`chat not started: ${outbox.left.message}`).pipe(withComponent("chat"))
      yield* Effect.provide(superviseDoors(root, configs, options), outbox.right)
    }),
  )
