// src/layers/recordFiles.ts — what huskies' own record files under `.huskies/` share (pid records, session
// logs, the usage ledger): the error for a record that does not decode, the warning it is logged as, and
// private directories made without blocking (for the chat agents' launch files). Used by AgentPids,
// SessionLog, Usage and the chat agents.
import { Effect, ParseResult, Schema } from "effect"
import { chmod, mkdir } from "node:fs/promises"
import { privateDirMode } from "./privateFiles.js"

/**
 * A record on disk (a pid record file, a line of a session log or of the usage ledger) that is not what
 * its Schema says: it is logged and skipped, never cast and never a crash.
 */
export class UnreadableRecord extends Schema.TaggedError<UnreadableRecord>()("UnreadableRecord", {
  /** What kind of record: "pid record", "session log line", "usage ledger line". */
  kind: Schema.String,
  path: Schema.String,
  /** 1-based, for a line of a file of lines. */
  line: Schema.optional(Schema.Number),
  /** What is wrong with it, as the Schema says. */
  detail: Schema.String,
}) {
  override get message(): string {
    const where = this.line === undefined ? this.path : `${this.path}:${this.line}`
    return `unreadable ${this.kind} at ${where}, skipped: ${this.detail}`
  }
}

/** The parse error as one readable text (which field, what was expected). */
export const describeParseError = (error: ParseResult.ParseError): string =>
  ParseResult.TreeFormatter.formatErrorSync(error)

/** The warning an unreadable record is logged as: the message plus the error's tag and file as fields. */
export const logUnreadable = (error: UnreadableRecord): Effect.Effect<void> =>
  Effect.logWarning(error.message).pipe(Effect.annotateLogs({ error: error._tag, file: error.path }))

/** `ensurePrivateDir` without blocking the event loop: creates `dir` 0700 and tightens an existing one. */
export const ensurePrivateDirAsync = (dir: string): Promise<void> =>
  mkdir(dir, { recursive: true, mode: privateDirMode }).then(() => chmod(dir, privateDirMode))

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e))
