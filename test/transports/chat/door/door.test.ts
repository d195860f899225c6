// test/transports/chat/door/door.test.ts — the chat door on a real Store, Pipeline and Decisions, with a
// platform faked at the chat contract (queues): commands by role, notifications through the durable
// outbox (retried, de-duplicated, coalesced, surviving a restart), and prompts answered with buttons.
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Decisions } from "../../../../src/actors/Decisions.js"
import { StoryId } from "../../../../src/domain/StoryId.js"
import { Store } from "../../../../src/layers/Store.js"
import { executeCommand } from "../../../../src/transports/commands/runCommand.js"
import { ok, withTools } from "../../../support/tools.js"
import { eventually, holds } from "../../../support/waits.js"
import { itemWithWork, withGitProject } from "../../tools/gitProject.js"
import { makeFakePlatform, opsRoom, readRoom, slackConfig, startDoor } from "./fakePlatform.js"

const outboxFile = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "huskies-outbox-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true })),
).pipe(Effect.map((dir) => join(dir, "outbox.db")))

const file = (name: string) =>
  Effect.map(ok("create_story", { name }), (c) => StoryId.make(c["story_id"] as string))
const stageOf = (id: StoryId) =>
  Effect.map(
    Effect.flatMap(Store, (s) => s.get(id)),
    (i) => i.stage._tag,
  )

