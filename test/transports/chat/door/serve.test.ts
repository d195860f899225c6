// test/transports/chat/door/serve.test.ts — chat as serve runs it: a bot.toml that enables a platform
// starts its door (and outbox) beside the pipeline, and neither a platform that cannot connect nor a
// bot.toml that does not decode keeps the server from serving commands.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { existsSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { LogsLive } from "../../../../src/layers/Logs.js"
import { serverLayer } from "../../../../src/transports/cli/serve.js"
import { executeCommand } from "../../../../src/transports/commands/runCommand.js"
import { makeGitRepo } from "../../../support/gitRepo.js"
import { ok } from "../../../support/tools.js"
import { eventually, holds } from "../../../support/waits.js"

const serveWith = (botToml: string, logs: Array<string>) =>
  Effect.gen(function* () {
    const repo = yield* makeGitRepo({ initialCommit: true })
    mkdirSync(join(repo.dir, ".huskies"), { recursive: true })
    writeFileSync(join(repo.dir, ".huskies", "project.toml"), 'base_branch = "main"\n')
    writeFileSync(join(repo.dir, ".huskies", "bot.toml"), botToml)
    const layer = serverLayer(repo.dir, {
      port: 0,
      host: "127.0.0.1",
      durability: "normal",
      autoAssign: false,
      mergeQueue: false,
    }).pipe(Layer.provideMerge(LogsLive({ write: (line) => void logs.push(line) })))
    return { root: repo.dir, context: yield* Layer.build(layer) }
  })

describe("chat under serve", () => {
  it.live("a platform that cannot connect is retried in the background; the pipeline serves on", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const logs: Array<string> = []
        // No credentials in this environment: the adapter fails, whichever one the registry holds.
        const { root, context } = yield* serveWith(
          '[whatsapp]\nenabled = true\n[[whatsapp.room]]\nid = "+15550001"\n',
          logs,
        )
        yield* eventually(
          "the chat door's failure in the log",
          Effect.sync(() =>
            holds(logs.some((l) => l.includes("whatsapp failed; connecting again after a pause: "))),
          ),
          { millis: 10_000 },
        )
        expect(existsSync(join(root, ".huskies", "outbox.db"))).toBe(true)
        yield* Effect.provide(
          Effect.gen(function* () {
            yield* ok("create_story", { name: "Add login" })
            expect((yield* executeCommand("move 1 coding", "ui:tester")).text).toBe(
              "Moved 1: Backlog → Coding.",
            )
          }),
          context,
        )
      }),
    ),
  )

  it.live("a bot.toml that enables a platform while serve runs starts its door, without a restart", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const logs: Array<string> = []
        const { root } = yield* serveWith("", logs)
        expect(existsSync(join(root, ".huskies", "outbox.db"))).toBe(false)
        writeFileSync(
          join(root, ".huskies", "bot.toml"),
          '[whatsapp]\nenabled = true\n[[whatsapp.room]]\nid = "+15550001"\n',
        )
        // No credentials here: the door's connection fails, which shows it was started.
        yield* eventually(
          "the new door's attempt in the log",
          Effect.sync(() =>
            holds(logs.some((l) => l.includes("whatsapp failed; connecting again after a pause: "))),
          ),
          { millis: 10_000 },
        )
        expect(logs.join("\n")).toContain("bot.toml reloaded")
        expect(existsSync(join(root, ".huskies", "outbox.db"))).toBe(true)
      }),
    ),
  )

  it.live("a bot.toml that does not decode is logged with the key; the server runs without chat", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const logs: Array<string> = []
        const { root, context } = yield* serveWith('[slack]\nenabled = "yes"\n', logs)
        expect(logs.join("\n")).toContain("chat not started")
        expect(logs.join("\n")).toContain("slack.enabled")
        expect(existsSync(join(root, ".huskies", "outbox.db"))).toBe(false)
        const reply = yield* Effect.provide(executeCommand("status", "ui:tester"), context)
        expect(reply._tag).toBe("Done")
      }),
    ),
  )
})
