// src/transports/chat/memory.ts — what an adapter remembers across restarts (Matrix's reactions that stand
// for a prompt's buttons, WhatsApp's 24-hour windows and sent ids): kept in the chat outbox
// (.huskies/outbox.db) when serve runs the door, in this process's memory when no outbox is given.
import { Effect, Ref } from "effect"
import type { OutboxShape } from "../../layers/Outbox.js"
import { keepMemories } from "../../layers/Outbox.js"
import type { PlatformName } from "./platform.js"
import { remember } from "./remember.js"

/** A small key-value memory per kind ("prompt", "window"...), bounded to the newest entries per kind. */
export interface AdapterMemory {
  readonly recall: (kind: string, key: string) => Effect.Effect<string | undefined>
  /** Undefined forgets the key. */
  readonly memorise: (kind: string, key: string, value: string | undefined) => Effect.Effect<void>
}

/** Forgotten when the process ends: for adapters run without an outbox (unit tests, one-off tools). */
export const inProcessMemory = (): Effect.Effect<AdapterMemory> =>
  Effect.map(Ref.make(new Map<string, ReadonlyMap<string, string>>()), (kinds) => ({
    recall: (kind, key) => Effect.map(Ref.get(kinds), (m) => m.get(kind)?.get(key)),
    memorise: (kind, key, value) =>
      Ref.update(kinds, (m) => {
        const before = m.get(kind) ?? new Map<string, string>()
        const after = new Map(before)
        if (value === undefined) after.delete(key)
        return new Map(m).set(kind, value === undefined ? after : remember(before, key, value, keepMemories))
      }),
  }))

/**
 * The platform's memory in the outbox. A read or write the disk refuses is logged and treated as
 * forgotten: the adapter then behaves as after a restart without the outbox (a reaction on an old prompt
 * gets the polite "unknown prompt" answer, a window is taken as closed and a template is sent), which is
 * the safe side; the pipeline is never touched.
 */
export const outboxMemory = (outbox: OutboxShape, platform: PlatformName): AdapterMemory => ({
  recall: (kind, key) =>
    outbox
      .recall(platform, kind, key)
      .pipe(
        Effect.catchAll((e) =>
          Effect.as(Effect.logWarning(`${platform}: memory not read: ${e.message}`), undefined),
        ),
      ),
  memorise: (kind, key, value) =>
    outbox
      .memorise(platform, kind, key, value)
      .pipe(Effect.catchAll((e) => Effect.logWarning(`${platform}: memory not kept: ${e.message}`))),
})
