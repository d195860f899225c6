// test/transports/chat/support.ts — for the chat adapters' memory tests: an adapter's memory kept in a real
// chat outbox in a temp dir, as serve keeps it, removed when the scope closes.
import { Context, Effect, Layer } from "effect"
import { join } from "node:path"
import { Outbox, OutboxLive } from "../../../src/layers/Outbox.js"
import { outboxMemory } from "../../../src/transports/chat/memory.js"
import { scopedTempDir } from "../../support/tempDir.js"

/** The memory of the `platform` adapter in a fresh chat outbox (a second adapter on it is a restart). */
export const outboxMemoryIn = (platform: Parameters<typeof outboxMemory>[1]) =>
  Effect.gen(function* () {
    const context = yield* Layer.build(OutboxLive(join(yield* scopedTempDir, "outbox.db")).pipe(Layer.orDie))
    return outboxMemory(Context.get(context, Outbox), platform)
  })
