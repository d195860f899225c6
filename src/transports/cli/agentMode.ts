// src/transports/cli/agentMode.ts — `huskies agent --rendezvous URL [--token T] [path]`: a headless worker
// node on a clone of the project. Its own replica (.huskies/huskies.db), its own key, the main node's key
// pinned when it joined, a sync peer and the node RPC client to the main node, and a scheduler that claims
// and runs only [nodes] worker_stages.
import { Console, Deferred, Effect, Layer, Option, Schema } from "effect"
import { PipelineView } from "../../actors/PipelineView.js"
import { buildInfo } from "../../layers/BuildInfo.js"
import { Git } from "../../layers/Git.js"
import { HuskiesConfig, HuskiesConfigLive } from "../../layers/HuskiesConfig.js"
import { joinTokenParts, mainKeyDigest, makeNodeIdentity, nodeKeyPath } from "../../layers/NodeKeys.js"
import { Replica, ReplicaLive } from "../../layers/Replica.js"
import { type AdmissionRefused, type MainNodeUntrusted, NodeIdentity } from "../../protocol/nodeHandshake.js"
import {
  type MainKeyExpectation,
  type MainKeyPin,
  pinnedMainKey,
  readMainKeyPin,
} from "../nodes/mainKeyPin.js"
import { NodeClientLive } from "../nodes/nodeClient.js"
import { readAdmission, writeAdmission } from "../nodes/workerAdmission.js"
import { workerCredential } from "../nodes/workerTicket.js"
import { PeerActor, PeerActorLive, type PeerActorShape } from "../sync/PeerActor.js"
import { checkProject, runServer, serverLayer, type ServeSettings, type WorkerEnv } from "./serve.js"

export interface AgentModeArgs {
  readonly path: string
  /** The main node: ws://host:port (http:// works too). */
  readonly rendezvous: string
  readonly token: Option.Option<string>
  readonly label: Option.Option<string>
}

/** The worker cannot start: what is wrong and what to do. */
export class WorkerSetupError extends Schema.TaggedError<WorkerSetupError>()("WorkerSetupError", {
  detail: Schema.String,
}) {
  override get message(): string {
    return this.detail
  }
}

/** The main node refused this worker (a retry cannot help): the reason and what to do. */
export class WorkerRefused extends Schema.TaggedError<WorkerRefused>()("WorkerRefused", {
  reason: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `the main node refused this worker (${this.reason}): ${this.detail}`
  }
}

/** This worker does not trust what answered at the rendezvous as its main node: why, and what to do. */
export class MainNodeRefused extends Schema.TaggedError<MainNodeRefused>()("MainNodeRefused", {
  reason: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `this worker refused the main node (${this.reason}): ${this.detail}`
  }
}

/** The rendezvous as a URL, or why it is not one. */
export const rendezvousUrl = (text: string): URL | WorkerSetupError => {
  const withScheme = /^[a-z]+:\/\//i.test(text) ? text : `ws://${text}`
  try {
    const url = new URL(withScheme)
    if (!["ws:", "wss:", "http:", "https:"].includes(url.protocol))
      return new WorkerSetupError({ detail: `--rendezvous ${text}: expected ws://host:port (or wss://)` })
    return url
  } catch {
    return new WorkerSetupError({
      detail: `--rendezvous ${text}: expected ws://host:port, such as ws://main:3001`,
    })
  }
}

/** The path must be a git clone of the project with the remote workers push to. */
const checkClone = (root: string, remote: string) =>
  Effect.gen(function* () {
    const git = yield* Git
    if (!(yield* git.isRepo(root)))
      return yield* new WorkerSetupError({
        detail: `${root} is not a git repository: clone the project there (git clone <url> ${root})`,
      })
    const has = yield* git.hasRemote(root, remote).pipe(Effect.orElseSucceed(() => false))
    if (!has)
      return yield* new WorkerSetupError({
        detail: `${root} has no git remote "${remote}" to push feature branches to: clone the project from its shared remote, or set [nodes] remote in .huskies/project.toml`,
      })
  })

/** The worker's sync peer (with its key), handing its actor to `attach` once it runs. */
const syncLayer = (
  root: string,
  url: URL,
  joinToken: string | undefined,
  mainKey: MainKeyExpectation,
  label: string | undefined,
  ready: Deferred.Deferred<PeerActorShape>,
) => {
  const identity = Layer.unwrapEffect(
    Effect.map(Replica, (replica) =>
      Layer.effect(NodeIdentity, makeNodeIdentity(nodeKeyPath(root), replica.nodeId).pipe(Effect.orDie)),
    ),
  )
  const peer = Layer.unwrapEffect(
    Effect.map(pinnedMainKey(root, url.toString(), mainKey), (trustMain) =>
      PeerActorLive({
        rendezvous: url.toString(),
        trustMain,
        ...(joinToken === undefined ? {} : { joinToken }),
        ...(label === undefined ? {} : { label }),
        version: buildInfo().version,
      }),
    ),
  ).pipe(Layer.provide(identity))
  return Layer.scopedDiscard(Effect.flatMap(PeerActor, (actor) => Deferred.succeed(ready, actor))).pipe(
    Layer.provide(peer),
    Layer.provide(ReplicaLive),
  )
}

