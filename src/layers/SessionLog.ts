// src/layers/SessionLog.ts — the `SessionLog` service over each agent run's session log on disk:
// `.huskies/logs/<id>/<agent>-<n>.jsonl`, one JSON object per line, appended as it happens (a crash loses at
// most the lines of the write under way). AgentActor writes it; get_agent_log and sessions.ts read past sessions.
import { Clock, Context, Effect, Either, Option, Ref, Schema, type Scope } from "effect"
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync, writeSync } from "node:fs"
import { open, readdir, readFile, stat } from "node:fs/promises"
import { join } from "node:path"
import { ensurePrivateDir, privateFileMode } from "./privateFiles.js"
import { describeParseError, errorText, logUnreadable, UnreadableRecord } from "./recordFiles.js"
import { agentNameShape, isAgentNameText } from "../domain/AgentName.js"
import { isStoryId } from "../domain/StoryId.js"

export class SessionLogError extends Schema.TaggedError<SessionLogError>()("SessionLogError", {
  path: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `session log ${this.path}: ${this.detail}`
  }
}

/** One line of a session log: a JSON object with its `type` (session_start, event, output, session_end...). */
export const SessionLogEntry = Schema.Struct(
  { type: Schema.String },
  Schema.Record({ key: Schema.String, value: Schema.Unknown }),
)
export type SessionLogEntry = typeof SessionLogEntry.Type
const decodeEntry = Schema.decodeUnknownEither(Schema.parseJson(SessionLogEntry))

export interface SessionLogFile {
  readonly agent: string
  readonly session: number
  readonly path: string
  readonly bytes: number
  readonly modifiedAt: number
}

export interface SessionLogWriter {
  readonly path: string
  readonly session: number
  readonly append: (entry: Readonly<Record<string, unknown>>) => Effect.Effect<void, SessionLogError>
  /** Appends `entries` in one write. */
  readonly appendAll: (
    entries: ReadonlyArray<Readonly<Record<string, unknown>>>,
  ) => Effect.Effect<void, SessionLogError>
}

/** A log's lines decoded: the entries, and what was wrong with each line that is not one. */
export interface DecodedLines {
  readonly entries: ReadonlyArray<SessionLogEntry>
  readonly unreadable: ReadonlyArray<UnreadableRecord>
}

export const logsDir = (root: string, id: string): string => join(root, ".huskies", "logs", id)

const logName = /^(.+)-(\d+)\.jsonl$/

const byAgentThenSession = (a: SessionLogFile, b: SessionLogFile) =>
  a.agent.localeCompare(b.agent) || a.session - b.session

/** The most recently written of `files` (the later one when two were written at the same time). */
export const latestSessionLog = (files: ReadonlyArray<SessionLogFile>): SessionLogFile | undefined =>
  files.reduce<SessionLogFile | undefined>(
    (latest, f) => (latest === undefined || f.modifiedAt >= latest.modifiedAt ? f : latest),
    undefined,
  )

/** `coder-1 1, qa 1`: the sessions there are, for a message naming them. */
export const describeSessions = (files: ReadonlyArray<SessionLogFile>): string =>
  files.map((f) => `${f.agent} ${f.session}`).join(", ")

/**
 * Decodes the lines of a log. `cut`: the text may end in the middle of a line (a head read, a crash, a
 * writer still writing), and a last line without its newline is left out rather than reported.
 */
export const decodeLines = (text: string, path: string, cut = true): DecodedLines => {
  const lines = text.split("\n")
  const entries: Array<SessionLogEntry> = []
  const unreadable: Array<UnreadableRecord> = []
  lines.forEach((line, i) => {
    if (line.trim() === "") return
    const decoded = decodeEntry(line)
    if (Either.isRight(decoded)) entries.push(decoded.right)
    else if (!(cut && i === lines.length - 1))
      unreadable.push(
        new UnreadableRecord({
          kind: "session log line",
          path,
          line: i + 1,
          detail: describeParseError(decoded.left),
        }),
      )
  })
  return { entries, unreadable }
}

/** Every session log of an item, oldest session first per agent (blocking: for tools and tests). */
export const listSessionLogs = (root: string, id: string): ReadonlyArray<SessionLogFile> => {
  const dir = logsDir(root, id)
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .flatMap((name) => {
      const m = logName.exec(name)
      if (m === null) return []
      const path = join(dir, name)
      const info = statSync(path)
      return [
        { agent: m[1] as string, session: Number(m[2]), path, bytes: info.size, modifiedAt: info.mtimeMs },
      ]
    })
    .sort(byAgentThenSession)
}

