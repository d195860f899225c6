// bench/chatDoor.ts — the chat door on a real server: the memory of doors on all four platforms (the real
// SDKs connected to the local fakes of test/fakes) against none; a change (a move by command) until the
// platform receives its notification, p50/p95 with no coalescing window; and a burst of 1,000 moves with
// the default window, counting the messages actually sent. For the latter two the platform is an
// in-process stand-in at the chat contract, so the numbers are the door's and the outbox's, not a network's.
import { ConfigProvider, Context, Duration, Effect, Either, Fiber, Layer, Queue, Stream } from "effect"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { decodeBotConfig } from "../src/domain/BotConfig.js"
import { LogsLive } from "../src/layers/Logs.js"
import { Store } from "../src/layers/Store.js"
import { OutboxLive } from "../src/layers/Outbox.js"
import { runDoor } from "../src/transports/chat/door/Door.js"
import type { ChatPlatform } from "../src/transports/chat/platform.js"
import { serverLayer } from "../src/transports/cli/serve.js"
import { executeCommand } from "../src/transports/commands/runCommand.js"
import { emit, gitInit, percentile, scratchDir } from "./measure.js"
import { execFileSync } from "node:child_process"
import { platformAdapters } from "../src/transports/chat/adapters.js"
import { adapterEnv } from "../src/transports/chat/credentials.js"
import { FakeDiscord } from "../test/fakes/discord/server.js"
import { startFakeHomeserver } from "../test/fakes/matrix/homeserver.js"
import { SlackFake } from "../test/fakes/slack/SlackFake.js"
import { startFakeGraphApi } from "../test/fakes/whatsapp/graph.js"

const samples = Number(process.env["HUSKIES_BENCH_CHAT_SAMPLES"] ?? 100)
const burst = 1000

const config = (coalesceMs: number) => {
  const decoded = decodeBotConfig(
    `[slack]\nenabled = true\ncoalesce_ms = ${coalesceMs}\n[slack.users]\nops = ["ops"]\n[[slack.room]]\nid = "C1"\nrole = "ops"\nnotify = ["moves"]\n`,
    "bot.toml",
  )
  if (Either.isLeft(decoded) || decoded.right.slack === undefined) throw new Error("bad bench config")
  return decoded.right.slack
}

/** Heap used and RSS after a full collection (the process runs with --expose-gc), in MiB. */
const settledMemory = Effect.promise(async () => {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.()
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const { heapUsed, rss } = process.memoryUsage()
  const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10
  return { heapMiB: mib(heapUsed), rssMiB: mib(rss) }
})

/**
 * The fakes of the four platforms, started before the first measurement so both measurements hold them:
 * the difference is the doors, their adapters and SDKs, and their connections.
 */
const startFakes = Effect.acquireRelease(
  Effect.promise(async () => {
    const slack = new SlackFake({ botToken: "xoxb-bench-bot", appToken: "xapp-bench-app" })
    await slack.start()
    const discord = await FakeDiscord.start()
    const matrix = await startFakeHomeserver("@huskies:bench.test")
    matrix.createRoom("!ops:bench.test", [
      { userId: "@ops:bench.test", displayName: "Ops" },
      { userId: "@huskies:bench.test", displayName: "huskies" },
    ])
    const whatsapp = await startFakeGraphApi("1099887766", "EAAG-bench")
    return { slack, discord, matrix, whatsapp }
  }),
  (f) =>
    Effect.promise(async () => {
      await f.slack.stop()
      await f.discord.close()
      await f.matrix.close()
      await f.whatsapp.close()
    }),
)

type Fakes = Effect.Effect.Success<typeof startFakes>

/** The four doors as serve runs them (the adapter registry, credentials from the environment), connected. */
const connectAll = (root: string, fakes: Fakes) =>
  Effect.gen(function* () {
    const room = (id: string) => ({
      ...config(0),
      room: [{ ...config(0).room[0]!, id }],
      ops_room: id,
    })
    const doors = [
      {
        name: "slack",
        config: room("C1"),
        env: { HUSKIES_SLACK_BOT_TOKEN: "xoxb-bench-bot", HUSKIES_SLACK_APP_TOKEN: "xapp-bench-app" },
      },
      {
        name: "discord",
        config: room(fakes.discord.channelId),
        env: { HUSKIES_DISCORD_TOKEN: fakes.discord.token },
      },
      {
        name: "matrix",
        config: room("!ops:bench.test"),
        env: {
          HUSKIES_MATRIX_HOMESERVER: fakes.matrix.url,
          HUSKIES_MATRIX_USER_ID: "@huskies:bench.test",
          HUSKIES_MATRIX_ACCESS_TOKEN: "syt_bench",
        },
      },
      {
        name: "whatsapp",
        config: room("15551234567"),
        env: {
          HUSKIES_WHATSAPP_TOKEN: "EAAG-bench",
          HUSKIES_WHATSAPP_APP_SECRET: "bench-secret",
          HUSKIES_WHATSAPP_VERIFY_TOKEN: "bench-verify",
          HUSKIES_WHATSAPP_PHONE_NUMBER_ID: "1099887766",
        },
      },
    ] as const
    const settings = ConfigProvider.fromMap(
      new Map([
        ["HUSKIES_SLACK_API_URL", fakes.slack.apiUrl],
        ["HUSKIES_DISCORD_API_URL", fakes.discord.api],
        ["HUSKIES_DISCORD_GUILD", fakes.discord.guildId],
        ["HUSKIES_WHATSAPP_GRAPH_URL", fakes.whatsapp.url],
        ["HUSKIES_WHATSAPP_WEBHOOK_PORT", "0"],
      ]),
    )
    const discordReady = new Promise((resolve) => fakes.discord.once("commands", resolve))
    for (const door of doors) {
      const platform = yield* platformAdapters[door.name](
        door.config,
        adapterEnv(root, door.name, door.config, door.env),
      ).pipe(Effect.withConfigProvider(settings), Effect.orDie)
      yield* Effect.forkScoped(runDoor(platform, door.config))
    }
    // Connected: Slack's socket said hello, Discord's commands are registered, Matrix is syncing.
    yield* Effect.promise(() => fakes.slack.until(() => fakes.slack.hellos > 0))
    yield* Effect.promise(() => discordReady)
    yield* Effect.promise(() => fakes.matrix.waitForSyncs(2))
  })