/** The worker's other links to the main node: the node RPC client; remembering the admission; a refusal. */
const attachLayer = (
  root: string,
  url: URL,
  label: string | undefined,
  ready: Deferred.Deferred<PeerActorShape>,
  refused: Deferred.Deferred<AdmissionRefused | MainNodeUntrusted>,
): Layer.Layer<never, never, WorkerEnv> =>
  Layer.unwrapScoped(
    Effect.gen(function* () {
      const actor = yield* Deferred.await(ready)
      const store = yield* PipelineView
      // Remembers the admission (later starts need no token) and ends the worker when it is refused.
      yield* Effect.forkScoped(
        Effect.flatMap(Deferred.await(actor.refusal), (e) => Deferred.succeed(refused, e)),
      )
      yield* Effect.forkScoped(
        workerCredential.remember(actor, (welcome) =>
          writeAdmission(root, {
            server: welcome.server,
            url: url.toString(),
            node: store.nodeId,
            role: welcome.role,
            admittedAt: welcome.at,
          }),
        ),
      )
      return NodeClientLive({
        url: url.toString(),
        node: store.nodeId,
        credential: workerCredential.ticket(actor),
        ...(label === undefined ? {} : { label }),
        version: buildInfo().version,
      })
    }),
  )

/**
 * Which main node key this start trusts, and the join token it sends. The token is one-time: sent until
 * this node has been admitted once, or again when it names another main key than the pinned one (a
 * re-join: the person who gave it vouches for the new key).
 */
export const mainKeyTrust = (
  admitted: boolean,
  pin: Option.Option<MainKeyPin>,
  token: Option.Option<ReturnType<typeof joinTokenParts>>,
): { readonly joinToken: string | undefined; readonly mainKey: MainKeyExpectation } | WorkerSetupError => {
  const given = Option.getOrUndefined(token)
  if (given?.malformed === true)
    return new WorkerSetupError({
      detail:
        "the join token's part after the dot is not a key digest: copy the token whole, as `huskies token create` printed it",
    })
  const digest = given?.mainKeyDigest
  const rejoin =
    digest !== undefined &&
    Option.match(pin, { onNone: () => true, onSome: (p) => mainKeyDigest(p.publicKey) !== digest })
  if (rejoin) return { joinToken: given?.secret, mainKey: { _tag: "FromToken", digest } }
  const joinToken = admitted ? undefined : given?.secret
  if (Option.isSome(pin)) {
    if (!admitted && joinToken === undefined) return notAdmitted
    return { joinToken, mainKey: { _tag: "Pinned", pin: pin.value } }
  }
  if (admitted) return { joinToken, mainKey: { _tag: "FirstUse" } }
  if (given === undefined) return notAdmitted
  return new WorkerSetupError({
    detail:
      "this join token does not name the main node's key (a huskies older than this worker made it), so the " +
      "worker could not tell the main node from an impostor: upgrade the main node and make a new token " +
      "there with `huskies token create`",
  })
}

const notAdmitted = new WorkerSetupError({
  detail:
    "this node has not been admitted yet: give it a join token (--token T, or HUSKIES_JOIN_TOKEN=T in its environment), made on the main node with `huskies token create`",
})

export const runAgentMode = (args: AgentModeArgs) =>
  Effect.gen(function* () {
    const root = yield* checkProject(args.path)
    const url = rendezvousUrl(args.rendezvous)
    if (url instanceof WorkerSetupError) return yield* url
    const configLayer = yield* Layer.memoize(HuskiesConfigLive(root))
    const config = yield* Effect.flatMap(HuskiesConfig, (c) => c.get).pipe(Effect.provide(configLayer))
    yield* checkClone(root, config.project.nodes.remote).pipe(Effect.provide(Git.Default))
    const admitted = yield* readAdmission(root)
    const trust = mainKeyTrust(
      Option.isSome(admitted),
      yield* readMainKeyPin(root),
      Option.map(args.token, joinTokenParts),
    )
    if (trust instanceof WorkerSetupError) return yield* trust
    const { joinToken, mainKey } = trust
    const refused = yield* Deferred.make<AdmissionRefused | MainNodeUntrusted>()
    const ready = yield* Deferred.make<PeerActorShape>()
    const label = Option.getOrUndefined(args.label)
    const stages = config.project.nodes.workerStages.filter((s) => s !== "mergemaster")
    yield* Console.log(
      `huskies worker for ${root}: syncing with ${url.toString()}, running ${stages.join(", ") || "nothing"}`,
    )
    const listening = yield* Deferred.make<void>()
    const settings: ServeSettings = {
      // The worker's own agents reach its tools here, on loopback only.
      port: 0,
      host: "127.0.0.1",
      durability: config.project.store.durability,
      config: configLayer,
      worker: {
        scheduler: { stages },
        sync: syncLayer(root, url, joinToken, mainKey, label, ready),
        attach: attachLayer(root, url, label, ready, refused),
      },
    }
    // Until interrupted, refused, or its supervision tree gives up on a part that keeps crashing.
    const serve = runServer(
      serverLayer(root, settings, (local) =>
        Effect.zipRight(Console.log(`huskies listening on ${local}`), Deferred.succeed(listening, undefined)),
      ),
    )
    // Acted on once the server is up: interrupting it while its listener is still being built can leave
    // the listener open, and the process with it.
    const whenRefused = Effect.flatMap(
      Effect.zipRight(Deferred.await(listening), Deferred.await(refused)),
      (e) =>
        Effect.fail(
          e._tag === "AdmissionRefused"
            ? new WorkerRefused({
                reason: e.reason,
                // A proof of the token is all this worker sends: a main node from before proofs sees none.
                detail:
                  e.reason === "unknown-node" && joinToken !== undefined
                    ? `${e.detail} (this worker proves its join token without sending it, which a main node ` +
                      "older than this worker does not understand: upgrade the main node first)"
                    : e.detail,
              })
            : new MainNodeRefused({ reason: e.reason, detail: e.detail }),
        ),
    )
    return yield* Effect.raceFirst(serve, whenRefused)
  })