/**
 * Reads a session log back whole (blocking: for get_agent_log and tests). A line that is not an entry
 * stays in place as `{ type: "unreadable_line", line, problem }`, so a reader sees what is there; a torn
 * last line is left out.
 */
export const readSessionLog = (path: string, limit?: number): ReadonlyArray<Record<string, unknown>> => {
  const text = readFileSync(path, "utf8")
  const lines = text.split("\n")
  const entries: Array<Record<string, unknown>> = []
  lines.forEach((line, i) => {
    if (line.trim() === "") return
    const decoded = decodeEntry(line)
    if (Either.isRight(decoded)) entries.push(decoded.right)
    else if (i < lines.length - 1)
      entries.push({
        type: "unreadable_line",
        line: line.slice(0, 200),
        problem: describeParseError(decoded.left),
      })
  })
  return limit === undefined ? entries : entries.slice(-limit)
}

const fail = (path: string) => (e: unknown) => new SessionLogError({ path, detail: errorText(e) })

const list = (root: string, id: string): Effect.Effect<ReadonlyArray<SessionLogFile>, SessionLogError> => {
  const dir = logsDir(root, id)
  return Effect.tryPromise({
    try: async () => {
      const names = await readdir(dir).catch((e: unknown) => {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return []
        throw e
      })
      const files = await Promise.all(
        names.map(async (name) => {
          const m = logName.exec(name)
          if (m === null) return []
          const path = join(dir, name)
          const info = await stat(path)
          return [
            {
              agent: m[1] as string,
              session: Number(m[2]),
              path,
              bytes: info.size,
              modifiedAt: info.mtimeMs,
            },
          ]
        }),
      )
      return files.flat().sort(byAgentThenSession)
    },
    catch: fail(dir),
  })
}

/** The highest session number of `agent` among the logs in `dir` (0 when it has none): names only, blocking. */
const sessionsOf = (dir: string, agent: string): number => {
  let names: ReadonlyArray<string>
  try {
    names = readdirSync(dir)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return 0
    throw e
  }
  let max = 0
  for (const name of names) {
    const m = logName.exec(name)
    if (m !== null && m[1] === agent) max = Math.max(max, Number(m[2]))
  }
  return max
}

const logged = (decoded: DecodedLines) =>
  Effect.as(Effect.forEach(decoded.unreadable, logUnreadable, { discard: true }), decoded.entries)

/** The whole log, each line that is not an entry logged and skipped (a torn last line only skipped). */
const read = (path: string): Effect.Effect<ReadonlyArray<SessionLogEntry>, SessionLogError> =>
  Effect.tryPromise({ try: () => readFile(path, "utf8"), catch: fail(path) }).pipe(
    Effect.flatMap((text) => logged(decodeLines(text, path))),
  )

/** The entries in the first `bytes` of a log: where a CLI says who it is, however long the log grew. */
const readHead = (
  path: string,
  bytes: number,
): Effect.Effect<ReadonlyArray<SessionLogEntry>, SessionLogError> =>
  Effect.acquireUseRelease(
    Effect.tryPromise({ try: () => open(path, "r"), catch: fail(path) }),
    (handle) =>
      Effect.tryPromise({
        try: async () => {
          const buffer = Buffer.alloc(bytes)
          const { bytesRead } = await handle.read(buffer, 0, bytes, 0)
          return buffer.subarray(0, bytesRead).toString("utf8")
        },
        catch: fail(path),
      }).pipe(Effect.flatMap((text) => logged(decodeLines(text, path)))),
    // Nothing was written: a failed close loses nothing.
    (handle) => Effect.promise(() => handle.close().catch(() => undefined)),
  )

