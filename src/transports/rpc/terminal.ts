// src/transports/rpc/terminal.ts — an agent's terminal for /rpc's Terminal: the readable lines of its
// session log (.huskies/logs/<id>/<agent>-<n>.jsonl) as Scrollback, then, while the agent runs, what it
// appends as Output (read as the client takes it, so a slow client never grows a buffer), then Ended.
import { Deferred, Effect, Either, Option, Queue, Schema, Stream } from "effect"
import { watch } from "node:fs"
import { open, stat } from "node:fs/promises"
import { readableLines } from "../../actors/agentOutput.js"
import { AgentEvent } from "../../layers/runtimes/agentEvents.js"
import type { Outcome } from "../../domain/ExecutionState.js"
import type { TerminalChunk } from "../../protocol/uiRpcs.js"

/** At most this much of a log is sent at once; further behind than `maxBehind`, the middle is skipped. */
const chunkBytes = 256 * 1024
const maxBehind = 4 * 1024 * 1024

const decodeEvent = Schema.decodeUnknownEither(AgentEvent)

/** What a person sees of one session-log line (an agent event's readable lines, the process's exit). */
export const readableEntry = (line: string): ReadonlyArray<string> => {
  let entry: unknown
  try {
    entry = JSON.parse(line)
  } catch {
    // A torn or damaged line: get_agent_log reports it; a terminal shows nothing for it.
    return []
  }
  if (typeof entry !== "object" || entry === null) return []
  const record = entry as Record<string, unknown>
  if (record["type"] === "event") {
    const event = decodeEvent(record["event"])
    return Either.isRight(event) ? readableLines(event.right) : []
  }
  if (record["type"] === "session_start")
    return [`── ${String(record["agent"])} session ${String(record["session"])} ──`]
  if (record["type"] === "exit") return [`── ${String(record["outcome"])}: ${String(record["reason"])} ──`]
  return []
}

const toTerminal = (lines: ReadonlyArray<string>): string => lines.map((l) => `${l}\r\n`).join("")

/** The log's length in bytes now; 0 when there is none yet. */
const sizeOf = async (path: string): Promise<number> => (await stat(path).catch(() => undefined))?.size ?? 0

/**
 * Reads a log from a byte offset onwards, whole lines only, skipping ahead past `maxBehind`; given `upTo`,
 * no further than that many bytes into the file.
 */
const reader = (path: string) => {
  let offset = 0
  return (upTo = Infinity) =>
    Effect.promise(async (): Promise<string> => {
      const size = Math.min(await sizeOf(path), upTo)
      let skipped = ""
      if (size - offset > maxBehind) {
        const from = size - maxBehind
        skipped = `\r\n[… ${from - offset} bytes of output not shown …]\r\n`
        offset = from
      }
      if (size <= offset) return skipped
      const handle = await open(path, "r")
      try {
        const length = Math.min(chunkBytes, size - offset)
        const buffer = Buffer.alloc(length)
        const { bytesRead } = await handle.read(buffer, 0, length, offset)
        const text = buffer.subarray(0, bytesRead).toString("utf8")
        const lastNewline = text.lastIndexOf("\n")
        if (lastNewline < 0) {
          if (bytesRead < chunkBytes) return skipped
          // One line longer than a whole chunk: step over it rather than wait for ever on its end.
          offset += bytesRead
          return `${skipped}[… part of a line too long to show …]\r\n`
        }
        const whole = text.slice(0, lastNewline + 1)
        // A skip may land mid-line: what comes before the first newline is a fragment.
        const start = skipped !== "" ? whole.indexOf("\n") + 1 : 0
        offset += Buffer.byteLength(whole)
        return skipped + toTerminal(whole.slice(start).split("\n").flatMap(readableEntry))
      } finally {
        await handle.close()
      }
    })
}

/** A finished session: its log as Scrollback, then Ended. */
export const pastSession = (path: string, outcome: Outcome | undefined): Stream.Stream<TerminalChunk> => {
  const read = reader(path)
  const chunks = Stream.repeatEffectOption(
    Effect.flatMap(read(), (text) => (text === "" ? Effect.fail(Option.none()) : Effect.succeed(text))),
  )
  return Stream.concat(
    Stream.map(chunks, (text): TerminalChunk => ({ _tag: "Scrollback", text })),
    Stream.make<[TerminalChunk]>({ _tag: "Ended", ...(outcome === undefined ? {} : { outcome }) }),
  )
}

/**
 * A running session: what its log holds as Scrollback, then what is appended as Output (woken by the
 * file's change notifications), then, once `ended` resolves and the rest is read, Ended.
 */
export const liveSession = (
  path: string,
  ended: Effect.Effect<Outcome | undefined>,
): Stream.Stream<TerminalChunk> =>
  Stream.unwrapScoped(
    Effect.gen(function* () {
      const changed = yield* Queue.sliding<void>(1)
      yield* Effect.acquireRelease(
        Effect.sync(() => watch(path, () => Queue.unsafeOffer(changed, undefined))),
        (watcher) => Effect.sync(() => watcher.close()),
      )
      const end = yield* Deferred.make<Outcome | undefined>()
      yield* Effect.forkScoped(Effect.flatMap(ended, (outcome) => Deferred.succeed(end, outcome)))
      const read = reader(path)
      // What the log held when the watch began is Scrollback; what is appended after, Output, even when it
      // lands before the scrollback is read.
      const attachedAt = yield* Effect.promise(() => sizeOf(path))
      let scrollback = true
      let finished = false
      const next: Effect.Effect<TerminalChunk, Option.Option<never>> = Effect.gen(function* () {
        for (;;) {
          if (finished) return yield* Effect.fail(Option.none())
          if (scrollback) {
            const text = yield* read(attachedAt)
            if (text !== "") return { _tag: "Scrollback", text } as const
            scrollback = false
          }
          const text = yield* read()
          if (text !== "") return { _tag: "Output", text } as const
          const outcome = yield* Deferred.poll(end)
          if (Option.isSome(outcome)) {
            // Read to the end once more: the last lines may have landed with the exit.
            const rest = yield* read()
            if (rest !== "") return { _tag: "Output", text: rest } as const
            finished = true
            const result = yield* outcome.value
            return { _tag: "Ended", ...(result === undefined ? {} : { outcome: result }) } as const
          }
          yield* Effect.raceFirst(Queue.take(changed), Deferred.await(end))
        }
      })
      return Stream.repeatEffectOption(next)
    }),
  )
