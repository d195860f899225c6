// test/transports/chat/door/reload.test.ts — bot.toml edited while serve runs: chat's layer (its watcher,
// the supervisor of the doors) on a real Store and Pipeline, with platforms faked at the chat contract.
// People and rooms apply without reconnecting; a bad edit is logged naming the field and the last good
// config stays; a platform enabled connects and one disabled disconnects.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Logger, Ref } from "effect"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { PlatformAdapter } from "../../../../src/transports/chat/adapters.js"
import { chatLayer } from "../../../../src/transports/chat/chatLayer.js"
import { connectionKey } from "../../../../src/transports/chat/door/serveChat.js"
import { ok, withTools } from "../../../support/tools.js"
import { eventually, holds } from "../../../support/waits.js"
import { makeFakePlatform, slackConfig } from "./fakePlatform.js"

const table = (name: string, enabled: boolean, ops: ReadonlyArray<string>, role = "ops") => `[${name}]
enabled = ${enabled}
coalesce_ms = 0
[${name}.users]
ops = ${JSON.stringify(ops)}
[[${name}.room]]
id = "C-ops"
role = "${role}"
`

describe("bot.toml reload", () => {
  it.live("a bot.toml written while serve runs without one starts chat", () =>
    withTools((root) =>
      Effect.gen(function* () {
        const slack = yield* makeFakePlatform
        const never: PlatformAdapter = () => Effect.dieMessage("not enabled, never called")
        mkdirSync(join(root, ".huskies"), { recursive: true })
        yield* Layer.build(
          chatLayer(root, {
            debounce: "20 millis",
            doors: {
              adapters: {
                slack: () => Effect.succeed(slack.platform),
                discord: never,
                matrix: never,
                whatsapp: never,
              },
              restart: "10 millis",
            },
          }),
        )
        writeFileSync(join(root, ".huskies", "bot.toml"), table("slack", true, ["alice"]))
        yield* eventually(
          "the door answering",
          Effect.gen(function* () {
            yield* slack.say("alice", "help")
            return yield* slack.nextSent(200).pipe(
              Effect.map((m) => m.text),
              Effect.catchAllDefect(() => Effect.succeed(undefined)),
            )
          }),
          { millis: 10_000 },
        )
      }),
    ),
  )

  it("what makes a connection is credentials and settings; Matrix's rooms too; people and rooms are not", () => {
    const base = slackConfig()
    const morePeople = { ...base, users: { ops: ["alice", "carol"], read: [] } }
    const [first] = base.room
    if (first === undefined) throw new Error("slackConfig has rooms")
    const otherRooms = { ...base, room: [...base.room, { ...first, id: "C-new" }] }
    expect(connectionKey("slack", morePeople)).toBe(connectionKey("slack", base))
    expect(connectionKey("slack", otherRooms)).toBe(connectionKey("slack", base))
    expect(connectionKey("matrix", otherRooms)).not.toBe(connectionKey("matrix", base))
    expect(connectionKey("slack", { ...base, credentials_file: "other.env" })).not.toBe(
      connectionKey("slack", base),
    )
  })

  it.live(
    "edits apply while chat runs: people at once, a bad edit keeps the last good config, platforms come and go",
    () => {
      const logs: Array<string> = []
      return withTools((root) =>
        Effect.gen(function* () {
          yield* ok("create_story", { name: "Add login" })
          const slack = yield* makeFakePlatform
          const discord = yield* makeFakePlatform
          const connects = yield* Ref.make<ReadonlyArray<string>>([])
          const closed = yield* Ref.make<ReadonlyArray<string>>([])
          const adapter =
            (name: string, fake: typeof slack): PlatformAdapter =>
            () =>
              Effect.acquireRelease(
                Effect.as(
                  Ref.update(connects, (c) => [...c, name]),
                  fake.platform,
                ),
                () => Ref.update(closed, (c) => [...c, name]),
              )
          const never: PlatformAdapter = () => Effect.dieMessage("not enabled, never called")
          const file = join(root, ".huskies", "bot.toml")
          mkdirSync(join(root, ".huskies"), { recursive: true })
          writeFileSync(file, table("slack", true, ["alice"]))
          yield* Layer.build(
            chatLayer(root, {
              debounce: "20 millis",
              doors: {
                adapters: {
                  slack: adapter("slack", slack),
                  discord: adapter("discord", discord),
                  matrix: never,
                  whatsapp: never,
                },
                restart: "10 millis",
                retry: "20 millis",
              },
            }),
          )
          const reloads = (n: number) =>
            eventually(
              `${n} reloads of bot.toml`,
              Effect.sync(() => holds(logs.filter((l) => l.includes("bot.toml reloaded")).length >= n)),
              { millis: 10_000 },
            )

          yield* slack.say("bob", "move 1 coding")
          expect((yield* slack.nextSent()).text).toMatch(/^Sorry, you are not allowed/)

          // Bob becomes an ops person: the running door knows at once, without connecting again.
          writeFileSync(file, table("slack", true, ["alice", "bob"]))
          yield* reloads(1)
          yield* slack.say("bob", "move 1 coding")
          expect((yield* slack.nextSent()).text).toBe("Moved 1: Backlog → Coding.")
          expect(yield* Ref.get(connects)).toEqual(["slack"])

          // A bad edit: logged naming the field; the last good config (Bob an ops person) stays in force.
          writeFileSync(file, table("slack", true, ["alice"], "admin"))
          yield* eventually(
            "the bad edit in the log",
            Effect.sync(() => holds(logs.some((l) => l.includes("the last good one stays in force")))),
            { millis: 10_000 },
          )
          expect(logs.find((l) => l.includes("the last good one stays in force"))).toContain(
            "slack.room[0].role",
          )
          yield* slack.say("bob", "move 1 backlog")
          expect((yield* slack.nextSent()).text).toBe("Moved 1: Coding → Backlog.")

          // Discord enabled and Slack disabled in one save: one connects, the other disconnects.
          writeFileSync(file, table("slack", false, ["alice"]) + table("discord", true, ["alice"]))
          yield* reloads(2)
          yield* eventually(
            "discord connected and slack closed",
            Effect.map(Effect.zip(Ref.get(connects), Ref.get(closed)), ([c, x]) =>
              holds(c.includes("discord") && x.includes("slack")),
            ),
            { millis: 10_000 },
          )
          yield* discord.say("alice", "move 1 coding")
          expect((yield* discord.nextSent()).text).toBe("Moved 1: Backlog → Coding.")
          expect(yield* Ref.get(connects)).toEqual(["slack", "discord"])
        }).pipe(
          Effect.provide(
            Logger.replace(
              Logger.defaultLogger,
              Logger.make(({ message }) => {
                logs.push(Array.isArray(message) ? message.map(String).join(" ") : String(message))
              }),
            ),
          ),
        ),
      )
    },
    60_000,
  )
})
