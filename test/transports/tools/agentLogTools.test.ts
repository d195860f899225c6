// test/transports/tools/agentLogTools.test.ts — get_agent_log reads session logs from disk: the list of
// sessions with the latest one's tail, one chosen session, and logs of an item no longer in the Store.
import { StoryId } from "../../../src/domain/StoryId.js"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { openSessionLog } from "../../../src/layers/SessionLog.js"
import { Store } from "../../../src/layers/Store.js"
import { err, ok, withTools } from "../../support/tools.js"

/** Writes one finished session of `agent` with `lines` output entries. */
const session = (root: string, id: string, agent: string, lines: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const log = yield* openSessionLog(root, id, agent)
      for (let i = 0; i < lines; i++) yield* log.append({ type: "output", text: `${agent} line ${i}` })
    }),
  )

describe("get_agent_log", () => {
  it.effect("lists the sessions and shows the latest one's last entries", () =>
    withTools((root) =>
      Effect.gen(function* () {
        const id = String((yield* ok("create_story", { name: "Logged" }))["story_id"])
        expect(yield* ok("get_agent_log", { story_id: id })).toMatchObject({
          sessions: [],
          log: null,
          summary: `no session logs for ${id} in ${root}/.huskies/logs/${id}`,
        })
        yield* session(root, id, "coder-1", 3)
        yield* session(root, id, "coder-1", 2)
        yield* session(root, id, "qa", 300)

        const latest = yield* ok("get_agent_log", { story_id: id })
        expect(latest["sessions"]).toEqual([
          expect.objectContaining({ agent: "coder-1", session: 1 }),
          expect.objectContaining({ agent: "coder-1", session: 2 }),
          expect.objectContaining({ agent: "qa", session: 1 }),
        ])
        const log = latest["log"] as {
          agent: string
          total_entries: number
          truncated: boolean
          entries: Array<Record<string, unknown>>
        }
        expect(log).toMatchObject({ agent: "qa", session: 1, total_entries: 302, truncated: true })
        expect(log.entries).toHaveLength(200)
        expect(log.entries.at(-1)).toMatchObject({ type: "session_end" })

        const first = yield* ok("get_agent_log", { story_id: id, agent: "coder-1", session: 1, limit: 2 })
        expect(first["log"]).toMatchObject({
          agent: "coder-1",
          session: 1,
          total_entries: 5,
          truncated: true,
        })
        expect((first["log"] as { entries: Array<Record<string, unknown>> }).entries).toEqual([
          expect.objectContaining({ type: "output", text: "coder-1 line 2" }),
          expect.objectContaining({ type: "session_end" }),
        ])
        const coderOnly = yield* ok("get_agent_log", { story_id: id, agent: "coder-1" })
        expect(coderOnly["sessions"]).toHaveLength(2)
        expect(coderOnly["log"]).toMatchObject({ agent: "coder-1", session: 2 })

        expect(yield* err("get_agent_log", { story_id: id, session: 1 })).toContain("give agent too")
        expect(yield* err("get_agent_log", { story_id: id, agent: "qa", session: 7 })).toContain(
          "has no session 7 of qa",
        )
        expect(yield* err("get_agent_log", { story_id: "../etc" })).toContain("is not a work item id")
      }),
    ),
  )

  it.effect("reads the logs of an item that is no longer in the Store", () =>
    withTools((root) =>
      Effect.gen(function* () {
        const id = String((yield* ok("create_story", { name: "Gone" }))["story_id"])
        yield* session(root, id, "coder-1", 1)
        // Removed from the Store only (delete_story would take the logs with it).
        yield* (yield* Store).delete(StoryId.make(id))
        const log = yield* ok("get_agent_log", { story_id: id, session: 1 })
        expect(log["log"]).toMatchObject({ agent: "coder-1", total_entries: 3, truncated: false })
      }),
    ),
  )
})
