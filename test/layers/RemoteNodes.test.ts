// test/layers/RemoteNodes.test.ts — the main node's record of worker nodes: output batches are trimmed of
// what it holds and gaps are said, a session's ring is bounded, its terminal is scrollback then live
// lines then the end, and a command to a node that is gone (or goes) fails with NodeUnreachable.
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Context, Effect, Fiber, Layer, Option, Queue, Stream } from "effect"
import { NodeId } from "../../src/domain/ExecutionState.js"
import { StoryId } from "../../src/domain/StoryId.js"
import { RemoteNodes, RemoteNodesLive, ringMaxLines } from "../../src/layers/RemoteNodes.js"
import type { OutputBatch } from "../../src/protocol/nodeRpcs.js"

const node = NodeId.make("node-w1")
const main = NodeId.make("node-main")
const storyId = StoryId.make("1_story_remote")
const batch = (seq: number, lines: ReadonlyArray<string>, ended?: OutputBatch["ended"]): OutputBatch => ({
  storyId,
  agent: "coder-1",
  session: 1,
  role: "coder",
  seq,
  lines,
  ...(ended === undefined ? {} : { ended }),
})

const remoteNodes = Effect.map(Layer.build(RemoteNodesLive), (c) => Context.get(c, RemoteNodes))

const textOf = (chunks: Iterable<{ readonly _tag: string; readonly text?: string }>) =>
  [...chunks].map((c) => c.text ?? "").join("")

describe("RemoteNodes", () => {
  it.scoped("a resent batch adds only what is new; a gap is said in the terminal", () =>
    Effect.gen(function* () {
      const remote = yield* remoteNodes
      yield* remote.attach(1, { node }, main, 1)
      expect(yield* remote.output(node, batch(1, ["a", "b", "c"]))).toBe(3)
      // A resend after a reconnect overlaps what the main node holds.
      expect(yield* remote.output(node, batch(2, ["b", "c", "d"]))).toBe(4)
      // Lines 5 and 6 were lost on the worker (its buffer overflowed while cut off).
      expect(yield* remote.output(node, batch(7, ["g"], { outcome: "succeeded" }))).toBe(7)
      const terminal = Option.getOrThrow(yield* remote.terminal(storyId))
      const chunks = Chunk.toReadonlyArray(yield* Stream.runCollect(terminal))
      expect(textOf(chunks)).toBe("a\r\nb\r\nc\r\nd\r\n[… 2 lines of output not received …]\r\ng\r\n")
      expect(chunks.at(-1)).toEqual({ _tag: "Ended", outcome: "succeeded" })
      // A node attaching again learns where to resume.
      const again = yield* remote.attach(2, { node }, main, 1)
      expect(again.sessions).toEqual([{ storyId, agent: "coder-1", session: 1, acked: 7 }])
    }),
  )

  it.scoped("a watched session gets its scrollback, then its lines as they come, then its end", () =>
    Effect.gen(function* () {
      const remote = yield* remoteNodes
      yield* remote.attach(1, { node }, main, 1)
      yield* remote.output(node, batch(1, ["first"]))
      const terminal = Option.getOrThrow(yield* remote.terminal(storyId))
      const chunks = yield* Queue.unbounded<{ readonly _tag: string; readonly text?: string }>()
      const watching = yield* terminal.pipe(
        Stream.runForEach((c) => Queue.offer(chunks, c)),
        Effect.fork,
      )
      expect(yield* Queue.take(chunks)).toEqual({ _tag: "Scrollback", text: "first\r\n" })
      yield* remote.output(node, batch(2, ["second"]))
      expect(yield* Queue.take(chunks)).toEqual({ _tag: "Output", text: "second\r\n" })
      yield* remote.output(node, batch(3, [], { outcome: "stopped" }))
      expect(yield* Queue.take(chunks)).toEqual({ _tag: "Ended", outcome: "stopped" })
      yield* Fiber.join(watching)
    }),
  )

  it.scoped("a session's ring keeps the newest lines only", () =>
    Effect.gen(function* () {
      const remote = yield* remoteNodes
      yield* remote.attach(1, { node }, main, 1)
      const lines = Array.from({ length: ringMaxLines + 500 }, (_, i) => `line ${i + 1}`)
      yield* remote.output(node, batch(1, lines, { outcome: "succeeded" }))
      const terminal = Option.getOrThrow(yield* remote.terminal(storyId))
      const shown = textOf(Chunk.toReadonlyArray(yield* Stream.runCollect(terminal))).split("\r\n")
      expect(shown[0]).toBe("line 501")
      expect(shown.at(-2)).toBe(`line ${ringMaxLines + 500}`)
    }),
  )

  it.scoped("a command to a node that is not attached, or leaves before answering, fails", () =>
    Effect.gen(function* () {
      const remote = yield* remoteNodes
      const absent = yield* Effect.flip(remote.stop(node, storyId))
      expect(absent.message).toMatch(/^node node-w1 is not connected/)

      const attached = yield* remote.attach(1, { node }, main, 1)
      expect(attached.sessions).toEqual([])
      const attachment = Option.getOrThrow(yield* remote.attachment(1))
      const stopping = yield* Effect.fork(remote.stop(node, storyId, "ui"))
      const command = yield* Queue.take(attachment.commands)
      expect(command).toEqual(expect.objectContaining({ _tag: "StopAgent", storyId, by: "ui" }))
      yield* remote.detach(1)
      const gone = yield* Effect.flip(Fiber.join(stopping))
      expect(gone.message).toMatch(/disconnected before it answered/)

      // Answered: the reply reaches the caller.
      yield* remote.attach(2, { node }, main, 1)
      const second = Option.getOrThrow(yield* remote.attachment(2))
      const asking = yield* Effect.fork(remote.stop(node, storyId))
      const sent = yield* Queue.take(second.commands)
      yield* remote.stopReply({ requestId: sent.requestId, stopped: true, outcome: "stopped" })
      expect(yield* Fiber.join(asking)).toEqual({
        requestId: sent.requestId,
        stopped: true,
        outcome: "stopped",
      })
    }),
  )
})
