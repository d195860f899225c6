// bench/chatDoor.ts — the chat door on a real server: a change (a move by command) until the platform
// receives its notification, p50/p95 with no coalescing window; and a burst of 1,000 moves with the
// default window, counting the messages actually sent. The platform is an in-process stand-in at the
// chat contract, so the numbers are the door's and the outbox's, not a network's.
import { Duration, Effect, Either, Fiber, Layer, Queue, Stream } from "effect"
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
        return { latencies, sent }
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
    },
  })
} finally {
  cleanup()
}