const platform = Effect.map(Queue.unbounded<number>(), (received) => {
  let n = 0
  const chat: ChatPlatform = {
    name: "slack",
    events: Stream.never,
    threads: true,
    buttons: true,
    send: () => Effect.as(Queue.offer(received, performance.now()), { messageId: `m${++n}` }),
    update: () => Effect.void,
  }
  return { chat, received }
})

const { dir, cleanup } = scratchDir()
try {
  gitInit(dir)
  execFileSync("git", [
    "-C",
    dir,
    "-c",
    "user.name=b",
    "-c",
    "user.email=b@b",
    "commit",
    "-q",
    "--allow-empty",
    "-m",
    "init",
  ])
  mkdirSync(join(dir, ".huskies"), { recursive: true })
  writeFileSync(join(dir, ".huskies", "project.toml"), 'base_branch = "main"\n')
  const result = await Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const server = serverLayer(dir, {
          port: 0,
          host: "127.0.0.1",
          durability: "normal",
          autoAssign: false,
          mergeQueue: false,
        }).pipe(Layer.provideMerge(LogsLive({ write: () => undefined })))
        const context = yield* Layer.build(server)
        const say = (line: string) => Effect.provide(executeCommand(line, "ui:bench"), context)
        yield* say("help")
        yield* Effect.provide(
          Effect.flatMap(Store, (store) =>
            store.create({
              kind: "story",
              name: "bench",
              content: "---\nname: bench\n---\n\n## Acceptance Criteria\n\n- [ ] works\n",
            }),
          ),
          context,
        )
        const move = (i: number) => say(i % 2 === 0 ? "move 1 coding" : "move 1 backlog")

        // Memory: the server with the four fakes, then with a door on each platform connected to its fake.
        const fakes = yield* startFakes
        const none = yield* settledMemory
        const four = yield* Effect.scoped(
          Effect.gen(function* () {
            const outbox = yield* Layer.build(OutboxLive(join(dir, "bench-outbox-0.db")))
            yield* Effect.provide(connectAll(dir, fakes), Context.merge(context, outbox))
            return yield* settledMemory
          }),
        )

        // Latency: one move at a time, no coalescing window.
        const quick = yield* platform
        const door = yield* Effect.forkScoped(
          Effect.provide(
            runDoor(quick.chat, config(0)),
            Layer.merge(OutboxLive(join(dir, "bench-outbox-1.db")), Layer.succeedContext(context)),
          ),
        )
        yield* Effect.sleep(Duration.millis(200))
        const latencies: Array<number> = []
        for (let i = 0; i < samples; i++) {
          const start = performance.now()
          yield* move(i)
          const at = yield* Queue.take(quick.received)
          latencies.push(at - start)
        }
        yield* Fiber.interrupt(door)
        latencies.sort((a, b) => a - b)

        // Burst: 1,000 moves with the default window.
        const busy = yield* platform
        yield* Effect.forkScoped(
          Effect.provide(
            runDoor(busy.chat, config(2000)),
            Layer.merge(OutboxLive(join(dir, "bench-outbox-2.db")), Layer.succeedContext(context)),
          ),
        )
        yield* Effect.sleep(Duration.millis(200))
        for (let i = 0; i < burst; i++) yield* move(i + samples)
        yield* Effect.sleep(Duration.seconds(3))
        const sent = yield* Queue.size(busy.received)
        return { latencies, sent, none, four }
      }),
    ),
  )
  emit({
    scenario: "chat",
    metrics: {
      samples,
      notifyP50Ms: Math.round(percentile(result.latencies, 50) * 10) / 10,
      notifyP95Ms: Math.round(percentile(result.latencies, 95) * 10) / 10,
      burstEvents: burst,
      burstMessages: result.sent,
      memNoneRssMiB: result.none.rssMiB,
      memNoneHeapMiB: result.none.heapMiB,
      memFourRssMiB: result.four.rssMiB,
      memFourHeapMiB: result.four.heapMiB,
    },
  })
} finally {
  cleanup()
}
