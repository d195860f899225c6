// test/transports/rpc/itemHistory.test.ts — the item page's history over the real server: a move asked
// over MCP and a block and unblock clicked in the UI show up in /rpc's Item with their reasons and who
// asked ("mcp:<client>", "ui").
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { StoryId } from "../../../src/domain/StoryId.js"
import { mcpClient } from "../../support/mcpClient.js"
import { rpcTestServer, sharedServer, uiClient } from "./support.js"

const Created = Schema.Struct({ story_id: StoryId })
const Moved = Schema.Struct({ story_id: Schema.String })

describe("/rpc Item history", () => {
  const server = sharedServer(rpcTestServer())

  it.scopedLive("shows each move with its reason and who asked, over MCP or in the UI", () =>
    Effect.gen(function* () {
      const { url } = server()
      const id = yield* Effect.scoped(
        Effect.gen(function* () {
          const call = yield* mcpClient(url)
          const { story_id } = yield* call(Created, "create_story", { name: "Parked for now" })
          yield* call(Moved, "move_story", { story_id, to: "archived", reason: "waiting on design" })
          return story_id
        }),
      )
      const client = yield* uiClient(url)
      yield* client.Unblock({ id })
      yield* client.Block({ id, reason: "the API key has not arrived" })

      const detail = yield* client.Item({ id })
      expect(detail.history.map(({ at: _, ...entry }) => entry)).toEqual([
        { event: "Created", to: "Backlog", by: "mcp:huskies-test" },
        {
          event: "Abandon",
          from: "Backlog",
          to: "Archived",
          reason: "waiting on design",
          by: "mcp:huskies-test",
        },
        { event: "Unblock", from: "Archived", to: "Backlog", by: "ui" },
        { event: "Block", from: "Backlog", to: "Archived", reason: "the API key has not arrived", by: "ui" },
      ])
      // Oldest first, each at the time of its move.
      const times = detail.history.map((e) => e.at)
      expect([...times].sort((a, b) => a - b)).toEqual(times)
    }),
  )
})
