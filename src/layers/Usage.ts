// src/layers/Usage.ts — the `Usage` service over the token usage ledger `.huskies/logs/usage.jsonl` (one line per
// finished run, appended by AgentActor, append-only; a bad line logged and skipped), read whole or from an offset
// (the board's card costs), and its aggregation by item, agent, model and day for the get_token_usage tool.
import { Context, Effect, Either, Schema } from "effect"
import { appendFileSync } from "node:fs"
import { open, readFile } from "node:fs/promises"
import { dirname, join } from "node:path"
import { ensurePrivateDir, privateWrite } from "./privateFiles.js"
import { describeParseError, errorText, logUnreadable, UnreadableRecord } from "./recordFiles.js"

export class UsageLedgerError extends Schema.TaggedError<UsageLedgerError>()("UsageLedgerError", {
  path: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `usage ledger ${this.path}: ${this.detail} (check that .huskies/logs is readable and writable)`
  }
}

const Count = Schema.Number.pipe(Schema.finite(), Schema.nonNegative())

/** One finished agent run, exactly as the ledger stores it. */
export const UsageRecord = Schema.Struct({
  /** When the run finished, ISO 8601. */
  time: Schema.String.pipe(Schema.filter((t) => !Number.isNaN(Date.parse(t)) || "an ISO 8601 time")),
  storyId: Schema.String,
  agent: Schema.String,
  role: Schema.String,
  runtime: Schema.String,
  model: Schema.NullOr(Schema.String),
  session: Schema.Number,
  outcome: Schema.String,
  numTurns: Count,
  inputTokens: Count,
  outputTokens: Count,
  cacheRead: Count,
  cacheCreation: Count,
  /** null when the runtime reports no price. */
  costUsd: Schema.NullOr(Schema.Number.pipe(Schema.finite())),
  /** The CLI's session id when it reported one (absent in lines written before it was recorded). */
  sessionId: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true }),
})
export type UsageRecord = typeof UsageRecord.Type

export const usageLedgerPath = (root: string): string => join(root, ".huskies", "logs", "usage.jsonl")

const encodeLine = (record: UsageRecord): string =>
  JSON.stringify(Schema.encodeSync(UsageRecord)(record)) + "\n"

export interface UsageLedger {
  readonly path: string
  readonly records: ReadonlyArray<UsageRecord>
  /** Lines that are not a record (bad JSON or wrong fields), a torn last line not counted. */
  readonly unreadableLines: number
  /** What is wrong with each of them. */
  readonly unreadable: ReadonlyArray<UnreadableRecord>
}

const decodeRecord = Schema.decodeUnknownEither(Schema.parseJson(UsageRecord))

/**
 * Parses ledger text: a last line without its newline that does not decode is a write cut short, skipped.
 * `firstLine` is the line number of the text's first line in the file (for text read from an offset).
 */
export const parseUsage = (text: string, path = "usage.jsonl", firstLine = 1): Omit<UsageLedger, "path"> => {
  const lines = text.split("\n")
  const complete = text.endsWith("\n") || text === ""
  const records: Array<UsageRecord> = []
  const unreadable: Array<UnreadableRecord> = []
  lines.forEach((line, i) => {
    if (line.trim() === "") return
    const decoded = decodeRecord(line)
    if (Either.isRight(decoded)) records.push(decoded.right)
    else if (!(i === lines.length - 1 && !complete))
      unreadable.push(
        new UnreadableRecord({
          kind: "usage ledger line",
          path,
          line: firstLine + i,
          detail: describeParseError(decoded.left),
        }),
      )
  })
  return { records, unreadableLines: unreadable.length, unreadable }
}

/** Where a reader of the ledger is: the file it read (its inode) and the bytes of whole lines read so far. */
export interface UsageCursor {
  readonly ino: number
  readonly offset: number
  /** Lines before `offset`, so unreadable lines are named by their line in the file. */
  readonly lines: number
}

export const usageCursorStart: UsageCursor = { ino: 0, offset: 0, lines: 0 }

/** The records appended since a cursor, and the cursor after them. */
export interface UsageSince {
  readonly records: ReadonlyArray<UsageRecord>
  readonly cursor: UsageCursor
  /** The file is not the one the cursor read (replaced, or cut shorter): `records` are all of it. */
  readonly restarted: boolean
}

const failure = (path: string) => (e: unknown) => new UsageLedgerError({ path, detail: errorText(e) })