/** Opens the next session log of `agent` on item `id`: session numbers start at 1 and are never reused. */
const openNext = (
  root: string,
  id: string,
  agent: string,
): Effect.Effect<SessionLogWriter, SessionLogError, Scope.Scope> =>
  Effect.gen(function* () {
    const dir = logsDir(root, id)
    // Checked where names enter (agents.toml, tools); here again because these become file names.
    if (!isAgentNameText(agent) || !isStoryId(id)) {
      return yield* new SessionLogError({
        path: dir,
        detail: `the agent name ${JSON.stringify(agent)} or the item id ${JSON.stringify(id)} is not a plain file name (expected an agent name of ${agentNameShape}, and an id like 12_story_add_login)`,
      })
    }
    // Made and opened synchronously: a directory, a listing of a few names and an exclusive create, each
    // microseconds on a local disk, where promises cost a thread-pool round trip each on the agent start
    // path.
    yield* Effect.try({ try: () => ensurePrivateDir(dir), catch: fail(dir) })
    const first = (yield* Effect.try({ try: () => sessionsOf(dir, agent), catch: fail(dir) })) + 1
    // Created exclusively ("ax"): two runs opening at once cannot both take the same number.
    const claim = (): { readonly session: number; readonly path: string; readonly fd: number } => {
      for (let session = first; ; session++) {
        const path = join(dir, `${agent}-${session}.jsonl`)
        try {
          return { session, path, fd: openSync(path, "ax", privateFileMode) }
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "EEXIST" || session > first + 100) throw e
        }
      }
    }
    const { session, path, fd } = yield* Effect.acquireRelease(
      Effect.try({ try: claim, catch: fail(dir) }),
      // Writes are synchronous, so none is pending; a failure to close loses nothing already written.
      (opened) =>
        Effect.sync(() => {
          try {
            closeSync(opened.fd)
          } catch {
            // Nothing to do: the descriptor is gone either way, and every line was written before.
          }
        }),
    )
    const writer = yield* appender(path, fd)
    yield* writer.append({ type: "session_start", agent, session, storyId: id })
    return { path, session, ...writer } satisfies SessionLogWriter
  })

/** Writes all of `bytes` at the end of the file `fd` (opened for appending); a short write goes on. */
const appendAll = (fd: number, bytes: Buffer) => {
  for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done)
}

/**
 * Appends entries as they come, in the caller's fiber: one write per call, however many entries it carries
 * (AgentActor passes the events of one chunk of output together). A write is a plain append to the page
 * cache, a few microseconds, so it is done synchronously: handing each batch to a writer fiber cost more
 * in wake-ups and hand-offs than the write itself, with 20 agents logging at once. Writes cannot
 * interleave, so lines stay in order. A failed write fails its append and every later one. On release the
 * end marker is written, and only then does the file close.
 */
const appender = (path: string, fd: number) =>
  Effect.gen(function* () {
    const broken = yield* Ref.make(Option.none<SessionLogError>())
    const line = (now: number, entry: Readonly<Record<string, unknown>>) =>
      JSON.stringify({ time: new Date(now).toISOString(), ...entry }) + "\n"
    const write = (entries: ReadonlyArray<Readonly<Record<string, unknown>>>) =>
      Effect.gen(function* () {
        const failure = yield* Ref.get(broken)
        if (Option.isSome(failure)) return yield* failure.value
        if (entries.length === 0) return
        const now = yield* Clock.currentTimeMillis
        let chunk = ""
        for (const entry of entries) chunk += line(now, entry)
        yield* Effect.try({ try: () => appendAll(fd, Buffer.from(chunk)), catch: fail(path) }).pipe(
          Effect.tapError((e) => Ref.set(broken, Option.some(e))),
        )
      })
    yield* Effect.addFinalizer((exit) =>
      // The end marker is best effort: a log we cannot write to must not fail the agent's cleanup.
      Effect.ignore(write([{ type: "session_end", exit: exit._tag }])).pipe(
        // The file closes next and its descriptor may then be reused by another file: nothing more is
        // written through it, a late append fails instead.
        Effect.zipRight(Ref.set(broken, Option.some(fail(path)("the session has ended")))),
      ),
    )
    return {
      append: (entry: Readonly<Record<string, unknown>>) => write([entry]),
      appendAll: write,
    }
  })

/** Session logs on disk as a service: the default reads `.huskies/logs` without blocking and appends in batches. */
export class SessionLog extends Context.Reference<SessionLog>()("huskies/SessionLog", {
  defaultValue: () => ({ list, open: openNext, read, readHead }),
}) {}

/** Opens the next session log for `agent` on item `id` (see `SessionLog`). */
export const openSessionLog = (
  root: string,
  id: string,
  agent: string,
): Effect.Effect<SessionLogWriter, SessionLogError, Scope.Scope> =>
  Effect.flatMap(SessionLog, (logs) => logs.open(root, id, agent))
