// src/domain/chatCommandErrors.ts — why a chat command line was not understood, or names no item: typed
// errors whose message says what to type instead. Pure; raised by src/domain/chatCommand.ts.
import { Either, Schema } from "effect"
import { StoryId } from "./StoryId.js"
import { Verb, verbHelp, verbs } from "./chatVerbs.js"

const usage = (verb: Verb) => `Usage: ${verbHelp[verb].usage} (e.g. ${verbHelp[verb].example})`

export class EmptyCommand extends Schema.TaggedError<EmptyCommand>()("EmptyCommand", {}) {
  override get message(): string {
    return "Type a command, e.g. status or move 12 qa; help lists them all."
  }
}

export class UnknownCommand extends Schema.TaggedError<UnknownCommand>()("UnknownCommand", {
  given: Schema.String,
  /** The verb closest to what was typed, if one is close. */
  suggestion: Schema.optional(Verb),
}) {
  override get message(): string {
    const head = `Unknown command "${this.given}".`
    return this.suggestion === undefined
      ? `${head} Commands: ${verbs.join(", ")}; help <command> explains one.`
      : `${head} Did you mean ${this.suggestion}? ${usage(this.suggestion)}`
  }
}

/** An argument that is missing, not what the verb takes, or one too many. */
export class BadArgument extends Schema.TaggedError<BadArgument>()("BadArgument", {
  verb: Verb,
  /** As the usage line names it: `<n>`, `<stage>`, `<when>`… */
  argument: Schema.String,
  problem: Schema.Literal("missing", "invalid", "extra"),
  given: Schema.optional(Schema.String),
  /** What would be accepted instead. */
  hint: Schema.optional(Schema.String),
}) {
  override get message(): string {
    const hint = this.hint === undefined ? "" : ` (${this.hint})`
    const head =
      this.problem === "missing"
        ? `${this.verb} needs ${this.argument}${hint}.`
        : this.problem === "invalid"
          ? `${this.verb}: "${this.given ?? ""}" is not a valid ${this.argument}${hint}.`
          : `${this.verb}: "${this.given ?? ""}" is one word too many.`
    return `${head} ${usage(this.verb)}`
  }
}

export type ChatCommandError = EmptyCommand | UnknownCommand | BadArgument

/** The item a number names is not on the board (or the id given is unknown). */
export class ItemNotOnBoard extends Schema.TaggedError<ItemNotOnBoard>()("ItemNotOnBoard", {
  ref: Schema.String,
}) {
  override get message(): string {
    return `No item ${this.ref} on the board: status lists the items.`
  }
}

/** Several items share the number (filed on two nodes at once): the full id tells them apart. */
export class AmbiguousItem extends Schema.TaggedError<AmbiguousItem>()("AmbiguousItem", {
  ref: Schema.String,
  candidates: Schema.Array(StoryId),
}) {
  override get message(): string {
    return `${this.ref} is the number of ${this.candidates.length} items (${this.candidates.join(", ")}): type the full id.`
  }
}

export type ItemRefError = ItemNotOnBoard | AmbiguousItem

/** Optimal string alignment distance (Levenshtein with transpositions): `mvoe` is 1 from `move`. */
const distance = (a: string, b: string): number => {
  const rows: Array<Array<number>> = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  )
  const at = (i: number, j: number) => rows[i]?.[j] ?? 0
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1)
      ;(rows[i] as Array<number>)[j] = best
    }
  }
  return at(a.length, b.length)
}

/**
 * The candidate `word` most likely means: the one it starts (`dep` → depends) if only one, else the
 * nearest within a third of its length (at least 1, at most 2 edits); undefined if none is close.
 */
export const closest = <A extends string>(word: string, candidates: ReadonlyArray<A>): A | undefined => {
  // Long words cost quadratic time for nothing: no candidate is longer than a dozen letters.
  if (word.length === 0 || word.length > 32) return undefined
  const prefixed = candidates.filter((c) => word.length >= 2 && c.startsWith(word))
  if (prefixed.length === 1) return prefixed[0]
  const limit = Math.min(2, Math.max(1, Math.floor(word.length / 3)))
  let best: A | undefined
  let bestDistance = limit + 1
  for (const candidate of candidates) {
    const d = distance(word, candidate)
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return best
}

/** The id a typed item names among `ids` (the board's items). */
export const resolveItemRef = (
  ref: number | StoryId,
  ids: ReadonlyArray<StoryId>,
): Either.Either<StoryId, ItemRefError> => {
  if (typeof ref !== "number") {
    return ids.includes(ref) ? Either.right(ref) : Either.left(new ItemNotOnBoard({ ref }))
  }
  const prefix = `${ref}_`
  const matches = ids.filter((id) => id.startsWith(prefix))
  const [first, second] = matches
  if (first === undefined) return Either.left(new ItemNotOnBoard({ ref: String(ref) }))
  return second === undefined
    ? Either.right(first)
    : Either.left(new AmbiguousItem({ ref: String(ref), candidates: [...matches].sort() }))
}
