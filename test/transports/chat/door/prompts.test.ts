// test/transports/chat/door/prompts.test.ts — a permission prompt is recorded in the outbox before it is
// sent: a button pressed while the platform has not yet answered the send still decides, and the prompt
// is then edited to say so; a press that belongs to no prompt gets a polite answer, not silence.
import { describe, expect, it } from "@effect/vitest"
import { Context, Deferred, Effect, Fiber, Layer } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Decisions } from "../../../../src/actors/Decisions.js"
import { Outbox, OutboxLive } from "../../../../src/layers/Outbox.js"
import { ok, withTools } from "../../../support/tools.js"
import { makeFakePlatform, opsRoom, slackConfig, startDoor } from "./fakePlatform.js"

const outboxFile = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "huskies-outbox-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true })),
).pipe(Effect.map((dir) => join(dir, "outbox.db")))

describe("chat door prompts", () => {
  it.live(
    "a press that arrives before the platform has answered the prompt's send decides, and edits it",
    () =>
      withTools(() =>
        Effect.gen(function* () {
          const fake = yield* makeFakePlatform
          const sending = yield* Deferred.make<string>()
          const gate = yield* Deferred.make<void>()
          // The platform has the prompt (a person sees it and presses) but its answer to the send is slow.
          const slow = {
            ...fake,
            platform: {
              ...fake.platform,
              send: (message: Parameters<typeof fake.platform.send>[0]) =>
                message.buttons === undefined
                  ? fake.platform.send(message)
                  : Deferred.succeed(sending, message.buttons[0]?.action ?? "").pipe(
                      Effect.zipRight(Deferred.await(gate)),
                      Effect.zipRight(fake.platform.send(message)),
                    ),
            },
          }
          const path = yield* outboxFile
          yield* startDoor(slow, slackConfig(), path)
          const asking = yield* Effect.fork(
            (yield* Decisions).ask(
              { _tag: "Permission", toolName: "Bash", input: { command: "npm publish" } },
              "1 minute",
            ),
          )
          const approve = yield* Deferred.await(sending)
          const id = /^decision:(dec-[A-Za-z0-9-]+):allow$/.exec(approve)?.[1] ?? ""
          // Recorded on disk before the send returned: another reader of the outbox sees it already.
          const outbox = Context.get(yield* Layer.build(OutboxLive(path).pipe(Layer.orDie)), Outbox)
          expect(yield* outbox.prompt("slack", id)).toEqual({ room: opsRoom, messageId: undefined })

          yield* fake.press("alice", approve, "not-known-yet")
          expect((yield* Fiber.join(asking)).answer).toMatchObject({ verdict: "allow", by: "slack:alice" })
          yield* Deferred.succeed(gate, undefined)
          const prompt = yield* fake.nextSent()
          expect(prompt.text).toContain("npm publish")
          // The answer's edit waited for the send, so it finds the message.
          const updated = yield* fake.nextUpdate()
          expect(updated.messageId).toBe(prompt.messageId)
          expect(updated.text).toContain("allow by slack:alice")
          expect(yield* outbox.prompt("slack", id)).toEqual({ room: opsRoom, messageId: prompt.messageId })
        }),
      ),
  )

  it.live("a press for no known prompt is answered politely; a stranger's is refused; nothing changes", () =>
    withTools(() =>
      Effect.gen(function* () {
        yield* ok("create_story", { name: "Add login" })
        const fake = yield* makeFakePlatform
        yield* startDoor(fake, slackConfig(), yield* outboxFile)
        yield* fake.press("alice", "unknown-prompt", "$old-event")
        expect((yield* fake.nextSent()).text).toMatch(/^Sorry, that answers no prompt open here/)
        yield* fake.press("mallory", "unknown-prompt", "$old-event")
        expect((yield* fake.nextSent()).text).toMatch(/^Sorry, you are not allowed to do that here/)
        yield* fake.press("alice", "decision:dec-00000000-0000-0000-0000-000000000000:allow", "m1")
        expect((yield* fake.nextSent()).text).toMatch(/^no decision dec-0+-0000-0000-0000-0+: list_decisions/)
        expect(yield* (yield* Decisions).pending).toEqual([])
      }),
    ),
  )
})
