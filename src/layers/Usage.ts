// src/layers/Usage.ts — the `Usage` service over the token usage ledger `.huskies/logs/usage.jsonl` (one line
// per finished agent run, appended by AgentActor; a bad line logged and skipped) and its aggregation by item,
// agent, model and day for the get_token_usage tool. Append-only: a crash loses at most the line being written.
import { Context, Effect, Either, Schema } from "effect"
import { appendFile, readFile } from "node:fs/promises"
import { dirname, join } from "node:path"
import { privateWrite } from "./privateFiles.js"
import {
  describeParseError,
  ensurePrivateDirAsync,
  errorText,
  logUnreadable,
  UnreadableRecord,
} from "./recordFiles.js"

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

/** Parses ledger text: a last line without its newline that does not decode is a write cut short, skipped. */
export const parseUsage = (text: string, path = "usage.jsonl"): Omit<UsageLedger, "path"> => {
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
          line: i + 1,
          detail: describeParseError(decoded.left),
        }),
      )
  })
  return { records, unreadableLines: unreadable.length, unreadable }
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
      yield* Effect.tryPromise({
        try: () => ensurePrivateDirAsync(dirname(path)).then(() => appendFile(path, line, privateWrite)),
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
