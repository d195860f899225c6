// test/transports/rpc/uiRpc.test.ts — the web UI's live API against the real server: the board's snapshot
// and changes (a story filed over MCP shows up), writes through the command layer (a move, a refusal with
// MCP's message), resuming after a disconnect with no loss or duplicate, and an agent's live terminal.
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Queue, Schema, Stream } from "effect"
import { writeFileSync } from "node:fs"
import type { BoardMessage, Cursor, TerminalChunk } from "../../../src/protocol/uiRpcs.js"
import { StoryId } from "../../../src/domain/StoryId.js"
import { mcpClient } from "../../support/mcpClient.js"
import { firstText, rawMcpClient, rpcTestServer, sharedServer, uiClient } from "./support.js"

const Created = Schema.Struct({ story_id: StoryId })

type UiClient = Effect.Effect.Success<ReturnType<typeof uiClient>>

/** A Board subscription whose messages land in a queue; interrupted with the scope. */
const subscribe = (client: UiClient, resume?: Cursor) =>
  Effect.gen(function* () {
    const queue = yield* Queue.unbounded<BoardMessage>()
    const fiber = yield* client.Board({ version: 1, ...(resume === undefined ? {} : { resume }) }).pipe(
      Stream.runForEach((m) => Queue.offer(queue, m)),
      Effect.forkScoped,
    )
    const next = Queue.take(queue).pipe(Effect.timeout("5 seconds"), Effect.orDie)
    /** Messages until one satisfies `done` (that one included). */
    const until = (done: (m: BoardMessage) => boolean) =>
      Effect.gen(function* () {
        const seen: Array<BoardMessage> = []
        for (;;) {
          const m = yield* next
          seen.push(m)
          if (done(m)) return seen
        }
      })
    return { next, until, stop: Fiber.interrupt(fiber) }
  })

const cardOf = (id: string) => (m: BoardMessage) =>
  (m._tag === "CardChanged" && m.card.id === id) || (m._tag === "CardRemoved" && m.id === id)

const createStory = (url: string, name: string) =>
  Effect.scoped(
    Effect.flatMap(mcpClient(url), (call) =>
      call(Created, "create_story", { name, acceptance_criteria: ["it works"] }),
    ),
  ).pipe(Effect.map((c) => c.story_id))

