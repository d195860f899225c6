// src/transports/cli/nodeCommands.ts — `huskies token create|list` and `huskies node list|revoke` on the
// main node: join tokens for new worker/read-only nodes (printed once with the digest of this node's key,
// which the new node pins; kept only as a digest) and the trusted nodes in .huskies/nodes.db. They work
// beside a running server, which sees a revoke within ~1 s.
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { Clock, Console, Effect, Schema } from "effect"
import {
  joinTokenText,
  keyFingerprint,
  nodeKeyPath,
  publicKeyText,
  readOrCreateNodeKey,
} from "../../layers/NodeKeys.js"
import { type JoinTokenRecord, nodesDbPath, openTrustDb, type TrustedNode } from "../../layers/nodeTrustDb.js"
import type { NodeRole } from "../../protocol/nodeHandshake.js"
import { checkProject } from "./serve.js"

export class NodeCommandError extends Schema.TaggedError<NodeCommandError>()("NodeCommandError", {
  detail: Schema.String,
}) {
  override get message(): string {
    return this.detail
  }
}

const units: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const longestTtl = 365 * units.d!

/** "90s", "30m", "24h", "7d": a token's lifetime in milliseconds. */
export const parseTtl = (text: string): number | NodeCommandError => {
  const m = /^(\d{1,6})\s*([smhd])$/.exec(text.trim())
  const millis = m === null ? NaN : Number(m[1]) * units[m[2]!]!
  if (!(millis > 0) || millis > longestTtl)
    return new NodeCommandError({
      detail: `--ttl ${JSON.stringify(text)}: expected a number and a unit (s, m, h or d), such as 24h, at most 365d`,
    })
  return millis
}

const at = (millis: number | undefined): string =>
  millis === undefined ? "-" : new Date(millis).toISOString().replace(/\.\d{3}Z$/, "Z")

/** Rows of text in aligned columns, the first row the header. */
const table = (rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")
}

const tokenState = (t: JoinTokenRecord, now: number): string =>
  t.usedAt !== undefined
    ? `used by ${t.usedBy ?? "?"} at ${at(t.usedAt)}`
    : t.expiresAt <= now
      ? "expired"
      : "unused"

/** The join tokens, newest last, with what became of each. */
export const tokenListText = (tokens: ReadonlyArray<JoinTokenRecord>, now: number): string =>
  tokens.length === 0
    ? "no join tokens: make one with `huskies token create`"
    : table([
        ["ID", "ROLE", "CREATED", "EXPIRES", "STATE"],
        ...tokens.map((t) => [t.id, t.role, at(t.createdAt), at(t.expiresAt), tokenState(t, now)]),
      ])

/** A label as a node chose it, safe on a terminal: control characters (escapes, newlines) become "?". */
const printable = (text: string): string =>
  Array.from(text, (c) => {
    const code = c.codePointAt(0) ?? 0
    return code < 0x20 || (code >= 0x7f && code <= 0x9f) ? "?" : c
  }).join("")

/** The nodes this main node has admitted, revoked ones included. */
export const nodeListText = (nodes: ReadonlyArray<TrustedNode>): string =>
  nodes.length === 0
    ? "no nodes have joined: make a join token with `huskies token create`"
    : table([
        ["NODE", "LABEL", "ROLE", "KEY", "ADDED", "LAST ADMITTED", "STATE"],
        ...nodes.map((n) => [
          n.id,
          printable(n.label),
          n.role,
          keyFingerprint(n.publicKey),
          at(n.addedAt),
          at(n.lastSeenAt),
          n.revokedAt === undefined ? "trusted" : `revoked at ${at(n.revokedAt)}`,
        ]),
      ])

