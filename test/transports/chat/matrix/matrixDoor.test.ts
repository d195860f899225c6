// End to end through the adapter registry and the chat door: a command said in a Matrix room (the real
// matrix-js-sdk against the fake homeserver) moves an item on a real Store and the answer comes back as a
// notice in the thread; a permission prompt is answered with a reaction.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Schema } from "effect"
import { join } from "node:path"
import { Decisions } from "../../../../src/actors/Decisions.js"
import { PlatformConfig } from "../../../../src/domain/BotConfig.js"
import { StoryId } from "../../../../src/domain/StoryId.js"
import { OutboxLive } from "../../../../src/layers/Outbox.js"
import { Store } from "../../../../src/layers/Store.js"
import { platformAdapters } from "../../../../src/transports/chat/adapters.js"
import { adapterEnv } from "../../../../src/transports/chat/credentials.js"
import { runDoor } from "../../../../src/transports/chat/door/Door.js"
import type { FakeHomeserver } from "../../../fakes/matrix/homeserver.js"
import { ok, withTools } from "../../../support/tools.js"
import { alice, bob, bot, ops, opsHomeserver } from "./support.js"

// Decoded as bot.toml is, so every setting not named here takes its default.
const config = Schema.decodeUnknownSync(PlatformConfig)({
  enabled: true,
  room: [{ id: ops, role: "ops", notify: [] }],
  users: { ops: [alice], read: [bob] },
  ops_room: ops,
  assistant: "off",
  coalesce_ms: 0,
})

const connected = (root: string) =>
  Effect.gen(function* () {
    const hs = yield* opsHomeserver({ userId: bob, displayName: "Bob" })
    // As serve connects it: the registry's entry, credentials from the environment.
    const env = adapterEnv(root, "matrix", config, {
      HUSKIES_MATRIX_HOMESERVER: hs.url,
      HUSKIES_MATRIX_USER_ID: bot,
      HUSKIES_MATRIX_ACCESS_TOKEN: "syt_secret_token",
    })
    const matrix = yield* platformAdapters.matrix(config, env)
    const outbox = yield* Layer.build(OutboxLive(join(root, "outbox.db")))
    yield* Effect.forkScoped(Effect.provide(runDoor(matrix, config), outbox))
    yield* Effect.promise(() => hs.waitForSyncs(2))
    return hs
  })

const notice = (hs: FakeHomeserver, count: number) =>
  Effect.promise(() =>
    hs.waitForSent(() => hs.sent().filter((e) => e.content["msgtype"] === "m.notice").length >= count),
  ).pipe(Effect.map(() => hs.sent().filter((e) => e.content["msgtype"] === "m.notice")[count - 1]!))

describe("Matrix through the chat door", () => {
  it.live(
    "a mention with a command moves the item; a read-only user is refused; answers are notices in the thread",
    () =>
      withTools((root) =>
        Effect.gen(function* () {
          const hs = yield* connected(root)
          const id = StoryId.make((yield* ok("create_story", { name: "Add login" }))["story_id"] as string)
          const thread = { "m.relates_to": { rel_type: "m.thread", event_id: "$root" } }
          hs.inject(ops, bob, { msgtype: "m.text", body: "huskies: move 1 coding", ...thread })
          const refusal = yield* notice(hs, 1)
          expect(String(refusal.content["body"])).toContain("needs the ops role")
          expect((yield* Effect.flatMap(Store, (s) => s.get(id))).stage).toEqual({ _tag: "Backlog" })

          hs.inject(ops, alice, { msgtype: "m.text", body: "huskies: move 1 coding", ...thread })
          const moved = yield* notice(hs, 2)
          expect(moved.content["body"]).toBe("Moved 1: Backlog → Coding.")
          expect(moved.content["format"]).toBe("org.matrix.custom.html")
          expect(moved.content["m.relates_to"]).toMatchObject({ rel_type: "m.thread", event_id: "$root" })
          expect((yield* Effect.flatMap(Store, (s) => s.get(id))).stage).toEqual({ _tag: "Coding" })
        }),
      ),
    40_000,
  )

  it.live(
    "a permission prompt is answered by reacting ❌, and the prompt is edited to say so",
    () =>
      withTools((root) =>
        Effect.gen(function* () {
          const hs = yield* connected(root)
          const decisions = yield* Decisions
          const asking = yield* Effect.fork(
            decisions.ask(
              { _tag: "Permission", toolName: "Bash", input: { command: "npm publish" } },
              "5 minutes",
            ),
          )
          const prompt = yield* notice(hs, 1)
          expect(String(prompt.content["body"])).toContain("npm publish")
          expect(String(prompt.content["body"])).toContain("❌")
          hs.inject(
            ops,
            alice,
            { "m.relates_to": { rel_type: "m.annotation", event_id: prompt.event_id, key: "❌" } },
            "m.reaction",
          )
          const decision = yield* Fiber.join(asking)
          expect(decision.answer?.verdict).toBe("deny")
          const edit = yield* Effect.promise(() =>
            hs.waitForSent(
              (e) =>
                (e.content["m.relates_to"] as { rel_type?: string } | undefined)?.rel_type === "m.replace",
            ),
          )
          expect(String((edit.content["m.new_content"] as { body: string }).body)).toContain(
            "deny by matrix:",
          )
        }),
      ),
    40_000,
  )
})
