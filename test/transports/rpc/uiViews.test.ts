// test/transports/rpc/uiViews.test.ts — the rest of /rpc against the real server: a permission request
// shows up as DecisionChanged and an Answer from the UI lets the asking call go on; edits are
// compare-and-set; Create links dependencies by number; Delete removes the card; and the views (Item,
// Agents, Cost, Settings, Logs) answer from the project as it is.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Queue, Stream } from "effect"
import type { BoardMessage } from "../../../src/protocol/uiRpcs.js"
import { firstText, rawMcpClient, rpcTestServer, sharedServer, uiClient } from "./support.js"

const askRules = '[permissions]\nask = ["Bash(npm publish*)"]\nask_timeout_secs = 60\n'

/** The board's messages, in a queue, from a subscription that lives as long as the scope. */
const boardQueue = (client: Effect.Effect.Success<ReturnType<typeof uiClient>>) =>
  Effect.gen(function* () {
    const queue = yield* Queue.unbounded<BoardMessage>()
    yield* client.Board({ version: 1 }).pipe(
      Stream.runForEach((m) => Queue.offer(queue, m)),
      Effect.forkScoped,
    )
    return (done: (m: BoardMessage) => boolean) =>
      Effect.gen(function* () {
        for (;;) {
          const m = yield* Queue.take(queue).pipe(Effect.timeout("5 seconds"), Effect.orDie)
          if (done(m)) return m
        }
      })
  })

