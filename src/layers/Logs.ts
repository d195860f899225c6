// src/layers/Logs.ts — structured logging: every log line carries level, time and component, goes
// to stderr and into an in-memory ring buffer that tools (server_logs) read back.
import { Context, Effect, HashMap, Layer, Logger, LogLevel } from "effect"

export interface LogEntry {
  readonly time: number
  readonly level: string
  readonly component: string
  readonly message: string
  readonly fields: Readonly<Record<string, unknown>>
}

export interface LogQuery {
  /** Minimum level, e.g. "Warning" keeps Warning, Error and Fatal. */
  readonly level?: LogLevel.Literal
  /** Case-insensitive substring of the message, component or fields. */
  readonly text?: string
  /** Most recent entries to return. */
  readonly limit?: number
}

/** A fixed-size ring: old entries are overwritten, memory never grows with uptime. */
export class LogRing {
  private readonly entries: Array<LogEntry | undefined>
  private next = 0
  private size = 0
  private readonly listeners = new Set<(entry: LogEntry) => void>()
  constructor(readonly capacity: number) {
    this.entries = new Array<LogEntry | undefined>(capacity)
  }
  push(entry: LogEntry): void {
    this.entries[this.next] = entry
    this.next = (this.next + 1) % this.capacity
    this.size = Math.min(this.size + 1, this.capacity)
    for (const listener of this.listeners) listener(entry)
  }
  /** Calls `listener` with every entry pushed from now on, until the returned function is called. */
  subscribe(listener: (entry: LogEntry) => void): () => void {
    this.listeners.add(listener)
    return () => void this.listeners.delete(listener)
  }
  /** Entries oldest first. */
  toArray(): Array<LogEntry> {
    const out: Array<LogEntry> = []
    const start = (this.next - this.size + this.capacity) % this.capacity
    for (let i = 0; i < this.size; i++) {
      const e = this.entries[(start + i) % this.capacity]
      if (e !== undefined) out.push(e)
    }
    return out
  }
}

const levelOrdinal = (label: string): number =>
  LogLevel.allLevels.find((l) => l.label === label)?.ordinal ?? LogLevel.Info.ordinal

/** Whether an entry passes the query's level and text filters (its limit aside). */
export const logMatcher = (query: LogQuery): ((entry: LogEntry) => boolean) => {
  const min = query.level === undefined ? undefined : LogLevel.fromLiteral(query.level)
  const needle = query.text?.toLowerCase()
  return (e) => {
    if (min !== undefined && levelOrdinal(e.level) < min.ordinal) return false
    if (needle === undefined) return true
    return `${e.component} ${e.message} ${JSON.stringify(e.fields)}`.toLowerCase().includes(needle)
  }
}

export const queryLogs = (ring: LogRing, query: LogQuery): Array<LogEntry> => {
  const matching = ring.toArray().filter(logMatcher(query))
  return query.limit === undefined ? matching : matching.slice(-query.limit)
}

export class LogBuffer extends Context.Tag("huskies/LogBuffer")<
  LogBuffer,
  { readonly ring: LogRing; readonly query: (q: LogQuery) => Effect.Effect<Array<LogEntry>> }
>() {}

const render = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value))

const formatLine = (e: LogEntry): string => {
  const fields = Object.entries(e.fields)
    .map(([k, v]) => ` ${k}=${JSON.stringify(v)}`)
    .join("")
  return `${new Date(e.time).toISOString()} ${e.level.toUpperCase().padEnd(7)} [${e.component}] ${e.message}${fields}\n`
}

const makeLogger = (ring: LogRing, write: (line: string) => void) =>
  Logger.make(({ annotations, date, logLevel, message }) => {
    const parts = Array.isArray(message) ? message : [message]
    const fields: Record<string, unknown> = {}
    let component = "huskies"
    for (const [key, value] of HashMap.toEntries(annotations)) {
      if (key === "component") component = String(value)
      else fields[key] = value
    }
    const entry: LogEntry = {
      time: date.getTime(),
      level: logLevel.label,
      component,
      message: parts.map(render).join(" "),
      fields,
    }
    ring.push(entry)
    write(formatLine(entry))
  })

export interface LogsOptions {
  readonly capacity?: number
  readonly minimumLevel?: LogLevel.LogLevel
  /** Where lines go; stderr by default. Tests pass a collector. */
  readonly write?: (line: string) => void
}

/** Replaces Effect's default logger with the structured one and provides the LogBuffer. */
export const LogsLive = (options: LogsOptions = {}) => {
  const ring = new LogRing(options.capacity ?? 5_000)
  const write = options.write ?? ((line: string) => void process.stderr.write(line))
  const buffer = Layer.succeed(LogBuffer, { ring, query: (q) => Effect.sync(() => queryLogs(ring, q)) })
  return Layer.mergeAll(
    buffer,
    Logger.replace(Logger.defaultLogger, makeLogger(ring, write)),
    Logger.minimumLogLevel(options.minimumLevel ?? LogLevel.Info),
  )
}

/** Tags every log line of `effect` with its component. */
export const withComponent =
  (component: string) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.annotateLogs(effect, "component", component)
