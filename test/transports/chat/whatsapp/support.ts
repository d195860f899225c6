// test/transports/chat/whatsapp/support.ts — the fake Graph API for a test's scope and the WhatsApp adapter
// on it, with the credentials both share; used by the WhatsApp adapter, door and memory tests.
import { Effect, Redacted } from "effect"
import type { AdapterMemory } from "../../../../src/transports/chat/memory.js"
import { makeWhatsAppPlatform } from "../../../../src/transports/chat/whatsapp/WhatsAppPlatform.js"
import { type FakeGraphApi, startFakeGraphApi } from "../../../fakes/whatsapp/graph.js"

export const phoneNumberId = "1099887766"
export const token = "EAAG-secret-token"
export const appSecret = "app-secret-123"
export const alice = "15551234567"

/** The fake Graph API for phoneNumberId and token, closed when the scope closes. */
export const fakeGraphApi = Effect.acquireRelease(
  Effect.promise(() => startFakeGraphApi(phoneNumberId, token)),
  (g) => Effect.promise(() => g.close()),
)

/** The adapter on `graph`, its webhook receiver on an ephemeral port of 127.0.0.1. */
export const connectWhatsApp = (
  graph: FakeGraphApi,
  memory?: AdapterMemory,
  allowedHosts?: ReadonlyArray<string>,
) =>
  makeWhatsAppPlatform(
    {
      token: Redacted.make(token),
      appSecret: Redacted.make(appSecret),
      verifyToken: Redacted.make("verify-me"),
      phoneNumberId,
      graphUrl: graph.url,
      webhook: { host: "127.0.0.1", port: 0, ...(allowedHosts === undefined ? {} : { allowedHosts }) },
      template: { name: "huskies_update", language: "en" },
    },
    memory,
  )