/** Makes a join token in the project at `path`: the token (shown this once) and how to use it. */
export const createToken = (path: string, role: NodeRole, ttl: string) =>
  Effect.gen(function* () {
    const root = yield* checkProject(path)
    const millis = parseTtl(ttl)
    if (millis instanceof NodeCommandError) return yield* millis
    const now = yield* Clock.currentTimeMillis
    // The same key serve signs its Welcomes with (made here if the server never ran): the new node checks it.
    const mainKey = publicKeyText(yield* readOrCreateNodeKey(nodeKeyPath(root)))
    const db = yield* openTrustDb(nodesDbPath(root))
    const { token: secret, record } = yield* db.createToken(role, now, millis)
    return {
      token: joinTokenText(secret, mainKey),
      record,
      hint:
        `a one-time join token for one ${role} node (id ${record.id}), valid until ${at(record.expiresAt)}; ` +
        `it is shown only now (.huskies/nodes.db keeps its SHA-256). After its dot it names this main node's ` +
        `key (${keyFingerprint(mainKey)}): the new node trusts only a main node that signs with it. On the new node: ` +
        `huskies agent --rendezvous ws://<this server's host:port> --token <the token> [path]`,
    }
  }).pipe(Effect.scoped)

export const listTokens = (path: string) =>
  Effect.gen(function* () {
    const root = yield* checkProject(path)
    const db = yield* openTrustDb(nodesDbPath(root))
    return tokenListText(yield* db.listTokens, yield* Clock.currentTimeMillis)
  }).pipe(Effect.scoped)

export const listNodes = (path: string) =>
  Effect.gen(function* () {
    const root = yield* checkProject(path)
    const db = yield* openTrustDb(nodesDbPath(root))
    return nodeListText(yield* db.listNodes)
  }).pipe(Effect.scoped)

/** Revokes `node` for good: a running server closes its connections and refuses it from then on. */
export const revokeNode = (path: string, node: string) =>
  Effect.gen(function* () {
    const root = yield* checkProject(path)
    const db = yield* openTrustDb(nodesDbPath(root))
    const result = yield* db.revoke(node, yield* Clock.currentTimeMillis)
    if (result === "unknown")
      return yield* new NodeCommandError({
        detail: `no node ${node} has joined this project: see \`huskies node list\``,
      })
    return result === "revoked"
      ? `revoked ${node}: a running server closes its connections within a second and refuses it from now on`
      : `${node} was revoked already`
  }).pipe(Effect.scoped)

// ------------------------------------------------------------------------------------------ commands

const path = Args.directory({ name: "path", exists: "either" }).pipe(
  Args.withDescription("the main node's project (default: the current directory)"),
  Args.withDefault("."),
)

const role = Options.choice("role", ["worker", "read-only"]).pipe(
  Options.withDescription("what the node may do: worker (claims and runs work) or read-only (replicates)"),
  Options.withDefault("worker" as const),
)

const ttl = Options.text("ttl").pipe(
  Options.withDescription("how long the token may be used: 30m, 24h, 7d... (default 24h)"),
  Options.withDefault("24h"),
)

const tokenCreate = Command.make("create", { role, ttl, path }, (args) =>
  Effect.gen(function* () {
    const made = yield* createToken(args.path, args.role, args.ttl)
    // The token alone on stdout (T=$(huskies token create) works); the explanation on stderr.
    yield* Console.log(made.token)
    yield* Console.error(made.hint)
  }),
).pipe(Command.withDescription("make a one-time join token for a new node (printed once, never stored)"))

const tokenList = Command.make("list", { path }, (args) =>
  Effect.flatMap(listTokens(args.path), Console.log),
).pipe(Command.withDescription("list the join tokens: role, expiry, and which node used each"))

export const tokenCommand = Command.make("token").pipe(
  Command.withDescription("join tokens for nodes that join this main node"),
  Command.withSubcommands([tokenCreate, tokenList]),
)

const nodeList = Command.make("list", { path }, (args) =>
  Effect.flatMap(listNodes(args.path), Console.log),
).pipe(Command.withDescription("list the nodes this main node trusts or has revoked"))

const nodeId = Args.text({ name: "node-id" }).pipe(
  Args.withDescription("the node's id, as `huskies node list` shows it"),
)

const nodeRevoke = Command.make("revoke", { nodeId, path }, (args) =>
  Effect.flatMap(revokeNode(args.path, args.nodeId), Console.log),
).pipe(
  Command.withDescription("revoke a node for good: its connections close and it is never admitted again"),
)

export const nodeCommand = Command.make("node").pipe(
  Command.withDescription("the nodes that joined this main node"),
  Command.withSubcommands([nodeList, nodeRevoke]),
)
