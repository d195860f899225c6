// src/transports/sync/SyncServer.ts — /crdt-sync on the server's port: a node (`?peer=node`) proves who it
// is first (Challenge, Hello, then a Welcome signed with this node's key or a Refusal, as JSON text frames;
// no document byte before Welcome), then speaks y-websocket sync and awareness; any other client the access
// guard admitted gets plain y-websocket, read-only. One session per connection: under serve's tree each is a
// temporary child of the `sync` supervisor, and its failure or defect closes that connection only (logged).
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { HttpServerRequest, HttpServerResponse } from "@effect/platform"
import * as Socket from "@effect/platform/Socket"
import {
  Cause,
  Clock,
  Context,
  Effect,
  Either,
  HashMap,
  Layer,
  Option,
  Queue,
  Ref,
  Schema,
  type Scope,
  Stream,
  SubscriptionRef,
} from "effect"
import * as Actor from "../../actors/Actor.js"
import { ServeTree } from "../../actors/rootSupervisor.js"
import type { Supervisor } from "../../actors/Supervisor.js"
import { withComponent } from "../../layers/Logs.js"
import { Replica } from "../../layers/Replica.js"
import {
  type AdmittedPeer,
  AdmissionRefused,
  Hello,
  NodeAdmission,
  NodeIdentity,
  refusedCloseCode,
  type Refusal,
} from "../../protocol/nodeHandshake.js"
import { signWelcome } from "../../layers/NodeKeys.js"
import type { UpgradeRoute } from "../http/AccessGuard.js"
import { detachedServer } from "../rpc/UiRpcServer.js"
import { makePresence, type PresenceState } from "./presence.js"
import { nextFrame, overSocket, PeerClosed, PeerSilent, runSession, type Wire } from "./session.js"

/** Where nodes and y-websocket clients connect. */
export const syncPath = "/crdt-sync"

/** A connection open now, as the main node admitted it (awareness says what peers say of themselves). */
export interface OnlinePeer {
  readonly connection: number
  readonly node: string
  readonly label: string
  readonly role: "worker" | "read-only"
  readonly connectedAt: number
}

export interface SyncServerShape {
  readonly route: UpgradeRoute
  /** The connections open now, oldest first. */
  readonly online: Effect.Effect<ReadonlyArray<OnlinePeer>>
  /** The open connections now and after every change (a connect, a disconnect). */
  readonly onlineChanges: Stream.Stream<ReadonlyArray<OnlinePeer>>
  /** Every awareness state known now (this node's own included). */
  readonly presence: Effect.Effect<ReadonlyArray<Record<string, unknown>>>
}

export class SyncServer extends Context.Tag("huskies/sync/SyncServer")<SyncServer, SyncServerShape>() {}

export interface SyncServerOptions {
  /** The name this node shows in awareness (default: its node id). */
  readonly label?: string
  /** How often this side's awareness is renewed: every connection's keep-alive (default 10 s). */
  readonly keepAliveMillis?: number
  /** Nothing heard from a peer for this long closes its connection (default 35 s). */
  readonly idleMillis?: number
  /** How long a node has to answer the Challenge (default 10 s). */
  readonly handshakeMillis?: number
}

const oldestFirst = (peers: HashMap.HashMap<number, OnlinePeer>): ReadonlyArray<OnlinePeer> =>
  [...HashMap.values(peers)].sort((a, b) => a.connection - b.connection)

const decodeHello = Schema.decodeUnknownEither(Schema.parseJson(Hello))

const refusalOf = (e: AdmissionRefused): Refusal => ({
  _tag: "Refusal",
  reason: e.reason,
  message: e.message,
  ...(e.supported === undefined ? {} : { supported: e.supported }),
})

/** Sends the Refusal, then the close. */
const sendRefusal = (wire: Wire, e: AdmissionRefused) =>
  Effect.gen(function* () {
    yield* Effect.logWarning(`node refused (${e.reason}): ${e.message}`)
    yield* Queue.offer(wire.outbox, JSON.stringify(refusalOf(e)))
    yield* Queue.offer(wire.outbox, new Socket.CloseEvent(refusedCloseCode, e.reason))
  })