/** The ledger on disk; its default (and only) implementation is `Usage`'s value. */
const ledgerOnDisk = {
  /** Appends one record as one line (creating the directory); it is on disk when this succeeds. */
  append: (root: string, record: UsageRecord): Effect.Effect<void, UsageLedgerError> => {
    const path = usageLedgerPath(root)
    return Effect.gen(function* () {
      // Checked before anything is written: a record that would not read back must not reach the file.
      const line = yield* Effect.try({ try: () => encodeLine(record), catch: failure(path) })
      // One short line, appended synchronously (at the end of a run): microseconds, where the promise
      // versions cost three thread-pool round trips.
      yield* Effect.try({
        try: () => {
          ensurePrivateDir(dirname(path))
          appendFileSync(path, line, privateWrite)
        },
        catch: failure(path),
      })
    })
  },
  /** Every record in the ledger, each unreadable line logged and skipped; no ledger yet means no runs. */
  read: (root: string): Effect.Effect<UsageLedger, UsageLedgerError> => {
    const path = usageLedgerPath(root)
    return Effect.tryPromise({
      try: () =>
        readFile(path, "utf8").catch((e: unknown) => {
          if ((e as NodeJS.ErrnoException).code === "ENOENT") return ""
          throw e
        }),
      catch: failure(path),
    }).pipe(
      Effect.map((text) => ({ path, ...parseUsage(text, path) })),
      Effect.tap((ledger) => Effect.forEach(ledger.unreadable, logUnreadable, { discard: true })),
    )
  },
  /**
   * The records of the lines appended since `cursor` (each unreadable line logged and skipped): a reader
   * that keeps its cursor reads each line once, however long the ledger grows.
   */
  readSince: (root: string, cursor: UsageCursor): Effect.Effect<UsageSince, UsageLedgerError> => {
    const path = usageLedgerPath(root)
    return Effect.tryPromise({ try: () => readSince(path, cursor), catch: failure(path) }).pipe(
      Effect.map((read) => {
        const parsed = parseUsage(read.text, path, read.from.lines + 1)
        const lines = read.from.lines + (read.text.match(/\n/g)?.length ?? 0)
        return {
          ...parsed,
          cursor: { ino: read.ino, offset: read.end, lines },
          restarted: read.restarted,
        }
      }),
      Effect.tap((read) => Effect.forEach(read.unreadable, logUnreadable, { discard: true })),
      Effect.map(({ records, cursor, restarted }) => ({ records, cursor, restarted })),
    )
  },
}

const newline = 0x0a

/** Reads `path` from `cursor` (or from the start, when it is another file now): whole lines only. */
const readSince = async (path: string, cursor: UsageCursor) => {
  const file = await open(path, "r").catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined
    throw e
  })
  if (file === undefined) {
    const restarted = cursor.offset > 0
    return { text: "", from: usageCursorStart, end: usageCursorStart.offset, ino: 0, restarted }
  }
  try {
    const info = await file.stat()
    // Append-only: a file shorter than what was read, or another inode, is a new ledger, read whole.
    const restarted = (cursor.offset > 0 && info.ino !== cursor.ino) || info.size < cursor.offset
    const from = restarted ? usageCursorStart : cursor
    const length = info.size - from.offset
    if (length <= 0) return { text: "", from, end: from.offset, ino: info.ino, restarted }
    const bytes = Buffer.allocUnsafe(length)
    let got = 0
    while (got < length) {
      const { bytesRead } = await file.read(bytes, got, length - got, from.offset + got)
      if (bytesRead === 0) break
      got += bytesRead
    }
    // A line still being written (no newline yet) is left for the next read.
    const whole = bytes.lastIndexOf(newline, got - 1) + 1
    return {
      text: bytes.toString("utf8", 0, whole),
      from,
      end: from.offset + whole,
      ino: info.ino,
      restarted,
    }
  } finally {
    await file.close()
  }
}

/** The usage ledger as a service: tests and other stores can put another in its place. */
export class Usage extends Context.Reference<Usage>()("huskies/Usage", {
  defaultValue: () => ledgerOnDisk,
}) {}

/** Appends one record to the ledger of the project at `root`. */
export const appendUsage = (root: string, record: UsageRecord): Effect.Effect<void, UsageLedgerError> =>
  Effect.flatMap(Usage, (usage) => usage.append(root, record))

/** Every readable record in the ledger of the project at `root` (see `Usage`). */
export const readUsage = (root: string): Effect.Effect<UsageLedger, UsageLedgerError> =>
  Effect.flatMap(Usage, (usage) => usage.read(root))

/** The records appended to the ledger of the project at `root` since `cursor` (see `Usage`). */
export const readUsageSince = (
  root: string,
  cursor: UsageCursor,
): Effect.Effect<UsageSince, UsageLedgerError> =>
  Effect.flatMap(Usage, (usage) => usage.readSince(root, cursor))

/**
 * Tokens already recorded for earlier runs of one CLI session: what a runtime that reports a session's
 * running total (Codex, after a resume) has counted before this run.
 */
