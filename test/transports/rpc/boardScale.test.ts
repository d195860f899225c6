// test/transports/rpc/boardScale.test.ts — a 10,000-item project over /rpc: the board's Snapshot carries
// every open card and only the newest page of Archived, arrives well within the UI's 2 s, and Page walks
// the rest of Archived newest first without a gap or a repeat.
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Option, Stream } from "effect"
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { seedBoard } from "../../../bench/boardProject.js"
import { rpcTestServer, sharedServer, uiClient } from "./support.js"

const size = { backlog: 7_000, archived: 3_000 }

const seed = (root: string) =>
  Effect.promise(() => {
    mkdirSync(join(root, ".huskies"), { recursive: true })
    return seedBoard(join(root, ".huskies", "huskies.db"), size)
  })

describe("/rpc with 10,000 items", () => {
  const server = sharedServer(rpcTestServer({ seed }))

  it.scopedLive(
    "the Snapshot has the open cards and the newest Archived page, fast; Page walks the rest",
    () =>
      Effect.gen(function* () {
        const client = yield* uiClient(server().url)
        const started = yield* Clock.currentTimeMillis
        const first = yield* client.Board({ version: 1 }).pipe(Stream.runHead)
        const tookMs = (yield* Clock.currentTimeMillis) - started
        const snapshot = Option.getOrThrow(first)
        if (snapshot._tag !== "Snapshot") return expect.fail(`expected a Snapshot, got ${snapshot._tag}`)
        expect(snapshot.cards.filter((c) => c.stage._tag === "Backlog")).toHaveLength(size.backlog)
        const archived = snapshot.cards.filter((c) => c.stage._tag === "Archived")
        expect(archived).toHaveLength(50)
        expect(snapshot.totals).toEqual({ Done: 0, Archived: size.archived })
        expect(snapshot.cards[0]?.criteria).toEqual({ done: 1, total: 2 })
        // Measured at about 0.3 s on two shared cores; the bound is the UI's whole first-paint budget.
        expect(tookMs).toBeLessThan(2_000)

        const seen = new Set(archived.map((c) => c.id))
        let before = archived.at(-1)?.updatedAt
        let last = archived.at(-1)
        for (;;) {
          const page = yield* client.Page({ stage: "Archived", before, beforeId: last?.id, limit: 500 })
          if (page.length === 0) break
          for (const card of page) {
            expect(seen.has(card.id)).toBe(false)
            expect(card.updatedAt).toBeLessThanOrEqual(last?.updatedAt ?? Infinity)
            seen.add(card.id)
            last = card
          }
          before = page.at(-1)?.updatedAt
        }
        expect(seen.size).toBe(size.archived)
      }),
    60_000,
  )
})