describe("/rpc", () => {
  // One server for the file: the tests use their own items, so they do not disturb each other.
  const server = sharedServer(rpcTestServer())
  {
    it.scopedLive("a page of another protocol version is told to reload, with both versions", () =>
      Effect.gen(function* () {
        const client = yield* uiClient(server().url)
        const error = yield* client.Board({ version: 999 }).pipe(Stream.runDrain, Effect.flip)
        expect(error).toMatchObject({ _tag: "VersionMismatch", client: 999, server: 1 })
        expect(error.message).toContain("reload the page")
      }),
    )

    it.scopedLive("a story filed over MCP shows up on the board; a Move over RPC moves it", () =>
      Effect.gen(function* () {
        const { url } = server()
        const client = yield* uiClient(url)
        const board = yield* subscribe(client)
        const first = yield* board.next
        expect(first._tag).toBe("Snapshot")
        expect((yield* board.next)._tag).toBe("Live")

        const id = yield* createStory(url, "Shown live")
        const [changed] = (yield* board.until(cardOf(id))).slice(-1)
        expect(changed?._tag === "CardChanged" && changed.card).toMatchObject({
          id,
          name: "Shown live",
          stage: { _tag: "Backlog" },
          criteria: { done: 0, total: 1 },
        })

        const moved = yield* client.Move({ id, to: "archived" })
        expect(moved.message).toContain(id)
        const after = (yield* board.until(
          (m) => m._tag === "CardChanged" && m.card.id === id && m.card.stage._tag === "Archived",
        )).slice(-1)[0]
        expect(after?._tag).toBe("CardChanged")

        yield* client.CheckCriterion({ id, index: 0, done: true })
        const checked = (yield* board.until(
          (m) => m._tag === "CardChanged" && m.card.id === id && m.card.criteria.done === 1,
        )).at(-1)
        expect(checked?._tag === "CardChanged" && checked.card.criteria).toEqual({ done: 1, total: 1 })
      }),
    )

    it.scopedLive("a refused command answers Refused with the message MCP shows", () =>
      Effect.gen(function* () {
        const { url } = server()
        const client = yield* uiClient(url)
        const id = yield* createStory(url, "Not done yet")
        const refused = yield* Effect.flip(client.Move({ id, to: "done" }))
        expect(refused._tag).toBe("Refused")
        const mcp = yield* rawMcpClient(url)
        const answer = yield* Effect.promise(() =>
          mcp.callTool({ name: "move_story", arguments: { story_id: id, to: "done" } }),
        )
        expect(answer.isError).toBe(true)
        expect(firstText(answer)).toBe(refused.message)

        const unknown = yield* Effect.flip(client.Move({ id, to: "sideways" }))
        expect(unknown.message).toContain("backlog, coding, qa, merge, done, archived")
      }),
    )

    it.scopedLive(
      "a resumed subscription gets exactly the messages it missed; another epoch gets a Snapshot",
      () =>
        Effect.gen(function* () {
          const { url } = server()
          const client = yield* uiClient(url)
          const board = yield* subscribe(client)
          yield* board.until((m) => m._tag === "Live")
          const seenId = yield* createStory(url, "Seen before the drop")
          const seen = yield* board.until(cardOf(seenId))
          const cursor = seen.at(-1)?.cursor as Cursor
          yield* board.stop

          const missed = [yield* createStory(url, "Missed one"), yield* createStory(url, "Missed two")]
          const resumed = yield* subscribe(client, cursor)
          const replay = yield* resumed.until((m) => m._tag === "Live")
          expect(replay.some((m) => m._tag === "Snapshot")).toBe(false)
          const seqs = replay.filter((m) => m._tag !== "Live").map((m) => m.cursor.seq)
          // Contiguous from the cursor: nothing lost, nothing twice.
          expect(seqs).toEqual(seqs.map((_, i) => cursor.seq + 1 + i))
          const ids = replay.flatMap((m) => (m._tag === "CardChanged" ? [m.card.id] : []))
          expect(ids).toEqual(expect.arrayContaining(missed))
          expect(ids).not.toContain(seenId)
          const live = replay.at(-1)?.cursor
          expect(live).toEqual({ epoch: cursor.epoch, seq: seqs.at(-1) })

          // Live again: the next change follows the replay directly.
          const later = yield* createStory(url, "After the resume")
          const next = (yield* resumed.until(cardOf(later))).at(0)
          expect(next?.cursor.seq).toBe((seqs.at(-1) ?? 0) + 1)

          const stale = yield* subscribe(client, { epoch: "an-earlier-run", seq: 3 })
          const fresh = yield* stale.next
          expect(fresh._tag).toBe("Snapshot")
          expect(fresh._tag === "Snapshot" && fresh.cards.map((c) => c.id)).toEqual(
            expect.arrayContaining([...missed, later]),
          )
        }),
    )

    it.scopedLive("Terminal streams a command agent's output as it runs, then its end", () =>
      Effect.gen(function* () {
        const { url, goFile } = server()
        const client = yield* uiClient(url)
        const id = yield* createStory(url, "Talks")
        yield* client.StartAgent({ id, agent: "coder-1" })
        // Asked for as soon as the board shows the agent running: the terminal waits for its process.
        const board = yield* subscribe(client)
        yield* board.until(
          (m) =>
            m._tag === "CardChanged" &&
            m.card.id === id &&
            Object.values(m.card.execution).some((e) => e._tag === "Running"),
        )
        const chunks = yield* Queue.unbounded<TerminalChunk>()
        const terminal = yield* client.Terminal({ id }).pipe(
          Stream.runForEach((c) => Queue.offer(chunks, c)),
          Effect.forkScoped,
        )
        let text = ""
        while (!text.includes("second line")) {
          const c = yield* Queue.take(chunks).pipe(Effect.timeout("10 seconds"), Effect.orDie)
          expect(c._tag).not.toBe("Ended")
          if (c._tag !== "Ended") text += c.text
        }
        expect(text).toContain("hello from the agent")
        writeFileSync(goFile, "")
        const rest = yield* Fiber.join(terminal).pipe(
          Effect.timeout("15 seconds"),
          Effect.orDie,
          Effect.zipRight(Queue.takeAll(chunks)),
        )
        const all = Chunk.toReadonlyArray(rest)
        expect(all.map((c) => (c._tag === "Ended" ? "" : c.text)).join("")).toContain("after go")
        expect(all.at(-1)?._tag).toBe("Ended")

        // Ended, the same session is readable from its log.
        const past = yield* client
          .Terminal({ id })
          .pipe(Stream.runCollect, Effect.timeout("10 seconds"), Effect.orDie)
        const pastText = Chunk.toReadonlyArray(past)
          .map((c) => (c._tag === "Ended" ? "" : c.text))
          .join("")
        expect(pastText).toContain("hello from the agent")
        expect(pastText).toContain("after go")
        expect(Chunk.toReadonlyArray(past).at(-1)?._tag).toBe("Ended")

        // The item page lists the session with how it ended and when it began.
        const { sessions } = yield* client.Item({ id })
        expect(sessions).toEqual([
          expect.objectContaining({
            session: 1,
            agent: "coder-1",
            role: "coder",
            running: false,
            outcome: "succeeded",
          }),
        ])
        expect(sessions[0]?.startedAt).toBeGreaterThan(0)
      }),
    )
  }
})