export const usageBeforeResume = (
  records: ReadonlyArray<UsageRecord>,
  storyId: string,
  sessionId: string,
): {
  readonly inputTokens: number
  readonly outputTokens: number
  readonly cacheRead: number
  readonly cacheCreation: number
} =>
  records
    .filter((r) => r.storyId === storyId && r.sessionId === sessionId)
    .reduce(
      (sum, r) => ({
        inputTokens: sum.inputTokens + r.inputTokens,
        outputTokens: sum.outputTokens + r.outputTokens,
        cacheRead: sum.cacheRead + r.cacheRead,
        cacheCreation: sum.cacheCreation + r.cacheCreation,
      }),
      { inputTokens: 0, outputTokens: 0, cacheRead: 0, cacheCreation: 0 },
    )

// ---------------------------------------------------------------------------------------- aggregation

export const usageGroups = ["item", "agent", "model", "day"] as const
export type UsageGroup = (typeof usageGroups)[number]

export interface UsageFilters {
  readonly storyId?: string
  readonly agent?: string
  readonly model?: string
  /** `YYYY-MM-DD`: runs on this UTC day or later. */
  readonly since?: string
}

export interface UsageTotals {
  readonly runs: number
  readonly inputTokens: number
  readonly outputTokens: number
  readonly cacheRead: number
  readonly cacheCreation: number
  /** The sum of the known costs: a run without a price counts as 0 here. */
  readonly costUsd: number
  /** How many of the runs had a price; fewer than `runs` means `costUsd` is a lower bound. */
  readonly pricedRuns: number
}

export interface UsageRow extends UsageTotals {
  /** Only the keys grouped by are present. */
  readonly storyId?: string
  readonly agent?: string
  readonly model?: string | null
  readonly day?: string
}

export interface UsageReport {
  readonly rows: ReadonlyArray<UsageRow>
  readonly total: UsageTotals
}

/** A sum of float prices without its binary noise, so 0.1 + 0.2 reads 0.3. */
export const roundUsd = (usd: number): number => Math.round(usd * 1e6) / 1e6

/** The UTC date of an ISO time: `YYYY-MM-DD`. */
export const utcDay = (time: string): string => new Date(Date.parse(time)).toISOString().slice(0, 10)

const zero: UsageTotals = {
  runs: 0,
  inputTokens: 0,
  outputTokens: 0,
  cacheRead: 0,
  cacheCreation: 0,
  costUsd: 0,
  pricedRuns: 0,
}

const add = (totals: UsageTotals, r: UsageRecord): UsageTotals => ({
  runs: totals.runs + 1,
  inputTokens: totals.inputTokens + r.inputTokens,
  outputTokens: totals.outputTokens + r.outputTokens,
  cacheRead: totals.cacheRead + r.cacheRead,
  cacheCreation: totals.cacheCreation + r.cacheCreation,
  costUsd: totals.costUsd + (r.costUsd ?? 0),
  pricedRuns: totals.pricedRuns + (r.costUsd === null ? 0 : 1),
})

const matches = (r: UsageRecord, f: UsageFilters): boolean =>
  (f.storyId === undefined || r.storyId === f.storyId) &&
  (f.agent === undefined || r.agent === f.agent) &&
  (f.model === undefined || r.model === f.model) &&
  (f.since === undefined || utcDay(r.time) >= f.since)

const keysOf = (r: UsageRecord, groupBy: ReadonlyArray<UsageGroup>) => {
  const keys: { storyId?: string; agent?: string; model?: string | null; day?: string } = {}
  for (const group of groupBy) {
    if (group === "item") keys.storyId = r.storyId
    else if (group === "agent") keys.agent = r.agent
    else if (group === "model") keys.model = r.model
    else keys.day = utcDay(r.time)
  }
  return keys
}

// Groups sort by their keys in usageGroups order; a null model sorts first.
const compareRows = (a: UsageRow, b: UsageRow): number => {
  const fields = [
    [a.storyId, b.storyId],
    [a.agent, b.agent],
    [a.model, b.model],
    [a.day, b.day],
  ] as const
  for (const [x, y] of fields) {
    const left = x ?? ""
    const right = y ?? ""
    if (left !== right) return left < right ? -1 : 1
  }
  return 0
}

/** Sums the records that pass `filters`, one row per distinct combination of the `groupBy` keys. */
export const aggregateUsage = (
  records: ReadonlyArray<UsageRecord>,
  filters: UsageFilters,
  groupBy: ReadonlyArray<UsageGroup>,
): UsageReport => {
  const groups = usageGroups.filter((g) => groupBy.includes(g))
  const rows = new Map<string, UsageRow>()
  let total = zero
  for (const record of records) {
    if (!matches(record, filters)) continue
    total = add(total, record)
    const keys = keysOf(record, groups)
    const id = JSON.stringify(groups.map((g) => keys[g === "item" ? "storyId" : g]))
    const current = rows.get(id)
    rows.set(id, { ...keys, ...add(current ?? zero, record) })
  }
  return { rows: [...rows.values()].sort(compareRows), total }
}
