// test/transports/commands/commandRpc.test.ts — the web UI's command bar end to end: the Command RPC of a
// real server, over a real WebSocket client, runs chat commands through the command layer as "ui".
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { parseStoryId, StoryId } from "../../../src/domain/StoryId.js"
import { mcpClient } from "../../support/mcpClient.js"
import { rpcTestServer, sharedServer, uiClient } from "../rpc/support.js"

const Created = Schema.Struct({ story_id: StoryId })
const Status = Schema.Struct({
  stage: Schema.Struct({ _tag: Schema.String }),
  history: Schema.Array(Schema.Struct({ event: Schema.String, by: Schema.optional(Schema.String) })),
})

describe("the Command RPC", () => {
  const server = sharedServer(rpcTestServer())

  it.scopedLive("runs a command as ui, asks before a delete, and answers a mistake with Refused", () =>
    Effect.gen(function* () {
      const { url } = server()
      const call = yield* mcpClient(url)
      const { story_id: id } = yield* call(Created, "create_story", { name: "Command bar" })
      const n = parseStoryId(id).number
      const client = yield* uiClient(url)

      expect(yield* client.Command({ text: `move ${n} archived` })).toEqual({
        message: `Moved ${n}: Backlog → Archived (abandoned).`,
      })
      const status = yield* call(Status, "status", { story_id: id })
      expect(status.stage._tag).toBe("Archived")
      expect(status.history.at(-1)).toEqual({ event: "Abandon", by: "ui" })

      const refusal = yield* Effect.flip(client.Command({ text: `mvoe ${n} backlog` }))
      expect(refusal).toMatchObject({ _tag: "Refused" })
      expect(refusal.message).toContain("Did you mean move?")

      const question = yield* client.Command({ text: `delete ${n}` })
      expect(question.message).toContain(`Type: delete ${n} confirm`)
      expect((yield* call(Status, "status", { story_id: id })).stage._tag).toBe("Archived")
      expect((yield* client.Command({ text: `delete ${n} yes` })).message).toMatch(
        new RegExp(`^Deleted ${n}: `),
      )
      expect((yield* Effect.flip(client.Command({ text: `status ${n}` }))).message).toBe(
        `No item ${n} on the board: status lists the items.`,
      )
    }),
  )
})