/** Refuses during the handshake: sends the Refusal and the close, and ends once the socket has closed. */
const refuse = (wire: Wire, e: AdmissionRefused, millis: number) =>
  Effect.gen(function* () {
    yield* sendRefusal(wire, e)
    // Whatever the peer still sends is dropped unread; the wait ends with the socket (or its silence),
    // and either end is the refusal's: nothing is lost by not telling them apart.
    yield* Effect.ignore(Effect.forever(nextFrame(wire, "a refused node", millis)))
    return yield* e
  })

/** Ends of a session that are the peer's doing (it left, or went silent): no fault of this server's. */
const peersOwnEnd = (cause: Cause.Cause<unknown>): boolean =>
  Option.match(Cause.failureOption(cause), {
    onNone: () => false,
    onSome: (e) => e instanceof PeerClosed || e instanceof PeerSilent,
  })

/**
 * Runs one connection's session as a temporary child `key` of `connections` (never restarted: the peer dials
 * again), until it ends or this fiber is interrupted; without a supervisor (a server outside serve's tree), in
 * this fiber. A failure or defect of the session is logged here and ends this connection alone.
 */
const supervised = <E>(
  connections: Option.Option<Supervisor>,
  key: string,
  session: Effect.Effect<never, E, Scope.Scope>,
): Effect.Effect<void, E> =>
  Option.match(connections, {
    onNone: () => Effect.scoped(session),
    onSome: (supervisor) =>
      Effect.gen(function* () {
        const spec = Actor.make<never, never, E, Scope.Scope>({
          init: session,
          receive: (state) => Effect.succeed(state),
          mailboxSize: 1,
        })
        const started = yield* Effect.either(supervisor.startChild({ key, restart: "temporary", spec }))
        // Stopped: the server is shutting down (or its tree gave up), so this connection ends with it.
        if (Either.isLeft(started))
          return yield* Effect.logDebug(`${key}: not started (${started.left._tag})`)
        const ref = started.right
        const exit = yield* ref.await.pipe(Effect.onInterrupt(() => ref.stop))
        if (exit._tag !== "Failed") return
        if (peersOwnEnd(exit.cause)) return yield* Effect.logDebug(`${key} ended`, exit.cause)
        yield* Effect.logError(
          `${key} failed: this connection is closed, the others go on, and the peer dials again`,
          exit.cause,
        )
      }),
  })