describe("/rpc decisions, edits and views", () => {
  const server = sharedServer(rpcTestServer({ projectToml: askRules }))

  it.scopedLive("a permission request appears on the board and the UI's Answer lets the call go on", () =>
    Effect.gen(function* () {
      const { url } = server()
      const client = yield* uiClient(url)
      const next = yield* boardQueue(client)
      yield* next((m) => m._tag === "Live")
      // prompt_permission answers in one JSON text block (as Claude Code's hook wants), not structured.
      const mcp = yield* rawMcpClient(url)
      const asking = yield* Effect.promise(() =>
        mcp.callTool({
          name: "prompt_permission",
          arguments: { tool_name: "Bash", input: { command: "npm publish" } },
        }),
      ).pipe(
        Effect.map(
          (r) =>
            JSON.parse(firstText(r)) as {
              behavior: string
            },
        ),
        Effect.fork,
      )
      const opened = yield* next((m) => m._tag === "DecisionChanged")
      if (opened._tag !== "DecisionChanged") return expect.fail("no decision")
      expect(opened.decision).toMatchObject({ _tag: "Permission", toolName: "Bash" })
      expect(opened.decision.answer).toBeUndefined()

      const wrongKind = yield* Effect.flip(client.Answer({ id: opened.decision.id, verdict: "approve" }))
      expect(wrongKind.message).toContain(opened.decision.id)
      yield* client.Answer({ id: opened.decision.id, verdict: "allow" })
      expect((yield* Fiber.join(asking)).behavior).toBe("allow")
      const answered = yield* next(
        (m) => m._tag === "DecisionChanged" && m.decision.id === opened.decision.id,
      )
      expect(answered._tag === "DecisionChanged" && answered.decision.answer).toMatchObject({
        verdict: "allow",
        by: "ui",
      })
      const again = yield* Effect.flip(client.Answer({ id: opened.decision.id, verdict: "deny" }))
      expect(again._tag).toBe("Refused")
    }),
  )

  it.scopedLive("Create links dependencies by number; Edit is compare-and-set; Delete removes the card", () =>
    Effect.gen(function* () {
      const { url } = server()
      const client = yield* uiClient(url)
      const next = yield* boardQueue(client)
      const base = yield* client.Create({ kind: "story", name: "Base", criteria: [], dependsOn: [] })
      const number = Number(base.id.split("_")[0])
      const missing = yield* Effect.flip(
        client.Create({ kind: "bug", name: "Orphan", criteria: [], dependsOn: [number + 1000] }),
      )
      expect(missing.message).toContain(String(number + 1000))
      const dependent = yield* client.Create({
        kind: "bug",
        name: "Needs the base",
        criteria: ["fixed"],
        dependsOn: [number],
        description: "after the base",
      })
      const card = yield* next((m) => m._tag === "CardChanged" && m.card.id === dependent.id)
      expect(card._tag === "CardChanged" && card.card).toMatchObject({
        kind: "bug",
        dependsOn: [{ id: base.id, met: false }],
        criteria: { done: 0, total: 1 },
      })

      const detail = yield* client.Item({ id: dependent.id })
      expect(detail.content).toContain("after the base")
      const edited = detail.content.replace("Needs the base", "Needs the base first")
      yield* client.Edit({ id: dependent.id, content: edited, expected: detail.content })
      const renamed = yield* next(
        (m) =>
          m._tag === "CardChanged" && m.card.id === dependent.id && m.card.name === "Needs the base first",
      )
      expect(renamed._tag).toBe("CardChanged")
      // The same edit again expects the content that is no longer there.
      const stale = yield* Effect.flip(
        client.Edit({ id: dependent.id, content: edited, expected: detail.content }),
      )
      expect(stale.message).toContain("changed by someone else")
      const broken = yield* Effect.flip(client.Edit({ id: dependent.id, content: "---\nname: [\n---\n" }))
      expect(broken.message).toContain("does not parse")

      yield* client.Delete({ id: base.id })
      yield* next((m) => m._tag === "CardRemoved" && m.id === base.id)
      // The dependent's card says its dependency is gone, without anyone touching it.
      const unmet = yield* next((m) => m._tag === "CardChanged" && m.card.id === dependent.id)
      expect(unmet._tag === "CardChanged" && unmet.card.dependsOn).toEqual([{ id: base.id, met: false }])
      const gone = yield* Effect.flip(client.Item({ id: base.id }))
      expect(gone.message).toContain(base.id)
    }),
  )

  it.scopedLive("Item, Agents, Cost, Settings and Logs answer from the project", () =>
    Effect.gen(function* () {
      const { url } = server()
      const client = yield* uiClient(url)
      const { id } = yield* client.Create({
        kind: "spike",
        name: "Look around",
        criteria: ["a"],
        dependsOn: [],
      })
      const detail = yield* client.Item({ id })
      expect(detail).toMatchObject({ item: { id, kind: "spike" }, card: { id, name: "Look around" } })
      expect(detail.sessions).toEqual([])
      expect(detail.gates).toEqual([])

      const agents = yield* client.Agents()
      expect(agents).toEqual([
        expect.objectContaining({ name: "coder-1", role: "coder", runtime: "command", status: "idle" }),
      ])
      const cost = yield* client.Cost({ group: "item" })
      expect(cost).toEqual({ group: "item", rows: [], totalUsd: 0 })
      const settings = yield* client.Settings()
      expect(settings.projectToml).toBe(askRules)
      expect(settings.agentsToml).toContain('name = "coder-1"')
      expect(settings.problem).toBeUndefined()

      const badLevel = yield* Effect.flip(client.Logs({ level: "Loud" }).pipe(Stream.runDrain))
      expect(badLevel._tag === "Refused" && badLevel.message).toContain("Warning")
      const lines = yield* Queue.unbounded<string>()
      yield* client.Logs({ text: id }).pipe(
        Stream.runForEach((l) => Queue.offer(lines, l.message)),
        Effect.forkScoped,
      )
      // A line logged after the subscription reaches it: the server logs each move it makes.
      yield* client.Move({ id, to: "archived" })
      const seen: Array<string> = []
      while (!seen.some((l) => l.includes(`${id}: Backlog -> Archived`)))
        seen.push(yield* Queue.take(lines).pipe(Effect.timeout("5 seconds"), Effect.orDie))
    }),
  )
})