describe("chat door", () => {
  it.live("an ops user's command moves the item and the reply comes back in the same thread", () =>
    withTools(() =>
      Effect.gen(function* () {
        const id = yield* file("Add login")
        const fake = yield* makeFakePlatform
        yield* startDoor(fake, slackConfig(), yield* outboxFile)
        const place = { room: opsRoom, thread: "t1" }
        yield* fake.say("alice", "move 1 coding", place)
        const reply = yield* fake.nextSent()
        expect(reply.text).toBe("Moved 1: Backlog → Coding.")
        expect(reply.place).toEqual(place)
        expect(yield* stageOf(id)).toBe("Coding")
        const history = yield* Effect.flatMap(Store, (s) => s.history(id))
        expect(JSON.stringify(history)).toContain("slack:alice")
      }),
    ),
  )

  it.live("an unknown user, an unknown room and a read-only user are refused politely; nothing changes", () =>
    withTools(() =>
      Effect.gen(function* () {
        const id = yield* file("Add login")
        const fake = yield* makeFakePlatform
        yield* startDoor(fake, slackConfig(), yield* outboxFile)
        yield* fake.say("mallory", "move 1 coding")
        expect((yield* fake.nextSent()).text).toMatch(/^Sorry, you are not allowed to do that here/)
        yield* fake.say("alice", "move 1 coding", { room: "C-elsewhere" })
        expect((yield* fake.nextSent()).text).toMatch(/^Sorry, you are not allowed to do that here/)
        yield* fake.say("bob", "move 1 coding")
        expect((yield* fake.nextSent()).text).toMatch(/^Sorry, `move` needs the ops role/)
        // An ops person in a read-only room has read-only rights there.
        yield* fake.say("alice", "move 1 coding", { room: readRoom })
        expect((yield* fake.nextSent()).text).toMatch(/needs the ops role/)
        expect(yield* stageOf(id)).toBe("Backlog")
        yield* fake.say("bob", "show 1")
        expect((yield* fake.nextSent()).text).toContain("Add login")
        // Talk that is no command is left alone.
        yield* fake.say("bob", "good morning everyone")
        yield* fake.say("alice", "delete 1")
        const confirm = yield* fake.nextSent()
        expect(confirm.text).toContain("delete 1 confirm")
        expect(yield* stageOf(id)).toBe("Backlog")
      }),
    ),
  )

  it.live("a notification arrives exactly once though the first send fails, threaded per item", () =>
    withTools(() =>
      Effect.gen(function* () {
        yield* file("Add login")
        const fake = yield* makeFakePlatform
        yield* startDoor(fake, slackConfig(), yield* outboxFile)
        // The door answers, so it follows the pipeline's changes from here on.
        yield* fake.say("bob", "help")
        yield* fake.nextSent()
        yield* fake.down(1)
        yield* executeCommand("move 1 coding", "ui:tester")
        const first = yield* fake.nextSent()
        expect(first.text).toMatch(/: Backlog → Coding$/)
        expect(first.place).toEqual({ room: opsRoom })
        expect(yield* fake.attempts).toBe(3)
        yield* executeCommand("move 1 backlog", "ui:tester")
        const second = yield* fake.nextSent()
        expect(second.text).toMatch(/: Coding → Backlog$/)
        expect(second.place).toEqual({ room: opsRoom, thread: first.messageId })
        expect(yield* fake.drain(Duration.millis(300))).toEqual([])
      }),
    ),
  )

  it.live("notifications kept while the platform is down are delivered after a restart, once", () =>
    withTools(() =>
      Effect.gen(function* () {
        yield* file("Add login")
        const path = yield* outboxFile
        const before = yield* makeFakePlatform
        const door = yield* startDoor(before, slackConfig(), path)
        yield* before.say("bob", "help")
        yield* before.nextSent()
        const answered = yield* before.attempts
        yield* before.down(Infinity)
        yield* executeCommand("move 1 coding", "ui:tester")
        // Attempted and refused at least once: the notice is in the outbox, not delivered.
        yield* eventually(
          "a refused delivery",
          Effect.map(before.attempts, (n) => holds(n >= answered + 2)),
          { millis: 10_000 },
        )
        yield* Fiber.interrupt(door)
        const after = yield* makeFakePlatform
        yield* startDoor(after, slackConfig(), path)
        const delivered = yield* after.nextSent()
        expect(delivered.text).toMatch(/: Backlog → Coding$/)
        expect(yield* after.drain(Duration.millis(300))).toEqual([])
      }),
    ),
  )

  it.live("1,000 moves during an outage arrive as one summary, not 1,000 messages", () =>
    withTools(() =>
      Effect.gen(function* () {
        yield* file("Add login")
        const fake = yield* makeFakePlatform
        yield* startDoor(fake, slackConfig(), yield* outboxFile)
        yield* fake.say("bob", "help")
        yield* fake.nextSent()
        yield* fake.down(Infinity)
        for (let i = 0; i < 500; i++) {
          yield* executeCommand("move 1 coding", "ui:tester")
          yield* executeCommand("move 1 backlog", "ui:tester")
        }
        yield* fake.up
        const sent = yield* fake.drain(Duration.seconds(1))
        expect(sent.length).toBeGreaterThan(0)
        expect(sent.length).toBeLessThanOrEqual(5)
        const counted = sent
          .map((m) => /^(\d+) updates since the last message/.exec(m.text)?.[1])
          .reduce((sum, n) => sum + Number(n ?? 1), 0)
        expect(counted).toBe(1000)
      }),
    ),
  )

  it.live("a permission prompt goes to the ops room; a button answers it; a second press is told", () =>
    withTools(() =>
      Effect.gen(function* () {
        const fake = yield* makeFakePlatform
        yield* startDoor(fake, slackConfig(), yield* outboxFile)
        yield* fake.say("bob", "help")
        yield* fake.nextSent()
        const decisions = yield* Decisions
        const asking = yield* Effect.fork(
          decisions.ask(
            { _tag: "Permission", toolName: "Bash", input: { command: "rm -rf build" } },
            "1 minute",
          ),
        )
        const prompt = yield* fake.nextSent()
        expect(prompt.place).toEqual({ room: opsRoom })
        expect(prompt.text).toContain("rm -rf build")
        const [approve] = prompt.buttons ?? []
        expect(approve?.label).toBe("Approve")
        // A read-only person's press changes nothing.
        yield* fake.press("bob", approve?.action ?? "", prompt.messageId)
        expect((yield* fake.nextSent()).text).toMatch(/^Sorry/)
        yield* fake.press("alice", approve?.action ?? "", prompt.messageId)
        const decided = yield* Fiber.join(asking)
        expect(decided.answer).toMatchObject({ verdict: "allow", by: "slack:alice" })
        const updated = yield* fake.nextUpdate()
        expect(updated.messageId).toBe(prompt.messageId)
        expect(updated.text).toContain("allow by slack:alice")
        yield* fake.press("alice", (prompt.buttons ?? [])[1]?.action ?? "", prompt.messageId)
        expect((yield* fake.nextSent()).text).toBe("Already answered by slack:alice (allow).")
        // A read-only tool's request is never posted.
        yield* Effect.fork(
          decisions.ask({ _tag: "Permission", toolName: "Read", input: { file_path: "a" } }, "1 minute"),
        )
        expect(yield* fake.drain(Duration.millis(300))).toEqual([])
      }),
    ),
  )

  it.live("a timeout's answer updates the prompt too", () =>
    withTools(() =>
      Effect.gen(function* () {
        const fake = yield* makeFakePlatform
        yield* startDoor(fake, slackConfig(), yield* outboxFile)
        yield* fake.say("bob", "help")
        yield* fake.nextSent()
        const decided = yield* Effect.fork(
          (yield* Decisions).ask(
            { _tag: "Permission", toolName: "Bash", input: { command: "make" } },
            "300 millis",
          ),
        )
        const prompt = yield* fake.nextSent()
        expect((yield* Fiber.join(decided)).answer?.by).toBe("timeout")
        const updated = yield* fake.nextUpdate()
        expect(updated.messageId).toBe(prompt.messageId)
        expect(updated.text).toContain("deny by timeout")
      }),
    ),
  )

  it.live("a human QA is posted with Approve/Reject; Reject sends the item back to Coding", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        const fake = yield* makeFakePlatform
        yield* startDoor(fake, slackConfig(), yield* outboxFile)
        yield* fake.say("bob", "help")
        yield* fake.nextSent()
        const id = yield* itemWithWork(repo, "Add login", "login.txt", "human")
        const prompts = yield* eventually(
          "the QA prompt",
          Effect.map(fake.drain(Duration.millis(100)), (sent) => {
            const prompt = sent.find((m) => m.buttons !== undefined)
            return prompt === undefined ? undefined : prompt
          }),
          { millis: 10_000 },
        )
        expect(prompts.text).toBe(`${id} waits for a person's QA.`)
        expect(prompts.buttons?.map((b) => b.label)).toEqual(["Approve", "Reject"])
        yield* fake.press("alice", prompts.buttons?.[1]?.action ?? "", prompts.messageId)
        expect((yield* fake.nextUpdate()).text).toContain("reject by slack:alice")
        yield* eventually(
          "the item back in Coding",
          Effect.map(stageOf(id), (stage) => holds(stage === "Coding")),
          { millis: 10_000 },
        )
      }),
    ),
  )

  it.live("a decision opened while the door was not running is posted when it starts, once", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        const id = yield* itemWithWork(repo, "Add login", "login.txt", "human")
        const fake = yield* makeFakePlatform
        const path = yield* outboxFile
        const door = yield* startDoor(fake, slackConfig(), path)
        const prompt = yield* fake.nextSent()
        expect(prompt.text).toBe(`${id} waits for a person's QA.`)
        yield* Fiber.interrupt(door)
        yield* startDoor(fake, slackConfig(), path)
        expect(yield* fake.drain(Duration.millis(300))).toEqual([])
      }),
    ),
  )
})