const make = (options: SyncServerOptions) =>
  Effect.gen(function* () {
    const replica = yield* Replica
    // Under serve's tree, each connection is a child of `sync`, which the tree draws with them.
    const tree = yield* Effect.serviceOption(ServeTree)
    const connections: Option.Option<Supervisor> = Option.isSome(tree)
      ? Option.some(
          yield* tree.value.supervisor("sync", {
            name: "sync",
            strategy: "one_for_one",
            // Its children are temporary: a connection that ends is never restarted, so none counts.
            intensity: 0,
            period: "1 minute",
            // Each connection ends alone; at shutdown they all close together.
            stopAtOnce: true,
          }),
        )
      : Option.none()
    const admission = yield* NodeAdmission
    const identity = yield* NodeIdentity
    const idleMillis = options.idleMillis ?? 35_000
    const handshakeMillis = options.handshakeMillis ?? 10_000
    const own: PresenceState = { node: replica.nodeId, label: options.label ?? replica.nodeId, role: "main" }
    const presence = yield* makePresence(own, options.keepAliveMillis ?? 10_000)
    const online = yield* SubscriptionRef.make(HashMap.empty<number, OnlinePeer>())
    const counter = yield* Ref.make(0)

    /** The Challenge, the node's Hello and the verdict; the admitted peer, or the Refusal sent. */
    const handshake = (wire: Wire) =>
      Effect.gen(function* () {
        const challenge = yield* admission.challenge
        yield* Queue.offer(wire.outbox, JSON.stringify(challenge))
        const answer = yield* nextFrame(wire, "a node", handshakeMillis).pipe(
          Effect.catchTag("PeerSilent", () =>
            Effect.succeed(`no Hello within ${handshakeMillis} ms` as string | Uint8Array),
          ),
        )
        const hello = decodeHello(typeof answer === "string" ? answer : "")
        if (Either.isLeft(hello))
          return yield* refuse(
            wire,
            new AdmissionRefused({
              reason: "malformed",
              detail: `the first frame must be a Hello (JSON text) answering the Challenge; got ${typeof answer === "string" ? "text that is not one" : "a binary frame"}`,
            }),
            handshakeMillis,
          )
        const admitted = yield* Effect.either(admission.admit(challenge, hello.right))
        if (Either.isLeft(admitted)) return yield* refuse(wire, admitted.left, handshakeMillis)
        // Signed over the node's own challenge: a node refuses a main node that cannot sign as the one
        // it pinned.
        const welcome = signWelcome(identity, challenge, hello.right, {
          _tag: "Welcome",
          node: admitted.right.node,
          role: admitted.right.role,
          ticket: admitted.right.ticket,
          protocol: hello.right.protocol,
        })
        yield* Queue.offer(wire.outbox, JSON.stringify(welcome))
        return admitted.right
      })

    /** Closes the connection when its node is revoked. */
    const cutOnRevoke = (wire: Wire, peer: AdmittedPeer) =>
      admission.revocations.pipe(
        Stream.filter((node) => node === peer.node),
        Stream.take(1),
        Stream.runDrain,
        Effect.zipRight(
          sendRefusal(
            wire,
            new AdmissionRefused({ reason: "revoked", detail: `node ${peer.node} was revoked` }),
          ),
        ),
      )

    const serveConnection = (socket: Socket.Socket, asNode: boolean) =>
      overSocket(socket, (wire) =>
        Effect.scoped(
          Effect.gen(function* () {
            const connection = yield* Ref.getAndUpdate(counter, (n) => n + 1)
            const peer: AdmittedPeer | undefined = asNode ? yield* handshake(wire) : undefined
            const who = peer?.node ?? `viewer-${connection}`
            const entry: OnlinePeer = {
              connection,
              node: who,
              label: peer?.label ?? who,
              role: peer?.role ?? "read-only",
              connectedAt: yield* Clock.currentTimeMillis,
            }
            yield* Effect.acquireRelease(SubscriptionRef.update(online, HashMap.set(connection, entry)), () =>
              SubscriptionRef.update(online, HashMap.remove(connection)),
            )
            if (peer !== undefined) {
              yield* Effect.addFinalizer(() => admission.end(peer.ticket))
              yield* Effect.forkScoped(cutOnRevoke(wire, peer))
              yield* Effect.logInfo(`node ${peer.node} (${peer.label}, ${peer.role}) connected`)
              yield* Effect.addFinalizer(() => Effect.logInfo(`node ${peer.node} disconnected`))
            }
            const session = runSession(wire, {
              replica,
              peer: who,
              acceptsWrites: peer?.role === "worker",
              presence,
              idleMillis,
              // Nodes sync the items' history too; a y-websocket client gets the pipeline alone.
              history: peer !== undefined,
            })
            return yield* supervised(
              connections,
              `peer ${entry.label} (${entry.role}, connection ${connection})`,
              session,
            )
          }),
        ),
      ).pipe(
        // One connection's end or failure is that connection's alone: logged, never the server's.
        Effect.catchAllCause((cause) => Effect.logDebug("sync connection ended", cause)),
        withComponent("sync"),
      )

    const app = Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const asNode = new URL(request.url, "http://localhost").searchParams.get("peer") === "node"
      const socket = yield* request.upgrade
      // The platform runs apps uninterruptibly: a connection must stop when its socket closes or the
      // server does, so its session runs interruptible.
      yield* Effect.interruptible(serveConnection(socket, asNode))
      return HttpServerResponse.empty()
    })

    const detached = detachedServer()
    const server = yield* NodeHttpServer.make(() => detached, { port: 0 })
    yield* server.serve(app)
    return {
      route: (req, socket, head) => void detached.emit("upgrade", req, socket, head),
      online: Effect.map(SubscriptionRef.get(online), oldestFirst),
      onlineChanges: Stream.map(online.changes, oldestFirst),
      presence: presence.states,
    } satisfies SyncServerShape
  })

/** /crdt-sync's route over the Replica, admitting nodes through NodeAdmission. */
export const SyncServerLive = (options: SyncServerOptions = {}) => Layer.scoped(SyncServer, make(options))
