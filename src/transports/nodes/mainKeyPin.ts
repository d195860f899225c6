// src/transports/nodes/mainKeyPin.ts — the main node's key as a worker trusts it
// (`.huskies/run/main-key.json`, 0600): learned when the worker joins (the join token carries the key's
// digest), then required on every connection before any document byte. Used by `huskies agent`
// (agentMode.ts) as its PeerActor's trustMain.
import { Clock, Effect, Option, Ref, Schema } from "effect"
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { keyFingerprint, mainKeyDigest } from "../../layers/NodeKeys.js"
import { ensurePrivateDir, privateFileMode, privateWrite } from "../../layers/privateFiles.js"
import { MainNodeUntrusted } from "../../protocol/nodeHandshake.js"
import type { MainNodeKey } from "../sync/PeerActor.js"

export const MainKeyPin = Schema.Struct({
  /** The main node's id (the Challenge's `server`) when the key was pinned. */
  server: Schema.String,
  /** Its Ed25519 public key, SPKI DER, base64url. */
  publicKey: Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_-]{1,2048}$/)),
  /** The rendezvous the worker dialled. */
  url: Schema.String,
  pinnedAt: Schema.Int,
})
export type MainKeyPin = typeof MainKeyPin.Type

export const mainKeyPinPath = (root: string): string => join(root, ".huskies", "run", "main-key.json")

/** The pin file exists and does not decode: the worker does not start rather than trust any main node. */
export class MainKeyPinUnreadable extends Schema.TaggedError<MainKeyPinUnreadable>()("MainKeyPinUnreadable", {
  path: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return (
      `${this.path} is unreadable (${this.detail}): it holds the key of the main node this worker trusts. ` +
      "Restore it, or move it away and start the worker with a new join token made on the main node " +
      "(`huskies token create`), which names the main node's key again"
    )
  }
}

/** The key pinned at `root`, if any. */
export const readMainKeyPin = (
  root: string,
): Effect.Effect<Option.Option<MainKeyPin>, MainKeyPinUnreadable> =>
  Effect.suspend(() => {
    const path = mainKeyPinPath(root)
    if (!existsSync(path)) return Effect.succeed(Option.none())
    return Schema.decodeUnknown(Schema.parseJson(MainKeyPin))(readFileSync(path, "utf8")).pipe(
      Effect.map(Option.some),
      Effect.mapError((e) => new MainKeyPinUnreadable({ path, detail: e.message })),
    )
  })

/** Pins a key (written aside, 0600, and renamed: a crash leaves the old pin or the new one). */
export const writeMainKeyPin = (root: string, pin: MainKeyPin) =>
  Effect.try({
    try: () => {
      const path = mainKeyPinPath(root)
      ensurePrivateDir(dirname(path))
      const aside = `${path}.tmp`
      writeFileSync(aside, JSON.stringify(pin, null, 2), privateWrite)
      chmodSync(aside, privateFileMode)
      renameSync(aside, path)
    },
    catch: (e) => (e instanceof Error ? e : new Error(String(e))),
  })

/** Which main node key a worker accepts on this start. */
export type MainKeyExpectation =
  /** The key it pinned when it joined. */
  | { readonly _tag: "Pinned"; readonly pin: MainKeyPin }
  /** The key whose digest the join token it was given names (a first join, or a re-join). */
  | { readonly _tag: "FromToken"; readonly digest: string }
  /** Admitted before main keys were pinned: the first key that signs is pinned. */
  | { readonly _tag: "FirstUse" }

const rejoinHint =
  "If the main node's key really changed, make a new join token there (`huskies token create`) and start " +
  "this worker with --token <it>: the token names the new key"

/**
 * The PeerActor's `trustMain` for a worker on `root` dialling `url`: a key the token names (or, for a
 * worker admitted before pins existed, the first one) is pinned on its first verified Welcome, and from
 * then on only the pinned key is trusted, on this start and every later one.
 */
export const pinnedMainKey = (root: string, url: string, expectation: MainKeyExpectation) =>
  Effect.map(
    Ref.make(expectation),
    (current) => (main: MainNodeKey) =>
      Effect.gen(function* () {
        const expected = yield* Ref.get(current)
        const presented = keyFingerprint(main.publicKey)
        if (expected._tag === "Pinned") {
          if (expected.pin.publicKey === main.publicKey) return
          return yield* new MainNodeUntrusted({
            reason: "key-mismatch",
            detail:
              `the main node at ${url} signs with key ${presented}, but this worker joined a main node with key ` +
              `${keyFingerprint(expected.pin.publicKey)} (kept in ${mainKeyPinPath(root)}): this is not that ` +
              `main node, or its key changed. Check --rendezvous. ${rejoinHint}`,
          })
        }
        if (expected._tag === "FromToken" && mainKeyDigest(main.publicKey) !== expected.digest)
          return yield* new MainNodeUntrusted({
            reason: "key-mismatch",
            detail:
              `the main node at ${url} signs with key ${presented}, not the key of the main node that made the ` +
              "join token: check that --rendezvous is the main node where `huskies token create` ran, and that " +
              "the token was copied whole",
          })
        const pin: MainKeyPin = {
          server: main.server,
          publicKey: main.publicKey,
          url,
          pinnedAt: yield* Clock.currentTimeMillis,
        }
        yield* Effect.matchEffect(writeMainKeyPin(root, pin), {
          // This connection's key was checked all the same; the next start checks again as this one did.
          onFailure: (e) =>
            Effect.logError(`could not pin the main node's key in ${mainKeyPinPath(root)}: ${e.message}`),
          onSuccess: () =>
            expected._tag === "FirstUse"
              ? Effect.logWarning(
                  `pinned the main node's key ${presented} on first use (this worker joined before keys were ` +
                    "pinned): from now on only this key is trusted. To pin from a token instead, start once " +
                    "with a new join token from the main node",
                )
              : Effect.logInfo(`pinned the main node's key ${presented}`),
        })
        yield* Ref.set(current, { _tag: "Pinned", pin })
      }),
  )
