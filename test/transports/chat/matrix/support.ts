// test/transports/chat/matrix/support.ts — the local fake homeserver with the ops room for a test's scope,
// and the Matrix adapter connected to it; used by the Matrix adapter, door and memory tests.
import { Effect, Redacted } from "effect"
import { makeMatrixPlatform } from "../../../../src/transports/chat/matrix/MatrixPlatform.js"
import type { AdapterMemory } from "../../../../src/transports/chat/memory.js"
import { type FakeHomeserver, startFakeHomeserver } from "../../../fakes/matrix/homeserver.js"

export const bot = "@huskies:fake.test"
export const alice = "@alice:fake.test"
export const bob = "@bob:fake.test"
export const ops = "!ops:fake.test"

/** The fake homeserver, its ops room holding Alice, `others` and the bot; closed when the scope closes. */
export const opsHomeserver = (
  ...others: ReadonlyArray<{ readonly userId: string; readonly displayName: string }>
) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const hs = await startFakeHomeserver(bot)
      hs.createRoom(ops, [
        { userId: alice, displayName: "Alice" },
        ...others,
        { userId: bot, displayName: "huskies" },
      ])
      return hs
    }),
    (hs) => Effect.promise(() => hs.close()),
  )

/** The adapter on `hs` as the bot, once live: its first sync answered and processed, a second under way. */
export const connectMatrix = (hs: FakeHomeserver, memory?: AdapterMemory) =>
  Effect.gen(function* () {
    const syncs = hs.syncs()
    const platform = yield* makeMatrixPlatform(
      { homeserver: hs.url, userId: bot, accessToken: Redacted.make("syt_secret") },
      memory,
    )
    yield* Effect.promise(() => hs.waitForSyncs(syncs + 2))
    return platform
  })
